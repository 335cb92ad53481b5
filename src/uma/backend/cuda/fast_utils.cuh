// Helpers of the fused kernels (fast_norm.cu, fast_rope.cu,
// fast_attention.cu): layouts the kernels take, 16-byte vector loads and
// stores that convert to and from float, and warp reductions.
#pragma once

#include <cstdint>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/utils.cuh"

namespace uma::cuda {

// `a` itself when its last axis has unit stride (other strides kept), else a
// row-major copy.
inline array unit_last_stride(const array& a, const Stream& s) {
  if (a.ndim() == 0 || a.strides().back() == 1 || a.shape().back() == 1) return a;
  array tmp(a.shape(), a.dtype(), nullptr, {});
  copy_to_new(a, tmp, s);
  return tmp;
}

// Device scratch of n floats on s, freed (stream-ordered) with the array.
inline array scratch_floats(int64_t n, const Stream& s, float** p) {
  if (n > INT32_MAX) throw std::invalid_argument("[cuda] scratch buffer too large");
  array a(Shape{int32_t(std::max<int64_t>(n, 1))}, float32, nullptr, {});
  *p = static_cast<float*>(out_ptr(a, s));
  return a;
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Elements of T in 16 bytes.
template <typename T>
inline constexpr int kVec = int(16 / sizeof(T));

template <typename T, int N>
struct alignas(16) Pack {
  T v[N];
};

// N elements at p (16-byte aligned when N * sizeof(T) == 16) as floats.
template <typename T, int N>
__device__ inline void load_floats(const T* p, float (&out)[N]) {
  if constexpr (N * sizeof(T) == 16) {
    Pack<T, N> pk = *reinterpret_cast<const Pack<T, N>*>(p);
#pragma unroll
    for (int u = 0; u < N; ++u) out[u] = convert<float>(pk.v[u]);
  } else {
#pragma unroll
    for (int u = 0; u < N; ++u) out[u] = convert<float>(p[u]);
  }
}

template <typename T, int N>
__device__ inline void store_floats(T* p, const float (&in)[N]) {
  if constexpr (N * sizeof(T) == 16) {
    Pack<T, N> pk;
#pragma unroll
    for (int u = 0; u < N; ++u) pk.v[u] = convert<T>(in[u]);
    *reinterpret_cast<Pack<T, N>*>(p) = pk;
  } else {
#pragma unroll
    for (int u = 0; u < N; ++u) p[u] = convert<T>(in[u]);
  }
}

// Sum / max over groups of `width` consecutive lanes (a power of two <= 32);
// every lane of the warp must call it (full mask).
template <int width = 32>
__device__ inline float group_sum(float v) {
#pragma unroll
  for (int o = width / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <int width = 32>
__device__ inline float group_max(float v) {
#pragma unroll
  for (int o = width / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace uma::cuda
