// Independent references for the quantized tests: a bit-by-bit packer and
// reader of MLX's layout (code i occupies stream bits [i*bits, (i+1)*bits),
// stream bit p is bit p % 32 of uint32 word p / 32) and MLX's affine rule
// written from its description, with no code shared with the kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error_util.h"
#include "core/util.h"
#include "uma/uma.h"

namespace uma::test {

// quantized_matmul in MLX's float32 arithmetic while it lives, for tests of
// structure against dequantize-then-matmul references (the int8 default has
// tests of its own); evaluate inside the scope, arrays are lazy.
struct Float32QmmScope {
  Float32QmmScope() { set_quantized_matmul_precision(QuantizedMatmulPrecision::float32); }
  ~Float32QmmScope() { set_quantized_matmul_precision(QuantizedMatmulPrecision::int8); }
  Float32QmmScope(const Float32QmmScope&) = delete;
  Float32QmmScope& operator=(const Float32QmmScope&) = delete;
};

inline std::vector<uint32_t> pack_bits(const std::vector<uint32_t>& codes, int bits) {
  std::vector<uint32_t> words(codes.size() * bits / 32, 0u);
  for (size_t i = 0; i < codes.size(); ++i) {
    for (int b = 0; b < bits; ++b) {
      size_t pos = i * bits + b;
      words[pos / 32] |= ((codes[i] >> b) & 1u) << (pos % 32);
    }
  }
  return words;
}

inline uint32_t code_at(const std::vector<uint32_t>& words, size_t i, int bits) {
  uint32_t c = 0;
  for (int b = 0; b < bits; ++b) {
    size_t pos = i * bits + b;
    c |= ((words[pos / 32] >> (pos % 32)) & 1u) << b;
  }
  return c;
}

// x rounded to dtype t (float32 stays).
inline float round_to(float x, Dtype t) {
  if (t == float16) return float(static_cast<float16_t>(x));
  if (t == bfloat16) return float(bfloat16_t(x));
  return x;
}

inline double unit_roundoff(Dtype t) {
  return t == bfloat16 ? 1.0 / 256 : t == float16 ? 1.0 / 2048 : 1.0 / (1 << 24);
}

// One group by MLX's affine rule (float32 throughout): returns the codes and
// the float32 scale and bias they were computed with.
struct RefGroup {
  std::vector<uint32_t> codes;
  float scale, bias;
};
inline RefGroup ref_quantize_group(const float* w, int n, int bits) {
  float lo = w[0], hi = w[0];
  for (int i = 1; i < n; ++i) {
    lo = w[i] < lo ? w[i] : lo;
    hi = w[i] > hi ? w[i] : hi;
  }
  const float levels = float((1 << bits) - 1);
  float step = (hi - lo) / levels;
  if (step < 1e-7f) step = 1e-7f;
  // The value of larger magnitude is the edge: code 0 sits on it exactly.
  bool low_edge = std::fabs(lo) > std::fabs(hi);
  float scale = low_edge ? step : -step;
  float edge = low_edge ? lo : hi;
  float q0 = std::nearbyint(edge / scale);
  float bias = 0.f;
  if (q0 != 0.f) {
    scale = edge / q0;
    bias = edge;
  }
  RefGroup g{std::vector<uint32_t>(n), scale, bias};
  for (int i = 0; i < n; ++i) {
    float q = std::nearbyint((w[i] - bias) / scale);
    g.codes[i] = q <= 0.f ? 0u : q >= levels ? uint32_t(levels) : uint32_t(q);
  }
  return g;
}

// The fp modes' element values and scales, from the formats' definitions.
// E2M1: sign bit 3, exponent bits 2..1 (bias 1), mantissa bit 0.
inline double e2m1_value(uint32_t code) {
  int e = (code >> 1) & 3, m = code & 1;
  double v = e == 0 ? 0.5 * m : std::ldexp(1.0 + 0.5 * m, e - 1);
  return (code & 8) ? -v : v;
}
// E4M3 (FN): sign bit 7, exponent bits 6..3 (bias 7), 3 mantissa bits.
inline double e4m3_value(uint32_t byte) {
  int e = (byte >> 3) & 15, m = byte & 7;
  double v = e == 0 ? std::ldexp(double(m), -9) : std::ldexp(1.0 + m / 8.0, e - 7);
  return (byte & 0x80) ? -v : v;
}
// E8M0: 2^(byte - 127).
inline double e8m0_value(uint32_t byte) { return std::ldexp(1.0, int(byte) - 127); }

// The float32 matrix a packed fp-mode w holds (rows, cols) from its words
// and uint8 scales (nvfp4 without a global scale).
inline std::vector<double> fp_matrix(const std::vector<uint32_t>& words,
                                     const std::vector<uint8_t>& scales, const std::string& mode,
                                     size_t rows, size_t cols) {
  int bits = mode == "mxfp8" ? 8 : 4, gs = mode == "nvfp4" ? 16 : 32;
  std::vector<double> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) {
    uint32_t c = code_at(words, i, bits), sb = scales[i / gs];
    w[i] = (bits == 8 ? e4m3_value(c) : e2m1_value(c)) *
           (mode == "nvfp4" ? e4m3_value(sb) : e8m0_value(sb));
  }
  return w;
}

inline std::vector<float> normal_values(size_t n, uint32_t seed, float stddev = 1.f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.f, stddev);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// float32 values exactly representable in t (so the test knows w exactly).
inline std::vector<float> values_in(Dtype t, size_t n, uint32_t seed, float stddev = 1.f) {
  auto v = normal_values(n, seed, stddev);
  for (auto& x : v) x = round_to(x, t);
  return v;
}

}  // namespace uma::test
