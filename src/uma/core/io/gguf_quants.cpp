// ggml's block layouts (ggml-common.h) and their decoding. Every block
// starts where the previous one ends (no padding); multi-byte fields are
// little-endian, as x86 reads them.
#include "uma/core/io/gguf_quants.h"

#include <cstring>
#include <stdexcept>
#include <string>


namespace uma::io::gguf {

namespace {

using T = GgmlType;

float half(const uint8_t* p) {
  uint16_t b;
  std::memcpy(&b, p, 2);
  _Float16 h;
  std::memcpy(&h, &b, 2);
  return float(h);
}

float bf16(const uint8_t* p) {
  uint16_t b;
  std::memcpy(&b, p, 2);
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

constexpr int8_t kIq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// A 32-value block of the legacy types as {scale, bias, codes}: value j is
// scale * code[j] + bias.
struct Block32 {
  float scale, bias;
  uint8_t code[32];
};

// Q4_0 {f16 d; u8 qs[16]}: low nibbles are values 0..15, high ones 16..31,
// value d * (q - 8). Q4_1 {f16 d, m; u8 qs[16]}: d * q + m. Q5_0 {f16 d;
// u32 qh; u8 qs[16]}: bit j of qh is the fifth bit of value j, d * (q - 16).
// Q5_1 {f16 d, m; u32 qh; u8 qs[16]}: d * q + m. Q8_0 {f16 d; i8 qs[32]}: d * q.
void decode32(uint32_t type, const uint8_t* b, Block32& o) {
  auto nibbles = [&](const uint8_t* qs) {
    for (int j = 0; j < 16; ++j) {
      o.code[j] = qs[j] & 0xF;
      o.code[j + 16] = qs[j] >> 4;
    }
  };
  auto high_bits = [&](const uint8_t* qh) {
    uint32_t h;
    std::memcpy(&h, qh, 4);
    for (int j = 0; j < 32; ++j) o.code[j] |= uint8_t(((h >> j) & 1) << 4);
  };
  float d = half(b);
  switch (T(type)) {
    case T::Q4_0:
      nibbles(b + 2);
      o.scale = d, o.bias = -8 * d;
      return;
    case T::Q4_1:
      nibbles(b + 4);
      o.scale = d, o.bias = half(b + 2);
      return;
    case T::Q5_0:
      nibbles(b + 6);
      high_bits(b + 2);
      o.scale = d, o.bias = -16 * d;
      return;
    case T::Q5_1:
      nibbles(b + 8);
      high_bits(b + 4);
      o.scale = d, o.bias = half(b + 2);
      return;
    case T::Q8_0:
      for (int j = 0; j < 32; ++j) o.code[j] = uint8_t(int(int8_t(b[2 + j])) + 128);
      o.scale = d, o.bias = -128 * d;
      return;
    default: break;
  }
  throw std::logic_error("[gguf] not a 32-value legacy type");
}

// Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]} and Q5_K {f16 d, dmin; u8
// scales[12]; u8 qh[32]; u8 qs[128]}: 8 sub-blocks of 32; sub-block 2c takes
// the low nibbles of qs[32c..32c+31], 2c+1 the high ones (Q5_K: plus bit 2c
// or 2c+1 of qh[l] as the fifth bit); value d*sc * q - dmin*m.
void decode_k_sub(uint32_t type, const uint8_t* b, int sub, Block32& o) {
  float d = half(b), dmin = half(b + 2);
  const uint8_t* scales = b + 4;
  const bool q5 = T(type) == T::Q5_K;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (q5 ? 48 : 16) + 32 * (sub / 2);
  int sc, m;
  k4_scale_min(scales, sub, sc, m);
  for (int l = 0; l < 32; ++l) {
    uint8_t q = sub % 2 ? qs[l] >> 4 : qs[l] & 0xF;
    if (q5 && (qh[l] >> sub) & 1) q |= 16;
    o.code[l] = q;
  }
  o.scale = d * float(sc);
  o.bias = -(dmin * float(m));
}

// Q2_K {u8 scales[16]; u8 qs[64]; f16 d, dmin}: 16 sub-blocks of 16, 2-bit q,
// value d*(sc & 15) * q - dmin*(sc >> 4).
void dequant_q2_k(const uint8_t* b, float* y) {
  const uint8_t* sc = b;
  const uint8_t* q = b + 16;
  float d = half(b + 80), dmin = half(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half16 = 0; half16 < 2; ++half16) {
        uint8_t s = sc[is++];
        float dl = d * float(s & 0xF), ml = dmin * float(s >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * half16] >> shift) & 3) - ml;
      }
    }
  }
}

// Q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: 16 sub-blocks of 16,
// 6-bit scales (stored biased by 32), 3-bit q (2 low bits in qs, the third
// in hmask, set meaning +0 and clear meaning -4).
void dequant_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  float d = half(b + 108);
  uint32_t aux[4];
  std::memcpy(aux, b + 96, 12);
  const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
  uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & k2) | (((tmp >> 4) & k1) << 4);
  aux[3] = ((aux[1] >> 4) & k2) | (((tmp >> 6) & k1) << 4);
  aux[0] = (aux[0] & k2) | (((tmp >> 0) & k1) << 4);
  aux[1] = (aux[1] & k2) | (((tmp >> 2) & k1) << 4);
  int8_t scales[16];
  std::memcpy(scales, aux, 16);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < 256; n += 128, q += 32) {
    for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
      for (int half16 = 0; half16 < 2; ++half16) {
        float dl = d * float(scales[is++] - 32);
        for (int l = 16 * half16; l < 16 * half16 + 16; ++l) {
          *y++ = dl * float(((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
        }
      }
    }
  }
}

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: 16 sub-blocks of 16,
// 6-bit q (4 low bits in ql, 2 high in qh), value d * sc * (q - 32).
void dequant_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  float d = half(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

// IQ4_NL {f16 d; u8 qs[16]}: 4-bit indices into a fixed non-uniform table.
void dequant_iq4(float d, const uint8_t* qs, float* y) {
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(kIq4nl[qs[j] & 0xF]);
    y[j + 16] = d * float(kIq4nl[qs[j] >> 4]);
  }
}

// IQ4_XS {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}: 8 sub-blocks of
// 32 with 6-bit scales biased by 32.
void dequant_iq4_xs(const uint8_t* b, float* y) {
  float d = half(b);
  uint16_t sh;
  std::memcpy(&sh, b + 2, 2);
  const uint8_t* sl = b + 4;
  const uint8_t* qs = b + 8;
  for (int ib = 0; ib < 8; ++ib, y += 32, qs += 16) {
    int ls = ((sl[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
    dequant_iq4(d * float(ls - 32), qs, y);
  }
}

const TypeTraits& traits(uint32_t type) {
  const TypeTraits* t = type_traits(type);
  if (!t) throw std::invalid_argument("[gguf] unknown ggml type " + std::to_string(type));
  return *t;
}

}  // namespace

bool can_dequantize(uint32_t type) {
  switch (T(type)) {
    case T::F32: case T::F16: case T::BF16: case T::Q4_0: case T::Q4_1: case T::Q5_0: case T::Q5_1:
    case T::Q8_0: case T::Q2_K: case T::Q3_K: case T::Q4_K: case T::Q5_K: case T::Q6_K: case T::IQ4_NL:
    case T::IQ4_XS:
      return true;
    default: return false;
  }
}

void dequantize(uint32_t type, const uint8_t* data, int64_t n, float* out) {
  const TypeTraits& tr = traits(type);
  if (!can_dequantize(type)) throw std::invalid_argument(std::string("[gguf] cannot decode tensors of type ") + tr.name);
  if (n % tr.block_size) throw std::invalid_argument("[gguf] element count is not a multiple of the block size");
  const int64_t blocks = n / tr.block_size;
  for (int64_t i = 0; i < blocks; ++i) {
    const uint8_t* b = data + i * tr.type_size;
    float* y = out + i * tr.block_size;
    switch (T(type)) {
      case T::F32: std::memcpy(y, b, 4); break;
      case T::F16: *y = half(b); break;
      case T::BF16: *y = bf16(b); break;
      case T::Q4_0: case T::Q4_1: case T::Q5_0: case T::Q5_1: case T::Q8_0: {
        // scale * code + bias equals llama.cpp's d * (q - offset) (+ m) exactly:
        // d has 11 significant bits and codes 8, so every term is exact in float32.
        Block32 blk;
        decode32(type, b, blk);
        for (int j = 0; j < 32; ++j) y[j] = blk.scale * float(blk.code[j]) + blk.bias;
        break;
      }
      case T::Q4_K: case T::Q5_K:
        for (int sub = 0; sub < 8; ++sub) {
          Block32 blk;
          decode_k_sub(type, b, sub, blk);
          for (int l = 0; l < 32; ++l) y[32 * sub + l] = blk.scale * float(blk.code[l]) + blk.bias;
        }
        break;
      case T::Q2_K: dequant_q2_k(b, y); break;
      case T::Q3_K: dequant_q3_k(b, y); break;
      case T::Q6_K: dequant_q6_k(b, y); break;
      case T::IQ4_NL: dequant_iq4(half(b), b + 2, y); break;
      case T::IQ4_XS: dequant_iq4_xs(b, y); break;
      default: break;
    }
  }
}

std::optional<int> affine_bits(uint32_t type) {
  switch (T(type)) {
    case T::Q4_0: case T::Q4_1: case T::Q4_K: return 4;
    case T::Q5_0: case T::Q5_1: case T::Q5_K: return 5;
    case T::Q8_0: return 8;
    default: return std::nullopt;
  }
}

void to_affine(uint32_t type, const uint8_t* data, int64_t rows, int64_t cols, uint32_t* codes, float* scales,
               float* biases) {
  auto bits_opt = affine_bits(type);
  const TypeTraits& tr = traits(type);
  if (!bits_opt) throw std::invalid_argument(std::string("[gguf] ") + tr.name + " has no affine form");
  if (cols % tr.block_size) throw std::invalid_argument("[gguf] row length is not a multiple of the block size");
  const int bits = *bits_opt;
  const int64_t words = cols * bits / 32, groups = cols / 32;
  const bool k_quant = tr.block_size == 256;
  const int64_t row_bytes = cols / tr.block_size * tr.type_size;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = data + r * row_bytes;
    uint32_t* c = codes + r * words;
    std::memset(c, 0, size_t(words) * 4);
    for (int64_t g = 0; g < groups; ++g) {
      Block32 blk;
      if (k_quant) {
        decode_k_sub(type, row + (g / 8) * tr.type_size, int(g % 8), blk);
      } else {
        decode32(type, row + g * tr.type_size, blk);
      }
      scales[r * groups + g] = blk.scale;
      biases[r * groups + g] = blk.bias;
      // LSB-first bit stream: value k of the row at bits [k*bits, k*bits+bits).
      uint32_t* gw = c + g * bits;  // a group of 32 values fills `bits` words
      if (bits == 4) {
        for (int w = 0; w < 4; ++w) {
          uint32_t v = 0;
          for (int j = 0; j < 8; ++j) v |= uint32_t(blk.code[8 * w + j]) << (4 * j);
          gw[w] = v;
        }
      } else if (bits == 8) {
        std::memcpy(gw, blk.code, 32);  // little-endian words hold bytes in order
      } else {
        for (int j = 0; j < 32; ++j) {
          int bit = j * bits;
          uint64_t v = uint64_t(blk.code[j]) << (bit % 32);
          gw[bit / 32] |= uint32_t(v);
          if (bit % 32 + bits > 32) gw[bit / 32 + 1] |= uint32_t(v >> 32);
        }
      }
    }
  }
}

}  // namespace uma::io::gguf
