// AVX-512 versions of the float32 softmax / logsumexp rows: 16 lanes, masked
// tails, the same exp as exp_avx2.h (Cephes polynomial, the same clamps and
// flushes) with 2^n applied by scalef.
#include "uma/backend/cpu/simd/softmax_avx512.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

// GCC 12 flags the deliberately undefined source of its own masked-load
// and reduce intrinsics (avx512fintrin.h); no uninitialized lane is read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace uma::cpu::avx512 {

namespace {

inline __m512 exp16(__m512 x) {
  const __m512 hi = _mm512_set1_ps(88.72283935546875f);
  const __m512 lo = _mm512_set1_ps(-87.33654022216797f);
  __m512 xc = _mm512_max_ps(lo, _mm512_min_ps(hi, x));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  y = _mm512_scalef_ps(y, n);
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), y, _mm512_setzero_ps());
  y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), y, _mm512_set1_ps(INFINITY));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

inline __mmask16 tail_mask(int64_t left) { return __mmask16((1u << left) - 1); }

// Max of the row; NaN if any element is NaN.
float row_max(const float* x, int64_t n) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 m0 = ninf, m1 = ninf;
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    m0 = _mm512_max_ps(m0, a);
    m1 = _mm512_max_ps(m1, b);
    nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    __m512 a = _mm512_mask_loadu_ps(ninf, k, x + i);
    m0 = _mm512_max_ps(m0, a);
    nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  }
  if (nan) return std::numeric_limits<float>::quiet_NaN();
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

// e[j] = exp(x[j] - m) (e may be null); returns the sum.
double exp_shift_sum(const float* x, float m, float* e, int64_t n) {
  __m512 vm = _mm512_set1_ps(m), s0 = _mm512_setzero_ps(), s1 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
    __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm));
    if (e) {
      _mm512_storeu_ps(e + i, e0);
      _mm512_storeu_ps(e + i + 16, e1);
    }
    s0 = _mm512_add_ps(s0, e0);
    s1 = _mm512_add_ps(s1, e1);
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? __mmask16(0xffff) : tail_mask(n - i);
    __m512 e0 = _mm512_maskz_mov_ps(k, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm)));
    if (e) _mm512_mask_storeu_ps(e + i, k, e0);
    s0 = _mm512_add_ps(s0, e0);
  }
  return double(_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));
}

}  // namespace

void softmax_row(const float* x, float* y, int64_t n) {
  float m = row_max(x, n);
  __m512 inv = _mm512_set1_ps(float(1.0 / exp_shift_sum(x, m, y, n)));
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
  if (i < n) {
    __mmask16 k = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), inv));
  }
}

double logsumexp_row(const float* x, int64_t n) {
  float m = row_max(x, n);
  if (std::isnan(m) || std::isinf(m)) return m;
  return double(m) + std::log(exp_shift_sum(x, m, nullptr, n));
}

}  // namespace uma::cpu::avx512
