// Shared by the quantized products of the CUDA backend (quantized.cu,
// gguf.cu): the dtypes they compute in, and the prefill product of x with a
// matrix decoded into x's dtype.
#pragma once

#include "uma/backend/cuda/matmul.h"
#include "uma/backend/cuda/utils.cuh"

namespace uma::cuda {

// f(type_tag<T>{}) for float16, bfloat16 and float32; false for other dtypes.
template <typename F>
bool dispatch_qmm_float(Dtype t, F&& f) {
  switch (t) {
    case Dtype::float16: f(type_tag<__half>{}); return true;
    case Dtype::bfloat16: f(type_tag<__nv_bfloat16>{}); return true;
    case Dtype::float32: f(type_tag<float>{}); return true;
    default: return false;
  }
}

template <typename T>
constexpr cudaDataType_t cublas_type() {
  if constexpr (std::is_same_v<T, __half>) {
    return CUDA_R_16F;
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return CUDA_R_16BF;
  } else {
    return CUDA_R_32F;
  }
}

// out (rows x N, row-major) = x (rows x K) @ W.T for W (N, K) (transpose) or
// x @ W for W (K, N), all row-major of T, float32 accumulation, on s. In
// cuBLAS's column-major view: out^T = op(W) @ x^T.
template <typename T>
void gemm_x_w(const Stream& s, const T* x, const T* w, void* out, int64_t rows, int64_t N, int64_t K,
              bool transpose) {
  const float one = 1.f, zero = 0.f;
  constexpr cudaDataType_t ty = cublas_type<T>();
  UMA_CUBLAS_CHECK(cublasGemmEx(cublas_handle(s), transpose ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, int(N),
                                int(rows), int(K), &one, w, ty, transpose ? int(K) : int(N), x, ty, int(K), &zero,
                                out, ty, int(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace uma::cuda
