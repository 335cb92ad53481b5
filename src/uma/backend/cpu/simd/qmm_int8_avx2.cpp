// Integer quantized_matmul kernels on the AVX2 floor, x @ W.T for 4- and
// 8-bit affine weights: x is rounded to integers per weight group (int8 for
// 4-bit W, int16 for 8-bit W; quantized.h states the error) and each group's
// dot product is an exact integer sum, scaled once per group in float32:
//
//   y = sum_g s_g dx_g (sum_{k in g} q_k xq_k) + sum_g b_g xsum_g
//
// 4-bit: a 32-byte load holds 64 codes, byte j codes 2j (low nibble) and
// 2j + 1 (high); x comes in the matching order (evens, then odds).
// `vpmaddubsw` (u8 x s8 -> s16 pairs, at most 2 * 15 * 127, no saturation)
// then `vpmaddwd` against ones (-> s32). 8-bit: codes widened to 16 bits
// (`vpmovzxbw`) and multiplied with the int16 x by `vpmaddwd` (pairs at most
// 2 * 255 * 32767 < 2^31).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/simd/qmm_tiles.h"
#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu {

namespace {

using simd::avx2::hsum8;
using simd::avx2::quantize32;

// How far ahead decode fetches W (rounded up to whole rows): 4 KiB was
// best on the AVX2 EPYC (2-16 KiB within noise, none 10% slower).
constexpr int64_t kPrefetchBytes = 4096;

// The integer part of one step for one (x row, W row) pair, as 8 int32
// lanes whose sum is the step's sum of products.
inline __m256i dot4(__m256i lo, __m256i hi, const int8_t* x) {
  __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))),
                               _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32))));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}
inline __m256i dot8(__m256i w0, __m256i w1, const int16_t* x) {
  return _mm256_add_epi32(_mm256_madd_epi16(w0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))),
                          _mm256_madd_epi16(w1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16))));
}

// y for RM rows of x from m0 and RN rows of W from n0, over all of K. s and
// b: the RN rows' scales and (effective) biases in float32, G each; sd:
// room for the RM x RN x G products s_g dx_g (8 floats a step for GS 32).
template <int BITS, int GS, int RM, int RN>
void avx2_tile(const QmmInt8& a, int64_t m0, int64_t n0, const float* s, const float* b, float* sd) {
  const int64_t K = a.K, G = K / GS, row_bytes = K * BITS / 8;
  const uint8_t* w = reinterpret_cast<const uint8_t*>(a.w) + n0 * row_bytes;
  const int8_t* x = a.xq + m0 * K;  // 4-bit; 8-bit reads a.xw
  // Scale products for the whole tile first, so the loop only loads them:
  // pair p = i * RN + j at sd + p * SD. With groups of 32 (4-bit), a step
  // of 64 codes covers two groups: 8 floats [a a a a b b b b] per step.
  constexpr bool pairs = BITS == 4 && GS == 32;
  const int64_t SD = pairs ? 4 * G + 8 : G;
  for (int i = 0; i < RM; ++i) {
    const float* dx = a.dx + (m0 + i) * G;
    for (int j = 0; j < RN; ++j) {
      float* out = sd + (i * RN + j) * SD;
      const float* sj = s + j * G;
      if constexpr (pairs) {
        for (int64_t g = 0; g < G; ++g) {
          float v = sj[g] * dx[g];
          float* o = out + 8 * (g / 2) + 4 * (g % 2);
          o[0] = o[1] = o[2] = o[3] = v;
        }
      } else {
        for (int64_t g = 0; g < G; ++g) out[g] = sj[g] * dx[g];
      }
    }
  }
  // Decode streams W once, a row at a time (RN == 1): U = 2 steps an
  // iteration, a cache line of the row, each into its own accumulators so
  // the adds do not wait on each other; and fetch ahead by about
  // kPrefetchBytes of the same stretch (the next rows are adjacent).
  constexpr int U = RN == 1 ? 2 : 1;
  const int64_t ahead = RM == 1 ? (kPrefetchBytes + row_bytes - 1) / row_bytes * row_bytes : 0;
  __m256 acc[U][RM][RN];
  for (int u = 0; u < U; ++u) {
    for (int i = 0; i < RM; ++i) {
      for (int j = 0; j < RN; ++j) acc[u][i][j] = _mm256_setzero_ps();
    }
  }
  auto prefetch = [&](int64_t t) {
    if (ahead) {
      for (int j = 0; j < RN; ++j) {
        _mm_prefetch(reinterpret_cast<const char*>(w + j * row_bytes + 32 * t + ahead), _MM_HINT_T0);
      }
    }
  };
  if constexpr (BITS == 4) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    const int64_t steps = K / 64;  // 64 codes (32 bytes) per row per step
    auto step = [&](int64_t t, __m256(&ac)[RM][RN]) {
      __m256i lo[RN], hi[RN];
      for (int j = 0; j < RN; ++j) {
        __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * row_bytes + 32 * t));
        lo[j] = _mm256_and_si256(v, mask);
        hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
      }
      for (int i = 0; i < RM; ++i) {
        for (int j = 0; j < RN; ++j) {
          __m256 f = _mm256_cvtepi32_ps(dot4(lo[j], hi[j], x + i * K + 64 * t));
          const float* p = sd + (i * RN + j) * SD;
          __m256 sc = pairs ? _mm256_loadu_ps(p + 8 * t) : _mm256_broadcast_ss(p + t * 64 / GS);
          ac[i][j] = _mm256_fmadd_ps(f, sc, ac[i][j]);
        }
      }
    };
    int64_t t = 0;
    for (; t + 2 <= steps; t += 2) {  // a cache line of each row
      prefetch(t);
      step(t, acc[0]);
      step(t + 1, acc[U - 1]);
    }
    if (t < steps) step(t, acc[0]);
    if (GS == 32 && K % 64) {  // a last group of 32: 16 bytes, x as [evens, odds]
      const __m128i m16 = _mm_set1_epi8(0x0F);
      for (int j = 0; j < RN; ++j) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + j * row_bytes + 32 * steps));
        __m256i codes = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m16), _mm_and_si128(v, m16));
        for (int i = 0; i < RM; ++i) {
          __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i * K + 64 * steps));
          __m256i d = _mm256_madd_epi16(_mm256_maddubs_epi16(codes, xv), _mm256_set1_epi16(1));
          // The step's first four lanes hold this group's product.
          acc[0][i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d),
                                         _mm256_broadcast_ss(sd + (i * RN + j) * SD + 8 * steps), acc[0][i][j]);
        }
      }
    }
  } else {
    const int16_t* xw = a.xw + m0 * K;
    const int64_t steps = K / 32;  // 32 codes (bytes) per row per step
    auto step = [&](int64_t t, __m256(&ac)[RM][RN]) {
      __m256i w0[RN], w1[RN];
      for (int j = 0; j < RN; ++j) {
        const uint8_t* wj = w + j * row_bytes + 32 * t;
        w0[j] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wj)));
        w1[j] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wj + 16)));
      }
      for (int i = 0; i < RM; ++i) {
        for (int j = 0; j < RN; ++j) {
          __m256 f = _mm256_cvtepi32_ps(dot8(w0[j], w1[j], xw + i * K + 32 * t));
          ac[i][j] = _mm256_fmadd_ps(f, _mm256_broadcast_ss(sd + (i * RN + j) * SD + t * 32 / GS), ac[i][j]);
        }
      }
    };
    int64_t t = 0;
    for (; t + 2 <= steps; t += 2) {
      prefetch(t);
      step(t, acc[0]);
      step(t + 1, acc[U - 1]);
    }
    if (t < steps) step(t, acc[0]);
  }
  if constexpr (U == 2) {
    for (int i = 0; i < RM; ++i) {
      for (int j = 0; j < RN; ++j) acc[0][i][j] = _mm256_add_ps(acc[0][i][j], acc[1][i][j]);
    }
  }
  // The bias terms sum_g b_g xsum_g, folded into the same lanes.
  for (int i = 0; i < RM; ++i) {
    const float* xs = a.xsum + (m0 + i) * G;
    for (int j = 0; j < RN; ++j) {
      const float* bj = b + j * G;
      int64_t g = 0;
      for (; g + 8 <= G; g += 8) acc[0][i][j] = _mm256_fmadd_ps(_mm256_loadu_ps(bj + g), _mm256_loadu_ps(xs + g), acc[0][i][j]);
      float tail = 0.f;
      for (; g < G; ++g) tail += bj[g] * xs[g];
      a.y[(m0 + i) * a.ldy + n0 + j] = hsum8(acc[0][i][j]) + tail;
    }
  }
}

inline __m256i broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// y[m0 + i][n .. n + r) for RM rows of x against one repacked panel.
template <int BITS, int GS, int RM>
void panel_rows(const QmmInt8& a, int64_t m0, const uint8_t* pw, const float* ps, const float* pb, float* y, int r) {
  const int64_t K = a.K, G = K / GS;
  __m256 acc[RM];
  for (int i = 0; i < RM; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    __m256i s32[RM];
    for (int i = 0; i < RM; ++i) s32[i] = _mm256_setzero_si256();
    if constexpr (BITS == 4) {
      // maddubs lanes are at most 2 * 15 * 127: eight in int16, then int32.
      const int8_t* x = a.xq + m0 * K + g * GS;
      for (int h = 0; h < GS; h += 32) {
        __m256i z[RM];
        for (int i = 0; i < RM; ++i) z[i] = _mm256_setzero_si256();
        const uint8_t* p = pw + (g * GS + h) / 4 * 32;
        for (int c = 0; c < 8; ++c) {
          __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * c));
          for (int i = 0; i < RM; ++i) {
            z[i] = _mm256_add_epi16(z[i], _mm256_maddubs_epi16(wv, broadcast4(x + i * K + h + 4 * c)));
            // Keeps the sums a chain: reassociated into a tree, they need
            // more registers than there are (spills in the loop).
            asm("" : "+x"(z[i]));
          }
        }
        for (int i = 0; i < RM; ++i) s32[i] = _mm256_add_epi32(s32[i], _mm256_madd_epi16(z[i], _mm256_set1_epi16(1)));
      }
    } else {
      const int16_t* x = a.xw + m0 * K + g * GS;
      const uint8_t* p = pw + g * GS / 2 * 32;
      for (int c = 0; c < GS / 2; ++c) {
        __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * c));
        for (int i = 0; i < RM; ++i) {
          s32[i] = _mm256_add_epi32(s32[i], _mm256_madd_epi16(wv, broadcast4(x + i * K + 2 * c)));
        }
      }
    }
    const __m256 sv = _mm256_loadu_ps(ps + 8 * g), bv = _mm256_loadu_ps(pb + 8 * g);
    for (int i = 0; i < RM; ++i) {
      const float* dx = a.dx + (m0 + i) * G;
      const float* xs = a.xsum + (m0 + i) * G;
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[i]), _mm256_mul_ps(sv, _mm256_set1_ps(dx[g])), acc[i]);
      acc[i] = _mm256_fmadd_ps(bv, _mm256_set1_ps(xs[g]), acc[i]);
    }
  }
  for (int i = 0; i < RM; ++i) qmm_store_panel_row(y + i * a.ldy, acc[i], r);
}

template <int BITS, int GS>
void panel_run(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  qmm_panel_passes<4>(a, n0, n1, scratch, BITS == 4, BITS == 8 ? 2 : 1,
                      [&](int rm, int64_t m, const uint8_t* pw, const float* ps, const float* pb, float* y, int r) {
                        switch (rm) {
                          case 1: return panel_rows<BITS, GS, 1>(a, m, pw, ps, pb, y, r);
                          case 2: return panel_rows<BITS, GS, 2>(a, m, pw, ps, pb, y, r);
                          case 3: return panel_rows<BITS, GS, 3>(a, m, pw, ps, pb, y, r);
                          default: return panel_rows<BITS, GS, 4>(a, m, pw, ps, pb, y, r);
                        }
                      });
}

struct Kernel {
  template <int BITS, int GS, int RM, int RN>
  static void tile(const QmmInt8& a, int64_t m0, int64_t n0, const float* s, const float* b, float* sd) {
    avx2_tile<BITS, GS, RM, RN>(a, m0, n0, s, b, sd);
  }
  template <int BITS, int GS>
  static void run(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
    if (a.M >= kQmmPanelMinM) return panel_run<BITS, GS>(a, n0, n1, scratch);
    // Decode of one row of x streams W a row at a time: one sequential
    // stretch per thread, which the prefetchers follow best (1.3x the
    // whole-model decode speed of four rows at a time on the AVX2 EPYC,
    // where four are faster once W is in cache). Two rows of x take four rows
    // of W; more take tiles of 4 x 2 (eight accumulators of the 16 registers).
    const int RM = int(std::min<int64_t>(a.M, 4));
    auto tile = [&](auto rn, int rm, int64_t m, int64_t n, const float* s, const float* b, float* sd) {
      qmm_tile_rows<Kernel, BITS, GS, decltype(rn)::value>(a, rm, m, n, s, b, sd);
    };
    if (a.M == 1) return qmm_tiles<1>(a, n0, n1, scratch, RM, int64_t(192) << 10, tile);
    if (a.M <= 2) return qmm_tiles<4>(a, n0, n1, scratch, RM, int64_t(192) << 10, tile);
    qmm_tiles<2>(a, n0, n1, scratch, RM, int64_t(192) << 10, tile);
  }
};


// Bytes [0..32) to [evens (16), odds (16)].
inline __m256i evens_odds(__m256i v) {
  const __m256i sh = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12,
                                      14, 1, 3, 5, 7, 9, 11, 13, 15);
  return _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, sh), 0xD8);  // qwords 0, 2, 1, 3
}

}  // namespace

void qmm_int8_prepare_avx2(const float* x, int64_t K, int bits, int group_size, int block, int8_t* xq, int16_t* xw,
                           float* dx, float* xsum) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  const int64_t G = K / group_size;
  const float qmax = bits == 8 ? 32767.f : 127.f;
  for (int64_t g = 0; g < G; ++g) {
    const float* xg = x + g * group_size;
    __m256 amax = _mm256_setzero_ps(), sum = _mm256_setzero_ps();
    for (int k = 0; k < group_size; k += 8) {
      __m256 v = _mm256_loadu_ps(xg + k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v));
      sum = _mm256_add_ps(sum, v);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float d = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4))) / qmax;
    dx[g] = d;
    xsum[g] = hsum8(sum);
    __m256 inv = _mm256_set1_ps(d > 0.f ? 1.f / d : 0.f);
    for (int k = 0; k < group_size; k += 32) {
      if (bits == 8) {
        for (int h = 0; h < 32; h += 16) {
          __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + k + h), inv));
          __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xg + k + h + 8), inv));
          // packs works per 128-bit lane: [lo0 hi0 lo1 hi1] in quadwords.
          __m256i v = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(xw + g * group_size + k + h), v);
        }
      } else {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(xq + g * group_size + k), quantize32(xg + k, inv));
      }
    }
  }
  if (bits == 8 || block == 0) return;
  // 4-bit order: each block of `block` codes (then of block / 2, ... for
  // what is left) as its even elements, then its odd ones.
  int8_t tmp[256];
  for (int64_t k = 0, b = block; k < K;) {
    while (k + b > K) b /= 2;
    std::memcpy(tmp, xq + k, size_t(b));
    for (int64_t c = 0; c < b; c += 32) {
      __m256i e = evens_odds(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tmp + c)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + k + c / 2), _mm256_castsi256_si128(e));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(xq + k + b / 2 + c / 2), _mm256_extracti128_si256(e, 1));
    }
    k += b;
  }
}

void qmm_int8_avx2(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  qmm_dispatch<Kernel>(a, n0, n1, scratch);
}

}  // namespace uma::cpu
