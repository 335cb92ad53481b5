// The CPU kernels of gguf_matmul / gguf_dequantize (core/ops/quantized.h):
// llama.cpp's K-quant blocks read as the file stores them.
//
//   Q4_K  144 bytes / 256 values: f16 d, dmin; 12 bytes of eight 6-bit
//         scales and mins; 128 bytes of 4-bit q. Sub-block s (32 values):
//         d * sc_s * q - dmin * m_s; sub-blocks 2c and 2c + 1 are the low and
//         high nibbles of bytes [32c, 32c + 32).
//   Q5_K  176 bytes: as Q4_K with 32 bytes qh after the scales; bit 2c
//         (2c + 1) of qh[l] is the fifth bit of value l of sub-block 2c
//         (2c + 1).
//   Q6_K  210 bytes: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits),
//         16 int8 scales, f16 d. Value d * sc * (q - 32), sixteen sub-blocks
//         of 16; each half of 128 values takes ql[64h..], qh[32h..] and
//         scales[8h..] (dequant_q6_k in core/io/gguf_quants.cpp spells it out).
//
// The dot kernels multiply x rounded to int8 per block of 256 values (dx =
// max|x| / 127, as llama.cpp's Q8_K) by the integer codes, apply the 6- or
// 8-bit sub-block scales in integers and scale each block's sum once in
// float32: a block costs one conversion instead of one per sub-block. The
// min terms of Q4_K/Q5_K use the float sums of x per 32 (exact in x), Q6_K's
// -32 the int8 sums per 16.
//
// The first block types, 32 values a block (simd/gguf_legacy_avx2.cpp):
//   Q4_0  18 bytes: f16 d; 16 bytes of nibbles (values 0-15 the low ones,
//         16-31 the high ones); value d * (q - 8).
//   Q4_1  20 bytes: f16 d, m; nibbles as Q4_0; d * q + m.
//   Q5_0  22 bytes: f16 d; u32 qh (bit j the fifth bit of value j); nibbles;
//         d * (q - 16).
//   Q5_1  24 bytes: f16 d, m; qh; nibbles; d * q + m.
//   Q8_0  34 bytes: f16 d; 32 int8 q; d * q.
// Their dot kernels take x rounded to int8 per 32 values (as llama.cpp's
// Q8_0 activations) with its float sums per 32 (the m terms, exact in x).
#pragma once

#include <cstdint>

namespace uma::cpu {

// Whether gguf_dot_avx2 and gguf_dequantize_row_avx2 take `type` (Q4_K, Q5_K,
// Q6_K).
bool gguf_has_kernels(uint32_t type);
// Whether `type` is one of the 32-value types above, which
// gguf_legacy_dot_avx2 and gguf_legacy_dequantize_row_avx2 take.
bool gguf_is_legacy(uint32_t type);
// Whether gguf_matmul's int8 panel path rounds x to int8 for `type`: the
// 4-bit types always, Q8_0 (and Q8_0x8) on the VNNI panel kernel (as
// llama.cpp's Q8_0 activations; int16 on the AVX2 kernel, whose byte
// products would overflow int16 with 8-bit codes).
bool gguf_panel_int8_x(uint32_t type);

// x_m (K floats, K a multiple of 256) as the dot kernels take it: xq (K int8),
// dx (K / 256 scales), xsum (K / 32 float sums of x), bsum (K / 16 sums of xq).
void gguf_prepare_x_avx2(const float* x, int64_t K, int8_t* xq, float* dx, float* xsum, int16_t* bsum);

// y[m * ldy + n] = x_m . W_n for m < M and n in [n0, n1): W rows of
// row_bytes bytes of `type` blocks at w, x prepared by gguf_prepare_x_avx2
// (row m at xq + m K, dx + m K / 256, xsum + m K / 32, bsum + m K / 16).
struct GgufDot {
  uint32_t type;
  int64_t M, K;
  const int8_t* xq;
  const float* dx;
  const float* xsum;
  const int16_t* bsum;
  const uint8_t* w;
  int64_t row_bytes;
  float* y;
  int64_t ldy;
  // Q4_0 (gguf_prepare_x32_avx2): per pair of blocks, 8 int32 (the blocks'
  // int8 sums of x in lanes 0 and 4) and 8 floats ([dx x 4 | dx x 4]).
  // Q4_0x8: dxp per block, -8 dx (int8 sum of x); xo unused.
  const int32_t* xo = nullptr;
  const float* dxp = nullptr;
};
void gguf_dot_avx2(const GgufDot& a, int64_t n0, int64_t n1);
// The same for the 32-value types, x prepared by gguf_prepare_x32_avx2; bsum
// unused.
// x_m (K floats, K a multiple of 32) for the 32-value types: xq (K int8,
// rounded per 32 with dx = max|x| / 127), dx and xsum (K / 32: the scales
// and the float sums of x). For Q4_0 xq's pairs of blocks are reordered as
// its kernel reads them, and xo and dxp (8 per pair of blocks: K / 64 * 8
// each, the row stride in GgufDot) filled; for Q4_0x8 (kGgufQ4_0x8) dxp
// gets K / 32 floats; else they are unused (Q8_0x8 takes xq in order).
void gguf_prepare_x32_avx2(uint32_t type, const float* x, int64_t K, int8_t* xq, float* dx, float* xsum,
                           int32_t* xo, float* dxp);
// Also Q4_0x8 and Q8_0x8, with n0 and n1 multiples of 8.
void gguf_legacy_dot_avx2(const GgufDot& a, int64_t n0, int64_t n1);
// Row n of a Q4_0x8 or Q8_0x8 matrix (rows of row_bytes at w) as float32,
// value for value the Q4_0 or Q8_0 row it was made from.
void gguf_x8_dequantize_row_avx2(uint32_t type, const uint8_t* w, int64_t row_bytes, int64_t n, int64_t K,
                                 float* out);

// The K values of one row of `type` blocks as float32 (value for value what
// io::gguf::dequantize computes).
void gguf_dequantize_row_avx2(uint32_t type, const uint8_t* row, int64_t K, float* out);
void gguf_legacy_dequantize_row_avx2(uint32_t type, const uint8_t* row, int64_t K, float* out);

}  // namespace uma::cpu
