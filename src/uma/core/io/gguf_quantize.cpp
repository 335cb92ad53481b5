// Encoding float32 rows into ggml's legacy block types, as llama.cpp's
// reference quantizers (ggml-quants.c quantize_row_*_ref) do it: the same
// float32 arithmetic in the same order, so the bytes are the same.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "uma/core/io/gguf_quants.h"
#include "uma/core/io/gguf_quantize_k.h"

namespace uma::io::gguf {

namespace {

using T = GgmlType;

using detail::put_half;

// ggml_compute_fp32_to_bf16: NaN made quiet, else round to nearest even.
uint16_t bf16_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 64);
  return uint16_t((uint64_t(u) + (0x7fff + ((u >> 16) & 1))) >> 16);
}

void min_max(const float* x, float& min, float& max) {
  min = 3.402823466e+38f, max = -3.402823466e+38f;
  for (int j = 0; j < 32; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

// Q4_0 {f16 d; u8 qs[16]}, Q5_0 {f16 d; u32 qh; u8 qs[16]}: d = max / -2^(bits-1).
void symmetric(const float* x, uint8_t* b, int bits) {
  const float half_range = float(1 << (bits - 1));
  const float d = detail::signed_absmax(32, x) / -half_range;
  const float id = d ? 1.0f / d : 0.0f;
  put_half(b, d);
  const int top = (1 << bits) - 1;
  const float offset = half_range + 0.5f;  // 8.5f or 16.5f, added in one step as llama.cpp does
  uint32_t qh = 0;
  uint8_t* qs = b + (bits == 5 ? 6 : 2);
  for (int j = 0; j < 16; ++j) {
    int q0 = std::min(top, int(int8_t(x[j] * id + offset)));
    int q1 = std::min(top, int(int8_t(x[j + 16] * id + offset)));
    qs[j] = uint8_t((q0 & 0x0F) | ((q1 & 0x0F) << 4));
    qh |= uint32_t((q0 & 0x10) >> 4) << j;
    qh |= uint32_t((q1 & 0x10) >> 4) << (j + 16);
  }
  if (bits == 5) std::memcpy(b + 2, &qh, 4);
}

// Q4_1 {f16 d, m; u8 qs[16]}, Q5_1 {f16 d, m; u32 qh; u8 qs[16]}: d = (max - min) / (2^bits - 1).
void asymmetric(const float* x, uint8_t* b, int bits) {
  float min, max;
  min_max(x, min, max);
  const float d = (max - min) / float((1 << bits) - 1);
  const float id = d ? 1.0f / d : 0.0f;
  put_half(b, d);
  put_half(b + 2, min);
  uint32_t qh = 0;
  uint8_t* qs = b + (bits == 5 ? 8 : 4);
  for (int j = 0; j < 16; ++j) {
    float x0 = (x[j] - min) * id, x1 = (x[j + 16] - min) * id;
    // Q4_1 clamps a signed byte at 15; Q5_1 takes the unsigned byte as is.
    int q0 = bits == 4 ? std::min(15, int(int8_t(x0 + 0.5f))) : int(uint8_t(x0 + 0.5f));
    int q1 = bits == 4 ? std::min(15, int(int8_t(x1 + 0.5f))) : int(uint8_t(x1 + 0.5f));
    qs[j] = uint8_t((q0 & 0x0F) | ((q1 & 0x0F) << 4));
    qh |= uint32_t((q0 & 0x10) >> 4) << j;
    qh |= uint32_t((q1 & 0x10) >> 4) << (j + 16);
  }
  if (bits == 5) std::memcpy(b + 4, &qh, 4);
}

// Q8_0 {f16 d; i8 qs[32]}: d = absmax / 127, q = roundf(x / d).
void q8_0(const float* x, uint8_t* b) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d ? 1.0f / d : 0.0f;
  put_half(b, d);
  for (int j = 0; j < 32; ++j) b[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}

}  // namespace

bool can_quantize(uint32_t type) {
  switch (T(type)) {
    case T::F32: case T::F16: case T::BF16: case T::Q4_0: case T::Q4_1: case T::Q5_0: case T::Q5_1: case T::Q8_0:
    case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K: case T::Q6_K:
      return true;
    default:
      return false;
  }
}

void quantize(uint32_t type, const float* x, int64_t n, uint8_t* out) {
  const TypeTraits* tr = type_traits(type);
  if (!tr || !can_quantize(type)) {
    throw std::invalid_argument(std::string("[gguf] cannot quantize to type ") + (tr ? tr->name : std::to_string(type)));
  }
  if (n % tr->block_size != 0) {
    throw std::invalid_argument("[gguf] " + std::to_string(n) + " values are not a whole number of " + tr->name +
                                " blocks of " + std::to_string(tr->block_size));
  }
  switch (T(type)) {
    case T::F32: std::memcpy(out, x, size_t(n) * 4); return;
    case T::F16:
      for (int64_t i = 0; i < n; ++i) put_half(out + 2 * i, x[i]);
      return;
    case T::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b = bf16_bits(x[i]);
        std::memcpy(out + 2 * i, &b, 2);
      }
      return;
    case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K: case T::Q6_K:
      for (int64_t i = 0; i < n / 256; ++i) detail::quantize_k_block(T(type), x + 256 * i, out + i * tr->type_size);
      return;
    default: break;
  }
  for (int64_t i = 0; i < n / 32; ++i) {
    const float* xb = x + 32 * i;
    uint8_t* b = out + i * tr->type_size;
    switch (T(type)) {
      case T::Q4_0: symmetric(xb, b, 4); break;
      case T::Q5_0: symmetric(xb, b, 5); break;
      case T::Q4_1: asymmetric(xb, b, 4); break;
      case T::Q5_1: asymmetric(xb, b, 5); break;
      default: q8_0(xb, b); break;
    }
  }
}

}  // namespace uma::io::gguf
