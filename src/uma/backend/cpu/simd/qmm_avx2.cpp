// Quantized matrix-vector row kernels for 4- and 8-bit affine weights, x @ W.T
// (the Linear layout), on the AVX2/FMA floor: codes are unpacked in
// registers and multiplied in float32 with x, one output at a time; nothing
// of W is written back. Per output row n and input row m:
//
//   y = sum_g s_g * (sum_{k in g} x_k q_k) + sum_g b_g * xsum_g
//
// with xsum_g the group sums of x (computed once per row of x by the caller).
// Exact integer codes times float32 x, float32 accumulation: see
// backend/cpu/quantized_matmul.cpp for the error bound.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/simd/qmm_tiles.h"
#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu {

namespace {

using simd::avx2::hsum8;

// sum_g s_g * sum_{k in g} x_k q_k for one 4-bit row. xp is x in the order of
// qmm_prepare_x: within a 64-block, word j's code i multiplies xp[8i + j].
float row_dot4(const uint32_t* w, const float* xp, const float* s, int64_t K, int gs) {
  const __m256i low4 = _mm256_set1_epi32(0xF);
  __m256 total = _mm256_setzero_ps();
  int64_t chunks = K / 64;
  for (int64_t c = 0; c < chunks; ++c) {
    __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 8 * c));
    const float* xc = xp + 64 * c;
    // Two chains so the FMAs of one chunk overlap.
    __m256 a0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(wv, low4)), _mm256_loadu_ps(xc));
    __m256 a1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 4), low4)),
                              _mm256_loadu_ps(xc + 8));
    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 8), low4)),
                         _mm256_loadu_ps(xc + 16), a0);
    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 12), low4)),
                         _mm256_loadu_ps(xc + 24), a1);
    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 16), low4)),
                         _mm256_loadu_ps(xc + 32), a0);
    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 20), low4)),
                         _mm256_loadu_ps(xc + 40), a1);
    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(wv, 24), low4)),
                         _mm256_loadu_ps(xc + 48), a0);
    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(wv, 28)), _mm256_loadu_ps(xc + 56), a1);
    // Lanes are words: with groups of 32 the low four words are group 2c
    // and the high four group 2c + 1; larger groups span the whole chunk.
    __m256 sv = gs == 32 ? _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(s[2 * c])),
                                                _mm_set1_ps(s[2 * c + 1]), 1)
                         : _mm256_set1_ps(s[64 * c / gs]);
    total = _mm256_fmadd_ps(_mm256_add_ps(a0, a1), sv, total);
  }
  float t = hsum8(total);
  if (K % 64) {  // one trailing group of 32 (groups of 32 only), x in order
    int64_t base = chunks * 64;
    float acc = 0.f;
    for (int j = 0; j < 4; ++j) {
      uint32_t word = w[8 * chunks + j];
      for (int i = 0; i < 8; ++i) acc += float((word >> (4 * i)) & 0xF) * xp[base + 8 * j + i];
    }
    t += s[base / gs] * acc;
  }
  return t;
}

// The same for 8-bit rows: one byte per code, x in order.
float row_dot8(const uint32_t* w, const float* x, const float* s, int64_t K, int gs) {
  const auto* wb = reinterpret_cast<const uint8_t*>(w);
  __m256 total = _mm256_setzero_ps();
  for (int64_t g = 0, G = K / gs; g < G; ++g) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (int64_t k = g * gs, e = k + gs; k < e; k += 16) {
      __m256i q0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(wb + k)));
      __m256i q1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(wb + k + 8)));
      a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q0), _mm256_loadu_ps(x + k), a0);
      a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q1), _mm256_loadu_ps(x + k + 8), a1);
    }
    total = _mm256_fmadd_ps(_mm256_add_ps(a0, a1), _mm256_set1_ps(s[g]), total);
  }
  return hsum8(total);
}

}  // namespace

void qmm_prepare_x(const float* x, int64_t K, int bits, float* out) {
  int64_t k = 0;
  if (bits == 4) {
    for (; k + 64 <= K; k += 64) {
      for (int j = 0; j < 8; ++j) {
        for (int i = 0; i < 8; ++i) out[k + 8 * i + j] = x[k + 8 * j + i];
      }
    }
  }
  std::memcpy(out + k, x + k, size_t(K - k) * sizeof(float));
}

void qmm_rows_avx2(const QmmRows& a, int64_t n0, int64_t n1) {
  const int64_t G = a.K / a.group_size, words = a.K * a.bits / 32;
  std::vector<float> s(G), b(G);
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t g = 0; g < G; ++g) {
      s[g] = qmm_param(a.scales, n * G + g, a.format);
      b[g] = qmm_param(a.biases, n * G + g, a.format);
    }
    const uint32_t* wr = a.w + n * words;
    for (int64_t m = 0; m < a.M; ++m) {
      const float* xm = a.x + m * a.K;
      float dot = a.bits == 4 ? row_dot4(wr, xm, s.data(), a.K, a.group_size)
                              : row_dot8(wr, xm, s.data(), a.K, a.group_size);
      const float* xs = a.xsum + m * G;
      float bias_term = 0.f;
      for (int64_t g = 0; g < G; ++g) bias_term += b[g] * xs[g];
      a.y[m * a.ldy + n] = dot + bias_term;
    }
  }
}

}  // namespace uma::cpu
