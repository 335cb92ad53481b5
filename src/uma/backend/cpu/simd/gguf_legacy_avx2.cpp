// gguf_matmul's dot kernels and row decoders for llama.cpp's first block
// types, 32 values a block, on the AVX2 floor (gguf_kernels.h has the
// layouts).
//
// x comes rounded to int8 per 32 values (dx = max|x| / 127, as llama.cpp's
// Q8_0 activations) in order, with its float32 sums per 32. Per block: the 32
// codes as bytes, in the order of x; for the symmetric types (Q4_0: q - 8,
// Q5_0: q - 16, Q8_0: q) as signed bytes, multiplied by `vpmaddubsw` of
// |w| against x carrying w's sign (pairs at most 2 * 128 * 127, no
// saturation); for Q4_1/Q5_1 the unsigned codes against x directly, their
// min term m * sum(x) taken from the float sums (exact in x). `vpmaddwd` by
// ones gives 8 int32 lanes, converted once and scaled by d * dx. Blocks
// alternate between two accumulators so that the adds do not wait on each
// other.
#include <immintrin.h>

#include <cstring>

#include "uma/backend/cpu/gguf_kernels.h"
#include "uma/backend/cpu/simd/vec.h"
#include "uma/core/io/gguf.h"
#include "uma/core/ops/quantized.h"

namespace uma::cpu {

namespace {

using io::gguf::GgmlType;
using simd::avx2::hsum8;
using simd::avx2::f16_at;

constexpr uint32_t kQ4_0 = uint32_t(GgmlType::Q4_0), kQ4_1 = uint32_t(GgmlType::Q4_1),
                   kQ5_0 = uint32_t(GgmlType::Q5_0), kQ5_1 = uint32_t(GgmlType::Q5_1),
                   kQ8_0 = uint32_t(GgmlType::Q8_0);
// How far ahead a row is fetched (as the other dot kernels).
constexpr int64_t kPrefetchBytes = 4096;

template <uint32_t T>
constexpr int64_t kBytes = T == kQ4_0 ? 18 : T == kQ4_1 ? 20 : T == kQ5_0 ? 22 : T == kQ5_1 ? 24 : 34;
// The types whose value is d * (q - offset): codes handled as signed bytes.
template <uint32_t T>
constexpr bool kSigned = T == kQ4_0 || T == kQ5_0 || T == kQ8_0;

// 16 bytes of nibbles as the block's 32 codes in order: values 0-15 are the
// low nibbles, 16-31 the high ones.
inline __m256i nibbles(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
}

// Bit j of the 32-bit qh as bit 4 of byte j (0x10 where set).
inline __m256i fifth_bits(const uint8_t* p) {
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  // Byte j takes qh's byte j / 8; every bit but j % 8 is then set to 1, so
  // the byte is all ones exactly where bit j % 8 was.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(qh)), _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                    0x0101010101010101, 0x0000000000000000));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                        _mm256_set1_epi64x(-1));
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// The block's 32 codes in order: signed bytes q - offset for the symmetric
// types, unsigned q for Q4_1/Q5_1.
template <uint32_t T>
inline __m256i codes(const uint8_t* b) {
  if constexpr (T == kQ4_0) return _mm256_sub_epi8(nibbles(b + 2), _mm256_set1_epi8(8));
  if constexpr (T == kQ4_1) return nibbles(b + 4);
  if constexpr (T == kQ5_0) return _mm256_sub_epi8(_mm256_or_si256(nibbles(b + 6), fifth_bits(b + 2)), _mm256_set1_epi8(16));
  if constexpr (T == kQ5_1) return _mm256_or_si256(nibbles(b + 8), fifth_bits(b + 4));
  if constexpr (T == kQ8_0) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
}

// One block of W against RM rows of x (their 32 int8 codes at x[i], scale
// dx[i], float sum xs[i]): acc[i] += d dx (codes . xq), mn[i] += m xs.
template <uint32_t T, int RM>
inline void block_dot(const uint8_t* b, const int8_t* const* x, const float* dx, const float* xs, __m256* acc,
                      float* mn) {
  const __m256i q = codes<T>(b), ones = _mm256_set1_epi16(1);
  const float d = f16_at(b);
  if constexpr (kSigned<T>) {
    const __m256i aq = _mm256_sign_epi8(q, q);
    for (int i = 0; i < RM; ++i) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i]));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(xv, q)), ones);
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * dx[i]), acc[i]);
    }
  } else {
    const float m = f16_at(b + 2);
    for (int i = 0; i < RM; ++i) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i]));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(q, xv), ones);
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * dx[i]), acc[i]);
      mn[i] += m * xs[i];
    }
  }
}

template <uint32_t T, int RM>
void rows(const GgufDot& a, int64_t m0, int64_t n0, int64_t n1) {
  constexpr int64_t B = kBytes<T>;
  const int64_t nb = a.K / 32;
  const int64_t ahead = (kPrefetchBytes + a.row_bytes - 1) / a.row_bytes * a.row_bytes;
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* w = a.w + n * a.row_bytes;
    __m256 acc[2][RM];
    float mn[2][RM];
    for (int u = 0; u < 2; ++u) {
      for (int i = 0; i < RM; ++i) acc[u][i] = _mm256_setzero_ps(), mn[u][i] = 0.f;
    }
    auto block = [&](int64_t j, int u) {
      const int8_t* x[RM];
      float dx[RM], xs[RM];
      for (int i = 0; i < RM; ++i) {
        x[i] = a.xq + (m0 + i) * a.K + 32 * j;
        dx[i] = a.dx[(m0 + i) * nb + j];
        xs[i] = a.xsum[(m0 + i) * nb + j];
      }
      block_dot<T, RM>(w + j * B, x, dx, xs, acc[u], mn[u]);
    };
    int64_t j = 0;
    for (; j + 2 <= nb; j += 2) {
      for (int64_t p = 0; p < 2 * B; p += 64)
        _mm_prefetch(reinterpret_cast<const char*>(w + j * B + ahead + p), _MM_HINT_T0);
      block(j, 0);
      block(j + 1, 1);
    }
    if (j < nb) block(j, 0);
    for (int i = 0; i < RM; ++i) a.y[(m0 + i) * a.ldy + n] = hsum8(_mm256_add_ps(acc[0][i], acc[1][i])) + (mn[0][i] + mn[1][i]);
  }
}

// Q4_0, two blocks A and B a step. One load gives both blocks' nibbles
// ([A | B] in the 128-bit lanes): the low nibbles are values 0-15 of each,
// the high ones 16-31, so x comes paired the same way (gguf_prepare_x32_avx2):
// [xA 0-15 | xB 0-15], then [xA 16-31 | xB 16-31]. The unsigned codes'
// products, minus 8 * (int8 sum of x) per block (lane 0 of each half of
// xo), leave block A's sum in the low four int32 lanes and B's in the high
// four, scaled by [dA dxA x 4 | dB dxB x 4] in one multiply-add.
template <int RM>
void q4_0_pair_rows(const GgufDot& a, int64_t m0, int64_t n0, int64_t n1) {
  const int64_t nb = a.K / 32, pairs = nb / 2;
  const int64_t ahead = (kPrefetchBytes + a.row_bytes - 1) / a.row_bytes * a.row_bytes;
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* w = a.w + n * a.row_bytes;
    __m256 acc[2][RM];
    for (int u = 0; u < 2; ++u) {
      for (int i = 0; i < RM; ++i) acc[u][i] = _mm256_setzero_ps();
    }
    auto pair = [&](int64_t t, int u) {
      const uint8_t* bA = w + 36 * t;
      const __m256i v = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(bA + 20),
                                            reinterpret_cast<const __m128i*>(bA + 2));
      const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      int16_t hA, hB;  // the blocks' float16 d, as bits
      std::memcpy(&hA, bA, 2);
      std::memcpy(&hB, bA + 18, 2);
      const __m128i dd = _mm_unpacklo_epi64(_mm_set1_epi16(hA), _mm_set1_epi16(hB));
      const __m256 d = _mm256_cvtph_ps(dd);
      for (int i = 0; i < RM; ++i) {
        const int8_t* x = a.xq + (m0 + i) * a.K + 64 * t;
        const __m256i p16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))),
                                             _mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32))));
        const __m256i xo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.xo + ((m0 + i) * pairs + t) * 8));
        const __m256i p = _mm256_sub_epi32(_mm256_madd_epi16(p16, ones), _mm256_slli_epi32(xo, 3));
        const __m256 s = _mm256_mul_ps(d, _mm256_loadu_ps(a.dxp + ((m0 + i) * pairs + t) * 8));
        acc[u][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), s, acc[u][i]);
      }
    };
    int64_t t = 0;
    for (; t + 2 <= pairs; t += 2) {
      for (int64_t p = 0; p < 72; p += 64)
        _mm_prefetch(reinterpret_cast<const char*>(w + 36 * t + ahead + p), _MM_HINT_T0);
      pair(t, 0);
      pair(t + 1, 1);
    }
    if (t < pairs) pair(t, 0);
    for (int i = 0; i < RM; ++i) {
      __m256 s = _mm256_add_ps(acc[0][i], acc[1][i]);
      if (nb % 2) {  // a last block alone, x in order
        const int64_t j = nb - 1;
        const int8_t* x[1] = {a.xq + (m0 + i) * a.K + 32 * j};
        const float dx[1] = {a.dx[(m0 + i) * nb + j]}, xs[1] = {0.f};
        float mn[1] = {0.f};  // Q4_0 has no m term
        block_dot<kQ4_0, 1>(w + 18 * j, x, dx, xs, &s, mn);
      }
      a.y[(m0 + i) * a.ldy + n] = hsum8(s);
    }
  }
}

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// The x8 layouts (core/ops/quantized.h): eight rows of W a step, one per
// int32 lane, the rows' eight d converted at once; y gets eight consecutive
// values a group.
//   Q4_0x8  run c gives the rows' values 4c..4c+3 in its low nibbles and
//           16+4c..16+4c+3 in its high ones, against x's dwords c and 4 + c
//           broadcast: eight `vpmaddubsw` of the unsigned codes (lanes at
//           most 2 * 15 * 127, the eight summed at most 30480: int16 holds
//           them), one `vpmaddwd` to the rows' sums, minus 8 sum(x) in
//           float (GgufDot::dxp = -8 dx sum(xq) per block).
//   Q8_0x8  8 runs of signed codes: `vpmaddubsw` of |w| against x carrying
//           w's sign (pairs at most 2 * 128 * 127: one product per int16,
//           so each run goes to int32 before the next).
template <uint32_t T, int RM>
void x8_rows(const GgufDot& a, int64_t m0, int64_t g0, int64_t g1) {
  constexpr bool q8 = T == kGgufQ8_0x8;
  constexpr int runs = q8 ? 8 : 4;
  constexpr int64_t B = 8 * (q8 ? 34 : 18);  // a block of the 8 rows
  const int64_t nb = a.K / 32;
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int64_t g = g0; g < g1; ++g) {
    const uint8_t* w = a.w + g * 8 * a.row_bytes;
    __m256 acc[RM];
    for (int i = 0; i < RM; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; ++j) {
      const uint8_t* b = w + B * j;
      for (int64_t p = 0; p < B; p += 64) _mm_prefetch(reinterpret_cast<const char*>(b + kPrefetchBytes + p), _MM_HINT_T0);
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
      __m256i u[runs], v[runs];  // Q4_0x8: the runs' low and high nibbles; Q8_0x8: |q| and q
      for (int c = 0; c < runs; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c));
        u[c] = q8 ? _mm256_sign_epi8(q, q) : _mm256_and_si256(q, low);
        v[c] = q8 ? q : _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
      }
      for (int i = 0; i < RM; ++i) {
        const int8_t* x = a.xq + (m0 + i) * a.K + 32 * j;
        const int64_t xb = (m0 + i) * nb + j;
        __m256i s[4];
        if constexpr (q8) {
          for (int c = 0; c < 8; c += 2) {
            s[c / 2] = _mm256_add_epi32(
                _mm256_madd_epi16(_mm256_maddubs_epi16(u[c], _mm256_sign_epi8(broadcast4(x + 4 * c), v[c])), ones),
                _mm256_madd_epi16(_mm256_maddubs_epi16(u[c + 1], _mm256_sign_epi8(broadcast4(x + 4 * c + 4), v[c + 1])),
                                  ones));
          }
          const __m256i p = _mm256_add_epi32(_mm256_add_epi32(s[0], s[1]), _mm256_add_epi32(s[2], s[3]));
          acc[i] = _mm256_fmadd_ps(d, _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(a.dx[xb])), acc[i]);
        } else {
          for (int c = 0; c < 4; ++c) {
            s[c] = _mm256_add_epi16(_mm256_maddubs_epi16(u[c], broadcast4(x + 4 * c)),
                                    _mm256_maddubs_epi16(v[c], broadcast4(x + 16 + 4 * c)));
          }
          const __m256i p =
              _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(s[0], s[1]), _mm256_add_epi16(s[2], s[3])), ones);
          const __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(a.dx[xb]), _mm256_set1_ps(a.dxp[xb]));
          acc[i] = _mm256_fmadd_ps(d, sum, acc[i]);
        }
      }
    }
    for (int i = 0; i < RM; ++i) _mm256_storeu_ps(a.y + (m0 + i) * a.ldy + 8 * g, acc[i]);
  }
}

template <uint32_t T>
void x8_dot(const GgufDot& a, int64_t n0, int64_t n1) {
  const int64_t g0 = n0 / 8, g1 = n1 / 8;
  int64_t m = 0;
  for (; m + 4 <= a.M; m += 4) x8_rows<T, 4>(a, m, g0, g1);
  switch (a.M - m) {
    case 3: x8_rows<T, 3>(a, m, g0, g1); break;
    case 2: x8_rows<T, 2>(a, m, g0, g1); break;
    case 1: x8_rows<T, 1>(a, m, g0, g1); break;
    default: break;
  }
}

template <uint32_t T>
void dot_type(const GgufDot& a, int64_t n0, int64_t n1) {
  if constexpr (T == kQ4_0) {
    int64_t m = 0;
    for (; m + 4 <= a.M; m += 4) q4_0_pair_rows<4>(a, m, n0, n1);
    switch (a.M - m) {
      case 3: q4_0_pair_rows<3>(a, m, n0, n1); break;
      case 2: q4_0_pair_rows<2>(a, m, n0, n1); break;
      case 1: q4_0_pair_rows<1>(a, m, n0, n1); break;
      default: break;
    }
    return;
  }
  // Rows of x four at a time (each W row read once per group), then the rest.
  int64_t m = 0;
  for (; m + 4 <= a.M; m += 4) rows<T, 4>(a, m, n0, n1);
  switch (a.M - m) {
    case 3: rows<T, 3>(a, m, n0, n1); break;
    case 2: rows<T, 2>(a, m, n0, n1); break;
    case 1: rows<T, 1>(a, m, n0, n1); break;
    default: break;
  }
}

// One block's 32 codes q (signed for the symmetric types) as floats, value
// for value io::gguf::dequantize's: d * q (the offset already subtracted,
// exactly) or d * q + m (product and sum rounded separately, no FMA).
template <bool SIGNED>
inline void decode_block(__m256i q, float d, float m, float* out) {
  const __m128i parts[4] = {_mm256_castsi256_si128(q), _mm_srli_si128(_mm256_castsi256_si128(q), 8),
                            _mm256_extracti128_si256(q, 1), _mm_srli_si128(_mm256_extracti128_si256(q, 1), 8)};
  const __m256 dv = _mm256_set1_ps(d);
  for (int k = 0; k < 4; ++k) {
    if constexpr (SIGNED) {
      _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]))));
    } else {
      const __m256 v = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k])));
      _mm256_storeu_ps(out + 8 * k, _mm256_add_ps(v, _mm256_set1_ps(m)));
    }
  }
}

template <uint32_t T>
void decode_row(const uint8_t* row, int64_t K, float* out) {
  for (int64_t j = 0; j < K / 32; ++j) {
    const uint8_t* b = row + j * kBytes<T>;
    decode_block<kSigned<T>>(codes<T>(b), f16_at(b), kSigned<T> ? 0.f : f16_at(b + 2), out + 32 * j);
  }
}

template <typename F>
bool dispatch_legacy(uint32_t type, F&& f) {
  switch (type) {
    case kQ4_0: f(std::integral_constant<uint32_t, kQ4_0>{}); return true;
    case kQ4_1: f(std::integral_constant<uint32_t, kQ4_1>{}); return true;
    case kQ5_0: f(std::integral_constant<uint32_t, kQ5_0>{}); return true;
    case kQ5_1: f(std::integral_constant<uint32_t, kQ5_1>{}); return true;
    case kQ8_0: f(std::integral_constant<uint32_t, kQ8_0>{}); return true;
    default: return false;
  }
}

}  // namespace

void gguf_prepare_x32_avx2(uint32_t type, const float* x, int64_t K, int8_t* xq, float* dx, float* xsum,
                           int32_t* xo, float* dxp) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  const int64_t nb = K / 32;
  for (int64_t j = 0; j < nb; ++j) {
    const float* xb = x + 32 * j;
    __m256 amax = _mm256_setzero_ps(), sum = _mm256_setzero_ps();
    for (int k = 0; k < 32; k += 8) {
      const __m256 v = _mm256_loadu_ps(xb + k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v));
      sum = _mm256_add_ps(sum, v);
    }
    const float d = simd::avx2::hmax8(amax) / 127.f;
    dx[j] = d;
    xsum[j] = hsum8(sum);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(xq + 32 * j),
                        simd::avx2::quantize32(xb, _mm256_set1_ps(d > 0.f ? 1.f / d : 0.f)));
  }
  if (type == kGgufQ4_0x8) {  // -8 dx (int8 sum of x) per block
    for (int64_t j = 0; j < nb; ++j) {
      int32_t sum = 0;
      for (int k = 0; k < 32; ++k) sum += xq[32 * j + k];
      dxp[j] = -8.f * dx[j] * float(sum);
    }
    return;
  }
  if (type != kQ4_0) return;
  // Q4_0's pairs of blocks: [A 0-15 | B 0-15] then [A 16-31 | B 16-31], with
  // the blocks' int8 sums (lane 0 of each half) and [dxA x 4 | dxB x 4].
  for (int64_t t = 0; t < nb / 2; ++t) {
    int8_t* p = xq + 64 * t;
    const __m256i A = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)),
                  B = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permute2x128_si256(A, B, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 32), _mm256_permute2x128_si256(A, B, 0x31));
    int32_t sums[2] = {0, 0};
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < 32; ++k) sums[h] += xq[64 * t + (k < 16 ? 0 : 32) + 16 * h + k % 16];
    }
    int32_t* o = xo + 8 * t;
    float* dp = dxp + 8 * t;
    for (int l = 0; l < 8; ++l) {
      o[l] = l == 0 ? sums[0] : l == 4 ? sums[1] : 0;
      dp[l] = dx[2 * t + l / 4];
    }
  }
}

bool gguf_is_legacy(uint32_t type) {
  return dispatch_legacy(type, [](auto) {});
}

void gguf_legacy_dot_avx2(const GgufDot& a, int64_t n0, int64_t n1) {
  if (a.type == kGgufQ4_0x8) return x8_dot<kGgufQ4_0x8>(a, n0, n1);
  if (a.type == kGgufQ8_0x8) return x8_dot<kGgufQ8_0x8>(a, n0, n1);
  dispatch_legacy(a.type, [&](auto t) { dot_type<decltype(t)::value>(a, n0, n1); });
}

void gguf_x8_dequantize_row_avx2(uint32_t type, const uint8_t* w, int64_t row_bytes, int64_t n, int64_t K,
                                 float* out) {
  const bool q8 = type == kGgufQ8_0x8;
  const int64_t block = 8 * gguf_traits(type)->type_size;  // a block of the 8 rows
  const uint8_t* group = w + n / 8 * 8 * row_bytes;
  const int r = int(n % 8);
  for (int64_t j = 0; j < K / 32; ++j) {
    const uint8_t* b = group + block * j;
    int32_t q[8];  // the row's bytes of codes, in order
    for (int c = 0; c < (q8 ? 8 : 4); ++c) std::memcpy(q + c, b + 16 + 32 * c + 4 * r, 4);
    __m256i codes;
    if (q8) {
      codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    } else {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      codes = _mm256_sub_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F)),
                              _mm256_set1_epi8(8));
    }
    decode_block<true>(codes, f16_at(b + 2 * r), 0.f, out + 32 * j);
  }
}

void gguf_legacy_dequantize_row_avx2(uint32_t type, const uint8_t* row, int64_t K, float* out) {
  dispatch_legacy(type, [&](auto t) { decode_row<decltype(t)::value>(row, K, out); });
}

}  // namespace uma::cpu
