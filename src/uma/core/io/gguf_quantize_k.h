// The K-quant encoders behind io::gguf::quantize (gguf_quantize_k.cpp).
#pragma once

#include <cstdint>

#include "uma/core/io/gguf.h"

namespace uma::io::gguf::detail {

// One super-block of 256 float32 values to one Q2_K/Q3_K/Q4_K/Q5_K/Q6_K
// block at `out` (84/110/144/176/210 bytes).
void quantize_k_block(GgmlType type, const float* x, uint8_t* out);

}  // namespace uma::io::gguf::detail
