// Panels of W for the prefill kernels of quantized_matmul and gguf_matmul
// (qmm_int8_avx2.cpp, and with VNNI qmm_int8_avx512_bf16.cpp): 8 rows of W
// repacked so that each 32-byte vector holds one step of K for all 8 rows,
// as bytes (4 codes of each row: 4-bit W, and 8-bit W against int8 x) or as
// int16 (2 codes of each row: 8-bit W against int16 x), with the rows'
// scales and biases as float32, 8 per group. W is MLX's affine layout or
// GGUF blocks (QmmInt8::gguf_type); the repack turns each block into scale *
// code + bias.
#include <immintrin.h>

#include <cstring>

#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/simd/qmm_tiles.h"
#include "uma/backend/cpu/simd/vec.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/ops/quantized.h"

namespace uma::cpu {

namespace {

using simd::avx2::f16_at;
using simd::avx2::transpose8x8;

constexpr uint32_t kGgufQ4_K = uint32_t(io::gguf::GgmlType::Q4_K);

// The 32 codes of row w from code k, in order, as bytes (unsigned);
// block_bytes: the size of a GGUF block (QmmInt8::gguf_type: Q4_0, Q4_1,
// Q8_0 of 32 values, Q4_K of 256 in sub-blocks of 32).
template <int BITS>
inline __m256i panel_codes(const QmmInt8& a, const uint8_t* w, int64_t k, int64_t block_bytes) {
  const __m128i m = _mm_set1_epi8(0x0F);
  if (a.gguf_type == kGgufQ4_K) {
    // Sub-block s of a block: the low (s even) or high nibbles of bytes
    // [32 (s / 2), 32 (s / 2) + 32) of its 128 bytes of q, in order.
    const int64_t s = k % 256 / 32;
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + k / 256 * block_bytes + 16 + 32 * (s / 2)));
    return _mm256_and_si256(s % 2 ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(0x0F));
  }
  if (a.gguf_type != 0) {
    const uint8_t* b = w + k / 32 * block_bytes;
    if constexpr (BITS == 4) {  // Q4_0 / Q4_1: low nibbles values 0-15, high ones 16-31
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(
          b + (a.gguf_type == uint32_t(io::gguf::GgmlType::Q4_0) ? 2 : 4)));
      return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
    } else {  // Q8_0: int8 q as q + 128
      return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2)), _mm256_set1_epi8(-128));
    }
  }
  const uint8_t* wk = w + k * BITS / 8;
  if constexpr (BITS == 4) {  // byte j: codes 2j (low nibble), 2j + 1
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wk));
    __m128i lo = _mm_and_si128(b, m), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    return _mm256_set_m128i(_mm_unpackhi_epi8(lo, hi), _mm_unpacklo_epi8(lo, hi));
  } else {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wk));
  }
}

// Row w's G scales and biases as float32 (s, b): MLX's stored ones, or
// those of GGUF blocks, scale * code + bias = d * (q - 8) (Q4_0), d * q + m
// (Q4_1), d * q (Q8_0, code q + 128), d sc_s * q - dmin m_s (Q4_K's
// sub-block s, its 6-bit scale and min).
void panel_params(const QmmInt8& a, int64_t n, const uint8_t* w, int64_t block_bytes, float* s, float* b) {
  const int64_t G = a.K / a.group_size;
  if (a.gguf_type == 0) {
    qmm_params(a.scales, n * G, G, a.format, s);
    qmm_params(a.biases, n * G, G, a.format, b);
    return;
  }
  if (a.gguf_type == kGgufQ4_K) {
    for (int64_t g0 = 0; g0 < G; g0 += 8) {
      const uint8_t* blk = w + g0 / 8 * block_bytes;
      const float d = f16_at(blk), dmin = f16_at(blk + 2);
      for (int j = 0; j < 8; ++j) {
        int sc, mn;
        io::gguf::k4_scale_min(blk + 4, j, sc, mn);
        s[g0 + j] = d * float(sc);
        b[g0 + j] = -(dmin * float(mn));
      }
    }
    return;
  }
  const float offset = a.gguf_type == uint32_t(io::gguf::GgmlType::Q4_0) ? -8.f : -128.f;
  for (int64_t g = 0; g < G; ++g) {
    const uint8_t* blk = w + g * block_bytes;
    const float d = f16_at(blk);
    s[g] = d;
    b[g] = a.gguf_type == uint32_t(io::gguf::GgmlType::Q4_1) ? f16_at(blk + 2) : offset * d;
  }
}

// The eight d of an x8 block group as scales, and `offset` d as biases.
inline void x8_params(const uint8_t* b, float offset, float* ps, float* pb) {
  const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
  _mm256_storeu_ps(ps, d);
  _mm256_storeu_ps(pb, _mm256_mul_ps(d, _mm256_set1_ps(offset)));
}

template <int BITS, bool BYTES>
void panel_repack(const QmmInt8& a, int64_t n, int r, uint8_t* pw, float* ps, float* pb) {
  const int64_t K = a.K, G = K / a.group_size;
  const auto* traits = a.gguf_type ? gguf_traits(a.gguf_type) : nullptr;
  const int64_t block_bytes = traits ? traits->type_size : 0;
  const int64_t row_bytes = traits ? K / traits->block_size * block_bytes : K * BITS / 8;
  const uint8_t* w = reinterpret_cast<const uint8_t*>(a.w) + n * row_bytes;
  if constexpr (BITS == 8 && BYTES) {
    if (a.gguf_type == kGgufQ8_0x8) {
      // Run c holds eight rows' codes 4c..4c+3 (int8): as q + 128 it is
      // panel vector c of the block; the eight d convert at once.
      for (int64_t j = 0; j < G; ++j) {
        const uint8_t* b = w + 8 * block_bytes * j;
        for (int c = 0; c < 8; ++c) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (8 * j + c) * 32),
                              _mm256_xor_si256(v, _mm256_set1_epi8(-128)));
        }
        x8_params(b, -128.f, ps + 8 * j, pb + 8 * j);
      }
      return;
    }
  }
  if constexpr (BITS == 8 && !BYTES) {
    if (a.gguf_type == kGgufQ8_0x8) {
      // Run c holds eight rows' codes 4c..4c+3 (int8): as q + 128, each
      // row's first two widened to int16 are panel vector 2c, its last two
      // vector 2c + 1; the eight d convert at once.
      const __m256i lo = _mm256_setr_epi8(0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1, 0, -1, 1, -1, 4,
                                          -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1);
      const __m256i hi = _mm256_add_epi8(lo, _mm256_setr_epi8(2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2,
                                                               0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0));
      for (int64_t j = 0; j < G; ++j) {
        const uint8_t* b = w + 8 * block_bytes * j;
        for (int c = 0; c < 8; ++c) {
          const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c)),
                                             _mm256_set1_epi8(-128));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (16 * j + 2 * c) * 32), _mm256_shuffle_epi8(v, lo));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (16 * j + 2 * c + 1) * 32), _mm256_shuffle_epi8(v, hi));
        }
        x8_params(b, -128.f, ps + 8 * j, pb + 8 * j);
      }
      return;
    }
  }
  if constexpr (BITS == 4) {
    if (a.gguf_type == kGgufQ4_0x8) {
      // Already eight rows interleaved (n a multiple of 8, r = 8: N is):
      // run c's low nibbles are codes 4c..4c+3 of each row, its high ones
      // 16+4c..16+4c+3; the eight d convert at once.
      const __m256i low = _mm256_set1_epi8(0x0F);
      for (int64_t j = 0; j < G; ++j) {
        const uint8_t* b = w + 8 * block_bytes * j;
        for (int c = 0; c < 4; ++c) {
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * c));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (8 * j + c) * 32), _mm256_and_si256(v, low));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (8 * j + 4 + c) * 32),
                              _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
        }
        x8_params(b, -8.f, ps + 8 * j, pb + 8 * j);
      }
      return;
    }
  }
  // 32 codes of each row a round: 8 vectors out.
  for (int64_t k = 0; k < K; k += 32) {
    __m256i v[8];
    for (int j = 0; j < 8; ++j) {
      v[j] = j < r ? panel_codes<BITS>(a, w + j * row_bytes, k, block_bytes) : _mm256_setzero_si256();
    }
    if constexpr (BITS == 4 || BYTES) {
      transpose8x8(v);  // dword c: codes k + 4c .. k + 4c + 3
      for (int c = 0; c < 8; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + (k / 4 + c) * 32), v[c]);
    } else {
      // Each half of 16 codes widened to int16: 8 dwords of 2 codes.
      for (int h = 0; h < 2; ++h) {
        __m256i u[8];
        for (int j = 0; j < 8; ++j) {
          u[j] = _mm256_cvtepu8_epi16(h ? _mm256_extracti128_si256(v[j], 1) : _mm256_castsi256_si128(v[j]));
        }
        transpose8x8(u);
        for (int c = 0; c < 8; ++c) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(pw + ((k + 16 * h) / 2 + c) * 32), u[c]);
        }
      }
    }
  }
  // Scales and biases: the rows' G values each into ts and tb (16 x G
  // floats after pb), then 8 x 8 blocks transposed to 8 rows per group.
  float* ts = pb + 8 * G;
  float* tb = ts + 8 * G;
  for (int j = 0; j < 8; ++j) {
    if (j < r) {
      panel_params(a, n + j, w + j * row_bytes, block_bytes, ts + j * G, tb + j * G);
    } else {
      std::memset(ts + j * G, 0, size_t(G) * sizeof(float));
      std::memset(tb + j * G, 0, size_t(G) * sizeof(float));
    }
  }
  for (int k = 0; k < 2; ++k) {
    float* out = k ? pb : ps;
    const float* t = k ? tb : ts;
    int64_t g = 0;
    for (; g + 8 <= G; g += 8) {
      __m256i v[8];
      for (int j = 0; j < 8; ++j) v[j] = _mm256_castps_si256(_mm256_loadu_ps(t + j * G + g));
      transpose8x8(v);
      for (int c = 0; c < 8; ++c) _mm256_storeu_ps(out + (g + c) * 8, _mm256_castsi256_ps(v[c]));
    }
    for (; g < G; ++g) {
      for (int j = 0; j < 8; ++j) out[g * 8 + j] = t[j * G + g];
    }
  }
}

}  // namespace

void qmm_panel_repack_avx2(const QmmInt8& a, int64_t n, int r, bool bytes, uint8_t* pw, float* ps, float* pb) {
  if (a.bits == 4) return panel_repack<4, true>(a, n, r, pw, ps, pb);
  if (bytes) return panel_repack<8, true>(a, n, r, pw, ps, pb);
  panel_repack<8, false>(a, n, r, pw, ps, pb);
}

}  // namespace uma::cpu
