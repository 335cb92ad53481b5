// cuBLAS plumbing of the CUDA backend's matrix products: one handle per
// (calling thread, uma stream), bound to that stream's CUDA stream, and the
// status check that names the failing call.
#pragma once

#include <cublas_v2.h>

#include "uma/core/device.h"

namespace uma::cuda {

// Throws std::runtime_error "[cublas] <what> failed: CUBLAS_STATUS_... (<text>)
// (file:line)"; CUBLAS_STATUS_ALLOC_FAILED throws uma::out_of_memory.
void check_cublas(cublasStatus_t st, const char* what, const char* file, int line);
#define UMA_CUBLAS_CHECK(expr) ::uma::cuda::check_cublas((expr), #expr, __FILE__, __LINE__)

// The cuBLAS handle of the calling thread for stream s, set to s's CUDA
// stream (a handle is never shared between streams, so cuBLAS's default
// workspace of a handle is only used in one stream's order). Made on first
// use; kept for the life of the process.
cublasHandle_t cublas_handle(const Stream& s);

}  // namespace uma::cuda
