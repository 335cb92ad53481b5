// gguf_matmul's dot kernels and row decoders for Q4_K, Q5_K and Q6_K on the
// AVX2 floor (gguf_kernels.h has the block layouts and the arithmetic).
//
// Each W row is streamed once per call, a block (256 values) at a time, for
// up to four rows of x. Per run of 32 values: the codes as bytes (Q4_K:
// nibbles; Q5_K: plus the fifth bit from qh; Q6_K: nibbles plus two bits from
// qh), `vpmaddubsw` against the int8 x (u8 x s8 pairs: at most 2 * 63 * 127,
// no saturation), then `vpmaddwd` by ones (Q4_K/Q5_K) or by the two int16
// sub-block scales (Q6_K) into int32, converted once and scaled in float32.
#include <immintrin.h>

#include <cstring>

#include "uma/backend/cpu/gguf_kernels.h"
#include "uma/backend/cpu/simd/vec.h"
#include "uma/core/io/gguf.h"

namespace uma::cpu {

namespace {

using io::gguf::GgmlType;
using simd::avx2::hsum8;
using simd::avx2::f16_at;

constexpr int64_t kQ4K = 144, kQ5K = 176, kQ6K = 210;
// How far ahead a row is fetched (as the affine int8 kernels).
constexpr int64_t kPrefetchBytes = 4096;

// The eight 6-bit scales and mins of a Q4_K/Q5_K block's 12 bytes: bytes
// 0-3 hold scales 0-3 (low 6 bits) and bits 4-5 of scales 4-7 (top 2 bits);
// bytes 4-7 the same for the mins; bytes 8-11 the low 4 bits of scales 4-7
// (low nibbles) and of mins 4-7 (high nibbles).
// As 64-bit words, byte s the value of sub-block s.
inline void k4_scales(const uint8_t* q, uint64_t& sc, uint64_t& m) {
  uint32_t u[3];
  std::memcpy(u, q, 12);
  const uint32_t s_lo = u[0] & 0x3f3f3f3fu, m_lo = u[1] & 0x3f3f3f3fu;
  const uint32_t s_hi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  sc = uint64_t(s_lo) | uint64_t(s_hi) << 32;
  m = uint64_t(m_lo) | uint64_t(m_hi) << 32;
}

// The 8 bytes of v as floats (in registers: a store and a wider reload would
// stall store forwarding).
inline __m256 bytes8_ps(uint64_t v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(v))));
}

inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The sum of products of 32 codes (bytes 0..63) with 32 int8 x, as 8 int32 lanes.
inline __m256i dot32(__m256i q, const int8_t* x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, load32(x)), _mm256_set1_epi16(1));
}

// Q4_K/Q5_K: the codes of sub-blocks 2c (lo) and 2c + 1 (hi) from the 32
// bytes of qs at c; Q5_K takes bit 2c (2c + 1) of each qh byte as bit 4 (the
// 16-bit shifts move bits across bytes only below bit 4 or above bit 5) and
// shifts qh on for the next c.
template <bool Q5>
inline void k_codes(const uint8_t* qs, int c, __m256i& qh, __m256i& lo, __m256i& hi) {
  const __m256i low = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(16);
  const __m256i v = load32(qs + 32 * c);
  lo = _mm256_and_si256(v, low);
  hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  if constexpr (Q5) {
    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(qh, 4), bit4));
    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(qh, 3), bit4));
    qh = _mm256_srli_epi16(qh, 2);
  }
}

// Q6_K: the four runs of 32 codes of half h: low/high nibbles of ql[64h..]
// and ql[64h + 32..] with bit pairs 0-1, 2-3, 4-5, 6-7 of qh[32h..] on top
// (as bits 4-5).
inline void q6_codes(const uint8_t* b, int h, __m256i (&q)[4]) {
  const __m256i low = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
  const __m256i ql0 = load32(b + 64 * h), ql1 = load32(b + 64 * h + 32),
                qh = load32(b + 128 + 32 * h);
  q[0] =
      _mm256_or_si256(_mm256_and_si256(ql0, low), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two));
  q[1] =
      _mm256_or_si256(_mm256_and_si256(ql1, low), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two));
  q[2] =
      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low), _mm256_and_si256(qh, two));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), two));
}

// For Q6_K: [scale 2k x 8 | scale 2k+1 x 8] as bytes, per run k of a half.
inline __m128i q6_scale_pair(__m128i scales, int k) {
  const __m128i lo = _mm_set1_epi8(char(2 * k)), hi = _mm_set1_epi8(char(2 * k + 1));
  return _mm_shuffle_epi8(scales, _mm_unpacklo_epi64(lo, hi));
}

// One block of RM rows of x (their int8 codes at x[i], 256 each, with one
// scale dx[i] for the block; the float sums of x per 32 at xs[i] and the int8
// sums per 16 at bs[i]) against one block of W. The sub-block scales are
// applied in integers (`vpmaddwd` by the 6- or 8-bit scale), so a block's
// integer sum is converted and scaled once: acc[i] += d * dx * sum. mn[i]
// gathers Q4_K/Q5_K's min terms (subtracted at the end).
template <uint32_t TYPE, int RM>
inline void block_dot(const uint8_t* b, const int8_t* const* x, const float* dx, const float* const* xs,
                      const int16_t* const* bs, __m256* acc, __m256* mn) {
  __m256i sum[RM];
  for (int i = 0; i < RM; ++i) sum[i] = _mm256_setzero_si256();
  float d;
  if constexpr (TYPE == uint32_t(GgmlType::Q4_K) || TYPE == uint32_t(GgmlType::Q5_K)) {
    constexpr bool q5 = TYPE == uint32_t(GgmlType::Q5_K);
    d = f16_at(b);
    uint64_t sc, m;
    k4_scales(b + 4, sc, m);
    const uint8_t* qs = b + (q5 ? 48 : 16);
    // The eight scales as int16 in both 128-bit halves; sub-block s's is
    // broadcast by a byte shuffle of lanes 2s, 2s + 1.
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(sc))));
    const __m256 dm = _mm256_mul_ps(_mm256_set1_ps(f16_at(b + 2)), bytes8_ps(m));
    for (int i = 0; i < RM; ++i) mn[i] = _mm256_fmadd_ps(dm, _mm256_loadu_ps(xs[i]), mn[i]);
    __m256i qh = q5 ? load32(b + 16) : _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      __m256i lo, hi;
      k_codes<q5>(qs, c, qh, lo, hi);
      const __m256i s_lo = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(short(0x0100 + 0x0404 * c)));
      const __m256i s_hi = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(short(0x0302 + 0x0404 * c)));
      for (int i = 0; i < RM; ++i) {
        const int8_t* xi = x[i] + 64 * c;
        const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(xi)), s_lo);
        const __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(xi + 32)), s_hi);
        sum[i] = _mm256_add_epi32(sum[i], _mm256_add_epi32(p_lo, p_hi));
      }
    }
  } else {  // Q6_K: sc * (q - 32), as sc * q . x - 32 * sc * (int8 sum of x per 16)
    d = f16_at(b + 208);
    const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 192));
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];
      q6_codes(b, h, q);
      for (int r = 0; r < 4; ++r) {
        const __m256i sc = _mm256_cvtepi8_epi16(q6_scale_pair(scales, 4 * h + r));
        for (int i = 0; i < RM; ++i) {
          const __m256i p = _mm256_maddubs_epi16(q[r], load32(x[i] + 128 * h + 32 * r));
          sum[i] = _mm256_add_epi32(sum[i], _mm256_madd_epi16(p, sc));
        }
      }
    }
    const __m256i sc16 = _mm256_cvtepi8_epi16(scales);
    for (int i = 0; i < RM; ++i) {
      const __m256i off = _mm256_madd_epi16(sc16, load32(bs[i]));
      sum[i] = _mm256_sub_epi32(sum[i], _mm256_slli_epi32(off, 5));
    }
  }
  for (int i = 0; i < RM; ++i)
    acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i]), _mm256_set1_ps(d * dx[i]), acc[i]);
}

template <uint32_t TYPE, int64_t BYTES, int RM>
void rows(const GgufDot& a, int64_t m0, int64_t n0, int64_t n1) {
  const int64_t nb = a.K / 256, G = a.K / 32;
  const int64_t ahead = (kPrefetchBytes + a.row_bytes - 1) / a.row_bytes * a.row_bytes;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* w = a.w + n * a.row_bytes;
    __m256 acc[RM], mn[RM];
    for (int i = 0; i < RM; ++i) acc[i] = mn[i] = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; ++j) {
      const uint8_t* b = w + j * BYTES;
      for (int64_t p = 0; p < BYTES; p += 64)
        _mm_prefetch(reinterpret_cast<const char*>(b + ahead + p), _MM_HINT_T0);
      const int8_t* x[RM];
      const float* xs[RM];
      const int16_t* bs[RM];
      float dx[RM];
      for (int i = 0; i < RM; ++i) {
        x[i] = a.xq + (m0 + i) * a.K + 256 * j;
        dx[i] = a.dx[(m0 + i) * nb + j];
        xs[i] = a.xsum + (m0 + i) * G + 8 * j;
        bs[i] = a.bsum + (m0 + i) * (a.K / 16) + 16 * j;
      }
      block_dot<TYPE, RM>(b, x, dx, xs, bs, acc, mn);
    }
    for (int i = 0; i < RM; ++i) a.y[(m0 + i) * a.ldy + n] = hsum8(_mm256_sub_ps(acc[i], mn[i]));
  }
}

template <uint32_t TYPE, int64_t BYTES>
void dot_type(const GgufDot& a, int64_t n0, int64_t n1) {
  // Rows of x four at a time (each W row read once per group), then the rest.
  int64_t m = 0;
  for (; m + 4 <= a.M; m += 4) rows<TYPE, BYTES, 4>(a, m, n0, n1);
  switch (a.M - m) {
    case 3:
      rows<TYPE, BYTES, 3>(a, m, n0, n1);
      break;
    case 2:
      rows<TYPE, BYTES, 2>(a, m, n0, n1);
      break;
    case 1:
      rows<TYPE, BYTES, 1>(a, m, n0, n1);
      break;
    default:
      break;
  }
}

// One block of Q4_K/Q5_K/Q6_K as 256 floats, with the scalar decoder's
// arithmetic (products and sums rounded separately, no FMA).
void dequantize_block(uint32_t type, const uint8_t* b, float* y) {
  auto store32 = [&](__m256i q, __m256 scale, __m256 bias, float* out) {
    // 32 byte codes -> 4 x 8 floats scale * q + bias.
    const __m128i q0 = _mm256_castsi256_si128(q), q1 = _mm256_extracti128_si256(q, 1);
    const __m128i parts[4] = {q0, _mm_srli_si128(q0, 8), q1, _mm_srli_si128(q1, 8)};
    for (int k = 0; k < 4; ++k) {
      __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
      _mm256_storeu_ps(out + 8 * k, _mm256_add_ps(_mm256_mul_ps(scale, f), bias));
    }
  };
  if (type == uint32_t(GgmlType::Q4_K) || type == uint32_t(GgmlType::Q5_K)) {
    const bool q5 = type == uint32_t(GgmlType::Q5_K);
    const float d = f16_at(b), dmin = f16_at(b + 2);
    uint64_t sc, m;
    k4_scales(b + 4, sc, m);
    const uint8_t* qs = b + (q5 ? 48 : 16);
    __m256i qh = q5 ? load32(b + 16) : _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      __m256i lo, hi;
      if (q5) {
        k_codes<true>(qs, c, qh, lo, hi);
      } else {
        k_codes<false>(qs, c, qh, lo, hi);
      }
      for (int t = 0; t < 2; ++t) {
        const int s = 2 * c + t;
        const float scale = d * float((sc >> (8 * s)) & 0xFF),
                    min = dmin * float((m >> (8 * s)) & 0xFF);
        store32(t ? hi : lo, _mm256_set1_ps(scale), _mm256_set1_ps(-min), y + 32 * s);
      }
    }
    return;
  }
  // Q6_K: d * sc * (q - 32), rounded as (d * sc) * (q - 32).
  const float d = f16_at(b + 208);
  const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
  for (int h = 0; h < 2; ++h) {
    __m256i q[4];
    q6_codes(b, h, q);
    for (int r = 0; r < 4; ++r) {
      const __m128i q0 = _mm256_castsi256_si128(q[r]), q1 = _mm256_extracti128_si256(q[r], 1);
      const __m128i parts[4] = {q0, _mm_srli_si128(q0, 8), q1, _mm_srli_si128(q1, 8)};
      for (int k = 0; k < 4; ++k) {
        // Values 8k..8k+7 of the run: sub-block 2r (k < 2) or 2r + 1.
        const __m256 scale = _mm256_set1_ps(d * float(scales[8 * h + 2 * r + k / 2]));
        __m256 f = _mm256_cvtepi32_ps(
            _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[k]), _mm256_set1_epi32(32)));
        _mm256_storeu_ps(y + 128 * h + 32 * r + 8 * k, _mm256_mul_ps(scale, f));
      }
    }
  }
}

}  // namespace

void gguf_prepare_x_avx2(const float* x, int64_t K, int8_t* xq, float* dx, float* xsum, int16_t* bsum) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t j = 0; j < K / 256; ++j) {
    const float* xb = x + 256 * j;
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 256; k += 8) amax = _mm256_max_ps(amax, _mm256_and_ps(_mm256_loadu_ps(xb + k), abs_mask));
    const float d = simd::avx2::hmax8(amax) / 127.f;
    dx[j] = d;
    const __m256 inv = _mm256_set1_ps(d > 0.f ? 1.f / d : 0.f);
    for (int g = 0; g < 8; ++g) {
      const float* xg = xb + 32 * g;
      __m256 s = _mm256_setzero_ps();
      for (int k = 0; k < 32; k += 8) s = _mm256_add_ps(s, _mm256_loadu_ps(xg + k));
      xsum[8 * j + g] = hsum8(s);
      const __m256i q = simd::avx2::quantize32(xg, inv);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(xq + 256 * j + 32 * g), q);
      for (int h = 0; h < 2; ++h) {
        // The sum of 16 codes: widened to int16, pairs by vpmaddwd, then across.
        const __m128i half = h ? _mm256_extracti128_si256(q, 1) : _mm256_castsi256_si128(q);
        const __m256i pairs = _mm256_madd_epi16(_mm256_cvtepi8_epi16(half), _mm256_set1_epi16(1));
        __m128i u = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
        u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0x4E));
        u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0xB1));
        bsum[16 * j + 2 * g + h] = int16_t(_mm_cvtsi128_si32(u));
      }
    }
  }
}

bool gguf_has_kernels(uint32_t type) {
  return type == uint32_t(GgmlType::Q4_K) || type == uint32_t(GgmlType::Q5_K) ||
         type == uint32_t(GgmlType::Q6_K);
}

void gguf_dot_avx2(const GgufDot& a, int64_t n0, int64_t n1) {
  switch (GgmlType(a.type)) {
    case GgmlType::Q4_K:
      return dot_type<uint32_t(GgmlType::Q4_K), kQ4K>(a, n0, n1);
    case GgmlType::Q5_K:
      return dot_type<uint32_t(GgmlType::Q5_K), kQ5K>(a, n0, n1);
    case GgmlType::Q6_K:
      return dot_type<uint32_t(GgmlType::Q6_K), kQ6K>(a, n0, n1);
    default:
      break;
  }
}

void gguf_dequantize_row_avx2(uint32_t type, const uint8_t* row, int64_t K, float* out) {
  const int64_t bytes = type == uint32_t(GgmlType::Q4_K)   ? kQ4K
                        : type == uint32_t(GgmlType::Q5_K) ? kQ5K
                                                           : kQ6K;
  for (int64_t j = 0; j < K / 256; ++j) dequantize_block(type, row + j * bytes, out + 256 * j);
}

}  // namespace uma::cpu
