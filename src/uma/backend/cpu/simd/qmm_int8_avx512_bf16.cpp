// Integer quantized_matmul kernels with AVX-512 VNNI (the avx512_bf16 tier),
// x @ W.T for 4- and 8-bit affine weights, the arithmetic of the AVX2
// kernels (qmm_int8_avx2.cpp) in fewer instructions: 4-bit codes times int8
// x by `vpdpbusd` (64 products summed into 16 int32 lanes, exact), 8-bit
// codes widened to 16 bits times int16 x by `vpdpwssd` (32 products).
//
// 4-bit: a 64-byte load holds 128 codes (byte j: codes 2j, 2j + 1); x comes
// as the block's evens, then its odds (qmm_int8_prepare_avx2 with block
// 128). Lane l of a step's sum covers codes [8l, 8l + 8) of the block, so a
// group of 32 is 4 lanes, of 64 is 8 lanes, of 128 all 16. 8-bit: a step is
// 32 codes in order, lane l codes 2l and 2l + 1, within one group.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/simd/qmm_tiles.h"
#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu {

namespace {

using simd::avx512::hsum;

// Codes per step and row: 128 (4-bit, 64 bytes) or 32 (8-bit, 32 bytes).
template <int BITS>
constexpr int64_t kStep = BITS == 4 ? 128 : 32;

// Scale products s_g dx_g, expanded to one float per lane of each step (16
// a step) where a step spans several groups; one per group otherwise.
template <int BITS, int GS>
constexpr bool kExpand = GS < kStep<BITS>;

// y for RM rows of x from m0 and RN rows of W from n0 over the first
// `full` steps of K; the remainder (K % step codes) is added by `rest`.
template <int BITS, int GS, int RM, int RN>
void vnni_tile(const QmmInt8& a, int64_t m0, int64_t n0, const float* s, const float* b, float* sd) {
  const int64_t K = a.K, G = K / GS, row_bytes = K * BITS / 8;
  constexpr int64_t STEP = kStep<BITS>;
  constexpr bool expand = kExpand<BITS, GS>;
  const int64_t steps = K / STEP;
  const uint8_t* w = reinterpret_cast<const uint8_t*>(a.w) + n0 * row_bytes;
  const int8_t* x = a.xq + m0 * K;     // 4-bit
  const int16_t* xw = a.xw + m0 * K;  // 8-bit
  // SD floats per pair: 16 per step (expanded) or one per group.
  const int64_t SD = expand ? 16 * steps : G;
  for (int i = 0; i < RM; ++i) {
    const float* dx = a.dx + (m0 + i) * G;
    for (int j = 0; j < RN; ++j) {
      float* out = sd + (i * RN + j) * SD;
      const float* sj = s + j * G;
      if constexpr (expand) {
        constexpr int lanes = int(16 * GS / STEP);  // lanes per group
        for (int64_t g = 0; g < steps * (STEP / GS); ++g) {
          float v = sj[g] * dx[g];
          for (int l = 0; l < lanes; ++l) out[g * lanes + l] = v;
        }
      } else {
        for (int64_t g = 0; g < G; ++g) out[g] = sj[g] * dx[g];
      }
    }
  }
  __m512 acc[RM][RN];
  for (int i = 0; i < RM; ++i) {
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  const __m512i mask = _mm512_set1_epi8(0x0F);
  for (int64_t t = 0; t < steps; ++t) {
    __m512i lo[RN], hi[RN];
    for (int j = 0; j < RN; ++j) {
      const uint8_t* wj = w + j * row_bytes + STEP * BITS / 8 * t;
      // Decode: the next tile's rows, a line ahead per line read (as AVX2).
      if (RM == 1) _mm_prefetch(reinterpret_cast<const char*>(wj + RN * row_bytes), _MM_HINT_T0);
      if constexpr (BITS == 4) {
        __m512i v = _mm512_loadu_si512(wj);
        lo[j] = _mm512_and_si512(v, mask);
        hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);
      } else {
        lo[j] = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj)));
      }
    }
    for (int i = 0; i < RM; ++i) {
      __m512i x0, x1;
      if constexpr (BITS == 4) {
        x0 = _mm512_loadu_si512(x + i * K + STEP * t);
        x1 = _mm512_loadu_si512(x + i * K + STEP * t + 64);
      } else {
        x0 = _mm512_loadu_si512(xw + i * K + STEP * t);
      }
      for (int j = 0; j < RN; ++j) {
        __m512i d;
        if constexpr (BITS == 4) {
          d = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[j], x0), hi[j], x1);
        } else {
          d = _mm512_dpwssd_epi32(_mm512_setzero_si512(), lo[j], x0);
        }
        const float* p = sd + (i * RN + j) * SD;
        __m512 sc = expand ? _mm512_loadu_ps(p + 16 * t) : _mm512_set1_ps(p[t * STEP / GS]);
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), sc, acc[i][j]);
      }
    }
  }
  // 4-bit codes after the last whole step (64 and/or 32; 8-bit steps of 32
  // always end on K), in 256-bit halves; x there is in the AVX2 order
  // (evens, odds per 64 and per 32).
  __m256 rest[RM][RN];
  for (int i = 0; i < RM; ++i) {
    for (int j = 0; j < RN; ++j) rest[i][j] = _mm256_setzero_ps();
  }
  for (int64_t k = steps * STEP; BITS == 4 && k < K;) {
    const int64_t len = std::min<int64_t>(64, K - k);
    const int64_t g = k / GS;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int j = 0; j < RN; ++j) {
      const uint8_t* wj = w + j * row_bytes + k / 2;
      __m256i codes_lo, codes_hi = _mm256_setzero_si256();
      if (len == 64) {
        __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wj));
        codes_lo = _mm256_and_si256(v, m4);
        codes_hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      } else {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wj));
        codes_lo = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), m4);
      }
      for (int i = 0; i < RM; ++i) {
        const int8_t* xi = x + i * K + k;
        __m256i d = _mm256_dpbusd_epi32(_mm256_setzero_si256(), codes_lo,
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xi)));
        if (len == 64) {
          d = _mm256_dpbusd_epi32(d, codes_hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xi + 32)));
        }
        // Lanes of 8 codes each: with groups of 32 inside a 64-code piece,
        // lanes 0-3 are group g and 4-7 group g + 1.
        const float* dx = a.dx + (m0 + i) * G;
        const float* sj = s + j * G;
        __m256 sc = _mm256_set1_ps(sj[g] * dx[g]);
        if (len == 64 && GS == 32) sc = _mm256_insertf128_ps(sc, _mm_set1_ps(sj[g + 1] * dx[g + 1]), 1);
        rest[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), sc, rest[i][j]);
      }
    }
    k += len;
  }
  // The bias terms sum_g b_g xsum_g, folded into the same lanes.
  for (int i = 0; i < RM; ++i) {
    const float* xs = a.xsum + (m0 + i) * G;
    for (int j = 0; j < RN; ++j) {
      const float* bj = b + j * G;
      int64_t g = 0;
      __m512 total = acc[i][j];
      for (; g + 16 <= G; g += 16) total = _mm512_fmadd_ps(_mm512_loadu_ps(bj + g), _mm512_loadu_ps(xs + g), total);
      float tail = 0.f;
      for (; g < G; ++g) tail += bj[g] * xs[g];
      total = _mm512_add_ps(total, _mm512_zextps256_ps512(rest[i][j]));
      a.y[(m0 + i) * a.ldy + n0 + j] = hsum(total) + tail;
    }
  }
}

struct Kernel {
  template <int BITS, int GS, int RM, int RN>
  static void tile(const QmmInt8& a, int64_t m0, int64_t n0, const float* s, const float* b, float* sd) {
    vnni_tile<BITS, GS, RM, RN>(a, m0, n0, s, b, sd);
  }
  template <int BITS, int GS>
  static void run(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
    // Tiles of up to 4 x 4 (16 accumulators of the 32 registers).
    qmm_tiles<4>(a, n0, n1, scratch, int(std::min<int64_t>(a.M, 4)), int64_t(384) << 10,
                 [&](auto rn, int rm, int64_t m, int64_t n, const float* s, const float* b, float* sd) {
                   qmm_tile_rows<Kernel, BITS, GS, decltype(rn)::value>(a, rm, m, n, s, b, sd);
                 });
  }
};

// Prefill: the panels of qmm_panel_repack_avx2 (8 rows of W to a 32-byte
// vector), one `vpdpbusd` (4 byte codes of each row against 4 int8 x) or
// `vpdpwssd` (2 int16 codes against 2 int16 x) per vector and row of x,
// where the AVX2 kernel takes two or three instructions. Up to 8 rows of x
// a pass over the panel (16 of the 32 registers hold their sums). The
// integer sums and the float steps are those of qmm_int8_avx2's panel
// kernel, so the results are the same bits; with int8_x, 8-bit codes (q +
// 128) take int8 x as the 4-bit ones do.
inline __m256i broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// y[m0 + i][n .. n + r) for RM rows of x against one panel: BYTES, codes as
// bytes against xq; else codes as int16 against xw.
template <bool BYTES, int GS, int RM>
void vnni_panel_rows(const QmmInt8& a, int64_t m0, const uint8_t* pw, const float* ps, const float* pb, float* y,
                     int r) {
  const int64_t K = a.K, G = K / GS;
  constexpr int kPerVector = BYTES ? 4 : 2;  // codes of a row per vector
  __m256 acc[RM];
  for (int i = 0; i < RM; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    __m256i s32[RM];
    for (int i = 0; i < RM; ++i) s32[i] = _mm256_setzero_si256();
    const uint8_t* p = pw + g * GS / kPerVector * 32;
    for (int c = 0; c < GS / kPerVector; ++c) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * c));
      for (int i = 0; i < RM; ++i) {
        if constexpr (BYTES) {
          s32[i] = _mm256_dpbusd_epi32(s32[i], wv, broadcast4(a.xq + (m0 + i) * K + g * GS + 4 * c));
        } else {
          s32[i] = _mm256_dpwssd_epi32(s32[i], wv, broadcast4(a.xw + (m0 + i) * K + g * GS + 2 * c));
        }
      }
    }
    const __m256 sv = _mm256_loadu_ps(ps + 8 * g), bv = _mm256_loadu_ps(pb + 8 * g);
    for (int i = 0; i < RM; ++i) {
      const float dx = a.dx[(m0 + i) * G + g], xs = a.xsum[(m0 + i) * G + g];
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[i]), _mm256_mul_ps(sv, _mm256_set1_ps(dx)), acc[i]);
      acc[i] = _mm256_fmadd_ps(bv, _mm256_set1_ps(xs), acc[i]);
    }
  }
  for (int i = 0; i < RM; ++i) qmm_store_panel_row(y + i * a.ldy, acc[i], r);
}

template <bool BYTES, int GS, int... RMs>
void vnni_panel_dispatch(int rm, const QmmInt8& a, int64_t m, const uint8_t* pw, const float* ps, const float* pb,
                         float* y, int r, std::integer_sequence<int, RMs...>) {
  ((rm == RMs + 1 ? vnni_panel_rows<BYTES, GS, RMs + 1>(a, m, pw, ps, pb, y, r) : void()), ...);
}

template <bool BYTES, int GS>
void vnni_panel_run(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  qmm_panel_passes<8>(a, n0, n1, scratch, BYTES, BYTES ? 1 : 2,
                      [&](int rm, int64_t m, const uint8_t* pw, const float* ps, const float* pb, float* y, int r) {
                        vnni_panel_dispatch<BYTES, GS>(rm, a, m, pw, ps, pb, y, r,
                                                       std::make_integer_sequence<int, 8>{});
                      });
}

template <bool BYTES>
void vnni_panels(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  if (a.group_size == 32) return vnni_panel_run<BYTES, 32>(a, n0, n1, scratch);
  if (a.group_size == 64) return vnni_panel_run<BYTES, 64>(a, n0, n1, scratch);
  vnni_panel_run<BYTES, 128>(a, n0, n1, scratch);
}

}  // namespace

void qmm_int8_panels_vnni(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  if (a.bits == 4 || a.int8_x) return vnni_panels<true>(a, n0, n1, scratch);
  vnni_panels<false>(a, n0, n1, scratch);
}

void qmm_int8_avx512_vnni(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  qmm_dispatch<Kernel>(a, n0, n1, scratch);
}

}  // namespace uma::cpu
