// The encoders behind io::gguf::quantize: the K-quants (gguf_quantize_k.cpp)
// and what they share with the legacy types (gguf_quantize.cpp). Both files
// are compiled without FMA contraction, as llama.cpp's reference code runs.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "uma/core/io/gguf.h"

namespace uma::io::gguf::detail {

// float16 bits at p, rounded to nearest even (GGML_FP32_TO_FP16), and back.
inline void put_half(uint8_t* p, float v) {
  _Float16 h = static_cast<_Float16>(v);
  std::memcpy(p, &h, 2);
}

inline float get_half(const uint8_t* p) {
  _Float16 h;
  std::memcpy(&h, p, 2);
  return float(h);
}

// The value of largest magnitude among x[0..n) (the first of equals), signed.
inline float signed_absmax(int n, const float* x) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  return max;
}

// One super-block of 256 float32 values to one Q2_K/Q3_K/Q4_K/Q5_K/Q6_K
// block at `out` (84/110/144/176/210 bytes).
void quantize_k_block(GgmlType type, const float* x, uint8_t* out);

}  // namespace uma::io::gguf::detail
