// AVX2 inner loops of the reductions: contiguous rows reduced to one value and
// contiguous rows accumulated into a vector of partial results. Half types are
// widened to float32 on load. Included by floor-tier (x86-64-v3) files only.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "uma/backend/cpu/simd/vec.h"
#include "uma/core/dtype.h"

namespace uma::cpu::simd {

// 8 consecutive elements as float32.
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const float16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256 load8(const bfloat16_t* p) {
  __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

// The horizontal reductions of the vector layer (vec.h), at 8 lanes.
using avx2::hmax;
using avx2::hmin;
using avx2::hsum;

// Sum of n contiguous elements. Blocks of up to 4096 are summed in 32 float32
// lanes (about 128 additions per lane), block sums in float64: the error stays
// near float32 rounding of the result even for 2^26 elements.
template <typename T>
double sum_row(const T* p, int64_t n) {
  double total = 0;
  int64_t i = 0;
  int64_t main_end = n - n % 32;
  while (i < main_end) {
    int64_t end = std::min<int64_t>(main_end, i + 4096);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; i < end; i += 32) {
      a0 = _mm256_add_ps(a0, load8(p + i));
      a1 = _mm256_add_ps(a1, load8(p + i + 8));
      a2 = _mm256_add_ps(a2, load8(p + i + 16));
      a3 = _mm256_add_ps(a3, load8(p + i + 24));
    }
    total += double(hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))));
  }
  for (; i < n; ++i) total += double(static_cast<float>(p[i]));
  return total;
}

inline double sum_row(const double* p, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_pd(a0, _mm256_loadu_pd(p + i));
    a1 = _mm256_add_pd(a1, _mm256_loadu_pd(p + i + 4));
    a2 = _mm256_add_pd(a2, _mm256_loadu_pd(p + i + 8));
    a3 = _mm256_add_pd(a3, _mm256_loadu_pd(p + i + 12));
  }
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  double s = (t[0] + t[1]) + (t[2] + t[3]);
  for (; i < n; ++i) s += p[i];
  return s;
}

// acc[j] += p[j] for j < n, in float64.
template <typename T>
void sum_col(double* acc, const T* p, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 x = load8(p + j);
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    _mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), lo));
    _mm256_storeu_pd(acc + j + 4, _mm256_add_pd(_mm256_loadu_pd(acc + j + 4), hi));
  }
  for (; j < n; ++j) acc[j] += double(static_cast<float>(p[j]));
}

// acc[j] += sum over r < rows of p[r * rs + j]. Eight rows are added in
// float32 registers before each float64 update, so the accumulator row is
// loaded and stored once per eight input rows.
template <typename T>
void sum_cols(double* acc, const T* p, int64_t n, int64_t rows, int64_t rs) {
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    const T* q = p + r * rs;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      __m256 s0 = _mm256_add_ps(load8(q + j), load8(q + rs + j));
      __m256 s1 = _mm256_add_ps(load8(q + 2 * rs + j), load8(q + 3 * rs + j));
      __m256 s2 = _mm256_add_ps(load8(q + 4 * rs + j), load8(q + 5 * rs + j));
      __m256 s3 = _mm256_add_ps(load8(q + 6 * rs + j), load8(q + 7 * rs + j));
      __m256 x = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
      __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
      __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
      _mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), lo));
      _mm256_storeu_pd(acc + j + 4, _mm256_add_pd(_mm256_loadu_pd(acc + j + 4), hi));
    }
    for (; j < n; ++j) {
      for (int k = 0; k < 8; ++k) acc[j] += double(static_cast<float>(q[k * rs + j]));
    }
  }
  for (; r < rows; ++r) sum_col(acc, p + r * rs, n);
}

inline void sum_col(double* acc, const double* p, int64_t n) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) _mm256_storeu_pd(acc + j, _mm256_add_pd(_mm256_loadu_pd(acc + j), _mm256_loadu_pd(p + j)));
  for (; j < n; ++j) acc[j] += p[j];
}

// Max (Max=true) or min of n contiguous elements as float32; NaN if any is NaN.
template <bool Max, typename T>
float extreme_row(const T* p, int64_t n) {
  const float init = Max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  __m256 m0 = _mm256_set1_ps(init), m1 = m0, m2 = m0, m3 = m0, nan = _mm256_setzero_ps();
  auto ext = [](__m256 a, __m256 b) { return Max ? _mm256_max_ps(a, b) : _mm256_min_ps(a, b); };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 x0 = load8(p + i), x1 = load8(p + i + 8), x2 = load8(p + i + 16), x3 = load8(p + i + 24);
    m0 = ext(m0, x0);
    m1 = ext(m1, x1);
    m2 = ext(m2, x2);
    m3 = ext(m3, x3);
    // Any NaN among the four: tracked apart, as max_ps drops NaN operands.
    nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(x0, x1, _CMP_UNORD_Q), _mm256_cmp_ps(x2, x3, _CMP_UNORD_Q)));
  }
  if (_mm256_movemask_ps(nan)) return std::numeric_limits<float>::quiet_NaN();
  __m256 mv = ext(ext(m0, m1), ext(m2, m3));
  float m = Max ? hmax(mv) : hmin(mv);
  for (; i < n; ++i) {
    float v = static_cast<float>(p[i]);
    if (std::isnan(v)) return v;
    m = Max ? (v > m ? v : m) : (v < m ? v : m);
  }
  return m;
}

// acc[j] = extreme(acc[j], p[j]); NaN propagates.
template <bool Max, typename T>
void extreme_col(float* acc, const T* p, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 a = _mm256_loadu_ps(acc + j), x = load8(p + j);
    // max_ps returns its second operand when either is NaN: keep a NaN acc.
    __m256 r = Max ? _mm256_max_ps(a, x) : _mm256_min_ps(a, x);
    _mm256_storeu_ps(acc + j, _mm256_blendv_ps(r, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)));
  }
  for (; j < n; ++j) {
    float a = acc[j], v = static_cast<float>(p[j]);
    if (!std::isnan(a) && (std::isnan(v) || (Max ? v > a : v < a))) acc[j] = v;
  }
}

}  // namespace uma::cpu::simd
