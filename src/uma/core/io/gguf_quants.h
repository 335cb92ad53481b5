// ggml's block formats as GGUF stores them, decoded on the CPU (and the
// legacy ones encoded, for writing GGUF files):
//  - dequantize: any supported type to float32 (the reference decoding,
//    value for value what llama.cpp's dequantize_row_* computes);
//  - to_affine: the types that are affine in groups of 32 (Q4_0, Q4_1, Q5_0,
//    Q5_1, Q8_0 exactly; Q4_K, Q5_K with each sub-block's scale d * sc and
//    bias -dmin * m computed in float32) as MLX's affine layout: codes of
//    `bits` bits packed LSB-first into uint32 words per row, one scale and one
//    bias per 32 values, so that scale * code + bias is the dequantized value.
//
//   std::vector<float> w(n);
//   gguf::dequantize(GgmlType::Q6_K, bytes, n, w.data());
//   if (auto bits = gguf::affine_bits(type)) gguf::to_affine(type, bytes, rows, cols, codes, scales, biases);
//
// Callers check sizes: `data` holds n / block_size blocks of the type
// (File::tensor_data's span already has that length).
#pragma once

#include <cstdint>
#include <optional>

#include "uma/core/io/gguf.h"

namespace uma::io::gguf {

// Whether dequantize() decodes the type: F32, F16, BF16, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
bool can_dequantize(uint32_t type);

// n values (a multiple of the type's block size) of blocks at `data`.
void dequantize(uint32_t type, const uint8_t* data, int64_t n, float* out);

// The width of the MLX affine codes (group 32) a type converts to, nullopt
// for the types to_affine does not take.
std::optional<int> affine_bits(uint32_t type);

// Sub-block j's (0..7) 6-bit scale and min among the 12 packed bytes q of
// a Q4_K or Q5_K block.
inline void k4_scale_min(const uint8_t* q, int j, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// rows x cols values (cols a multiple of 32 and of the type's block size),
// row-major: codes (rows, cols * bits / 32), scales and biases (rows, cols /
// 32), with bits = affine_bits(type).
void to_affine(uint32_t type, const uint8_t* data, int64_t rows, int64_t cols, uint32_t* codes, float* scales,
               float* biases);

// Whether quantize() encodes the type: F32, F16, BF16 (round to nearest even,
// NaN kept quiet), Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, and the K-quants Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K (as llama-quantize without an importance matrix).
bool can_quantize(uint32_t type);

// n float32 values (a multiple of the type's block size) to n / block_size
// blocks at `out`, byte for byte what llama.cpp's quantize_row_*_ref (and
// gguf-py's quants.quantize, where it has the type) write.
void quantize(uint32_t type, const float* x, int64_t n, uint8_t* out);

}  // namespace uma::io::gguf
