// Row conversions between storage types and float32, the float dtype
// dispatch, and small float32 vector kernels used by the fused fast paths.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/simd/reduce_avx2.h"
#include "uma/core/dtype.h"

namespace uma::cpu {

// Half rows go through the elementwise family's converters (AVX-512 where the
// CPU has it; bfloat16 rounds to nearest even, NaN stays a quiet NaN).
template <typename T>
inline void load_f32(const T* src, float* dst, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if constexpr (std::is_same_v<T, bfloat16_t>) {
    simd::kernels().bf16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n);
  } else if constexpr (std::is_same_v<T, float16_t>) {
    simd::kernels().f16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
  }
}

template <typename T>
inline void store_f32(const float* src, T* dst, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    std::memcpy(dst, src, size_t(n) * 4);
  } else if constexpr (std::is_same_v<T, bfloat16_t>) {
    simd::kernels().f32_to_bf16(src, reinterpret_cast<uint16_t*>(dst), n);
  } else if constexpr (std::is_same_v<T, float16_t>) {
    simd::kernels().f32_to_f16(src, reinterpret_cast<uint16_t*>(dst), n);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }
}

inline float dot_f32(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float s = simd::hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y += alpha * x
inline void axpy_f32(float alpha, const float* x, float* y, int64_t n) {
  __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Calls f(type_tag<T>{}) for the float dtypes; ops promote to one of them, so
// anything else is a bug upstream, reported under the op's name.
template <typename F>
inline void dispatch_float(Dtype t, const char* op, F&& f) {
  switch (t) {
    case Dtype::float32: return f(type_tag<float>{});
    case Dtype::float16: return f(type_tag<float16_t>{});
    case Dtype::bfloat16: return f(type_tag<bfloat16_t>{});
    case Dtype::float64: return f(type_tag<double>{});
    default: throw std::invalid_argument(std::string("[") + op + "] unsupported dtype " + dtype_name(t));
  }
}

}  // namespace uma::cpu
