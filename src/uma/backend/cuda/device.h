// The CUDA backend's plumbing: error checks, one CUDA stream per uma GPU
// stream, device bytes for arrays (uploaded from the host once, allocated
// stream-ordered from a caching pool) and the fallback that runs a primitive
// without a CUDA kernel on the CPU. Kernels include this and nothing else of
// the runtime.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/primitive.h"

namespace uma::cuda {

// Throws std::runtime_error naming the call, the file and line and CUDA's
// message; out-of-memory errors throw uma::out_of_memory.
void check(cudaError_t e, const char* what, const char* file, int line);
#define UMA_CUDA_CHECK(expr) ::uma::cuda::check((expr), #expr, __FILE__, __LINE__)
// After a kernel launch: a bad launch configuration or an earlier
// asynchronous fault is reported under the kernel's name.
#define UMA_CUDA_LAUNCHED(name) ::uma::cuda::check(cudaGetLastError(), name, __FILE__, __LINE__)

// The CUDA stream of uma stream s (made on first use, non-blocking), with
// its device current on the calling thread.
cudaStream_t stream(const Stream& s);
int sm_count(int device);

// Device bytes: stream-ordered from the device's memory pool (its cache is
// kept, so freeing and allocating again costs no driver call).
void* alloc(size_t bytes, const Stream& s);

// Device address of a's first element on s: the host bytes are uploaded the
// first time (weights once), and device work of another stream that writes
// them is waited for.
const void* in_ptr(const array& a, const Stream& s);
template <typename T>
const T* in(const array& a, const Stream& s) {
  return static_cast<const T*>(in_ptr(a, s));
}
// Gives `out` fresh row-major device data written on s; returns its address.
void* out_ptr(array& out, const Stream& s);
template <typename T>
T* out(array& o, const Stream& s) {
  return static_cast<T*>(out_ptr(o, s));
}
// The same with a layout (data_size elements spanned, strides, flags).
void* out_ptr(array& out, const Stream& s, size_t data_size, Strides strides, Flags flags);

// Runs p's CPU kernel on host copies of the inputs (noting once per
// primitive name on stderr that it has no CUDA kernel). UMA_CUDA_STRICT=1
// throws instead, naming the primitive.
void cpu_fallback(Primitive& p, const std::vector<array>& inputs, std::vector<array>& outputs);
// Whether cpu_fallback may run (the tests of kernels forbid it, so a kernel
// that silently fell back fails them); returns the previous setting.
bool set_cpu_fallback(bool allowed);

// Threads per block and blocks for n independent elements.
inline int blocks_for(size_t n, int threads) { return int(std::min<size_t>((n + threads - 1) / threads, 1u << 30)); }

}  // namespace uma::cuda
