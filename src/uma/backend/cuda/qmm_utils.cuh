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

// The sum of v over the warp's lanes, in every lane.
__device__ inline float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The decode kernels' epilogue: each warp holds partial sums for MT rows of
// x and ROWS rows of W (from row m0 of x, n0 of W); their warp sums go to out
// (rows x N of T), the parts inside the matrix only.
template <typename T, int MT, int ROWS>
__device__ inline void store_warp_sums(const float (&acc)[MT][ROWS], T* out, int64_t m0, int64_t n0, int64_t rows,
                                       int64_t N, int lane) {
#pragma unroll
  for (int m = 0; m < MT; ++m) {
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      const float v = warp_sum(acc[m][r]);
      if (lane == 0 && m0 + m < rows && n0 + r < N) out[(m0 + m) * N + n0 + r] = convert<T>(v);
    }
  }
}

// Byte j of v (an unsigned code below 2^23) as an exact float: the byte
// placed in the mantissa of 2^23 by one byte permute, then 2^23 subtracted
// (cheaper than an integer-to-float conversion, whose throughput limits the
// decode kernels).
template <int J>
__device__ inline float byte_float(uint32_t v) {
  return __int_as_float(int(__byte_perm(v, 0x4B000000u, 0x7650 | J))) - 8388608.f;
}

// 8 consecutive values of T at p (16-byte aligned for half types, 32 for
// float) as floats.
template <typename T>
__device__ inline void load8(const T* p, float (&v)[8]) {
  if constexpr (std::is_same_v<T, float>) {
    const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
  } else {
    const uint4 u = *reinterpret_cast<const uint4*>(p);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        v[2 * i] = __uint_as_float(w[i] << 16);
        v[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
      } else {
        const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&w[i]));
        v[2 * i] = f.x, v[2 * i + 1] = f.y;
      }
    }
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
