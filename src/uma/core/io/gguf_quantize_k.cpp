// Encoding float32 into ggml's K-quant super-blocks of 256 values (Q2_K,
// Q3_K, Q4_K, Q5_K, Q6_K) as llama.cpp's reference quantizers do it without
// an importance matrix (what llama-quantize runs): per sub-block a search for
// the scale (and min) that minimizes a weighted squared (Q2_K: absolute)
// error, then the sub-block scales themselves quantized to 4, 6 or 8 bits
// against one float16 super-block scale, and the values coded once more
// against the rounded scales. Same float32 arithmetic in the same order
// (compiled without FMA contraction), so the bytes are llama.cpp's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "uma/core/io/gguf_quantize_k.h"
#include "uma/core/io/gguf_quants.h"

namespace uma::io::gguf::detail {

namespace {

constexpr int kQK = 256;
constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, by adding 1.5 * 2^23: exact for |v| <
// 2^22; beyond it the low mantissa bits are taken as they come, as
// llama.cpp's nearest_int does (its callers clamp the result).
inline int nearest_int(float v) {
  float f = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &f, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// Codes L in [0, nmax] and the scale s and min m (returned as -m >= 0) that
// fit x ~ s L - m with weights w: a start from the range, then `steps` + 1
// trial scales around nmax / range, each refit by weighted least squares.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                    float rdelta, int steps, bool abs_error) {
  float min = x[0], max = x[0];
  float sum_w = w[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float best = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * (x[i] - min));
    L[i] = uint8_t(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = abs_error ? std::fabs(diff) : diff * diff;
    best += w[i] * diff;
  }
  uint8_t trial[32];
  for (int is = 0; is <= steps; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::max(0, std::min(nmax, nearest_int(iscale * (x[i] - min))));
      trial[i] = uint8_t(l);
      sum_l += w[i] * float(l);
      sum_l2 += w[i] * float(l) * float(l);
      sum_xl += w[i] * float(l) * x[i];
    }
    float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float s = (sum_w * sum_xl - sum_x * sum_l) / det;
      float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (m > 0) {
        m = 0;
        s = sum_xl / sum_l2;
      }
      float err = 0;
      for (int i = 0; i < n; ++i) {
        float diff = s * float(trial[i]) + m - x[i];
        diff = abs_error ? std::fabs(diff) : diff * diff;
        err += w[i] * diff;
      }
      if (err < best) {
        std::memcpy(L, trial, size_t(n));
        best = err;
        scale = s;
        min = m;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// Symmetric codes L in [0, 2 nmax) (value l - nmax) for Q6_K's sub-blocks:
// the scale from the largest magnitude, then 18 trial scales around it,
// weights x^2, kept where they raise sum(w x l)^2 / sum(w l^2).
float fit_symmetric(int n, int nmax, const float* x, int8_t* L) {
  const float max = signed_absmax(n, x);
  if (std::fabs(max) < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  auto code = [nmax](float iscale, float v) { return std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * v))); };
  float iscale = -float(nmax) / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = code(iscale, x[i]);
    L[i] = int8_t(l + nmax);
    float w = x[i] * x[i];
    sum_lx += w * x[i] * float(l);
    sum_l2 += w * float(l) * float(l);
  }
  float scale = sum_l2 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(is)) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = code(iscale, x[i]);
      float w = x[i] * x[i];
      sum_lx += w * x[i] * float(l);
      sum_l2 += w * float(l) * float(l);
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) L[i] = int8_t(code(iscale, x[i]) + nmax);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Q3_K's sub-blocks: codes in [-nmax, nmax) from the largest magnitude, then
// up to five passes that move single codes where that raises the same ratio.
float fit_q3(int n, int nmax, const float* x, int8_t* L) {
  const float max = signed_absmax(n, x);
  if (std::fabs(max) < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = -float(nmax) / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
    L[i] = int8_t(l);
    float w = x[i] * x[i];
    sum_lx += w * x[i] * float(l);
    sum_l2 += w * float(l) * float(l);
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      float w = x[i] * x[i];
      float slx = sum_lx - w * x[i] * float(L[i]);
      if (slx > 0) {
        float sl2 = sum_l2 - w * float(L[i]) * float(L[i]);
        int l = std::max(-nmax, std::min(nmax - 1, nearest_int(x[i] * sl2 / slx)));
        if (l != L[i]) {
          slx += w * x[i] * float(l);
          sl2 += w * float(l) * float(l);
          if (sl2 > 0 && slx * slx * sum_l2 > sum_lx * sum_lx * sl2) {
            L[i] = int8_t(l);
            sum_lx = slx;
            sum_l2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return sum_l2 > 0.0f ? sum_lx / sum_l2 : 0.0f;
}

// Q4_K/Q5_K's 12 bytes of eight 6-bit (scale, min) pairs: j < 4 in the low
// six bits of bytes j and j + 4; j >= 4 as nibbles of byte j + 4 with the
// top two bits in bytes j - 4 (scale) and j (min).
void pack_scale_min(uint8_t* q, int j, uint8_t ls, uint8_t lm) {
  if (j < 4) {
    q[j] = ls;
    q[j + 4] = lm;
  } else {
    q[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
    q[j - 4] |= uint8_t((ls >> 4) << 6);
    q[j] |= uint8_t((lm >> 4) << 6);
  }
}

// Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]} and Q5_K {... u8 qh[32]; u8
// qs[128]}: eight sub-blocks of 32, codes of 4 or 5 bits.
void q45_k(const float* x, uint8_t* b, int bits) {
  const int nmax = (1 << bits) - 1;
  uint8_t L[kQK];
  float scales[8], mins[8], w[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xs[l]);
    scales[j] = bits == 4 ? fit_scale_min(32, nmax, xs, w, L + 32 * j, &mins[j], -1.0f, 0.1f, 20, false)
                          : fit_scale_min(32, nmax, xs, w, L + 32 * j, &mins[j], -0.5f, 0.1f, 15, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  uint8_t* sc = b + 4;
  std::memset(sc, 0, 12);
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < 8; ++j) {
    uint8_t ls = uint8_t(nearest_int(inv_scale * scales[j]));
    uint8_t lm = uint8_t(nearest_int(inv_min * mins[j]));
    pack_scale_min(sc, j, std::min<uint8_t>(63, ls), std::min<uint8_t>(63, lm));
  }
  put_half(b, max_scale / 63.0f);
  put_half(b + 2, max_min / 63.0f);
  const float d_all = get_half(b), dmin_all = get_half(b + 2);
  for (int j = 0; j < 8; ++j) {
    int s, m;
    k4_scale_min(sc, j, s, m);
    const float d = d_all * float(s);
    if (!d) continue;
    const float dm = dmin_all * float(m);
    for (int i = 0; i < 32; ++i) {
      L[32 * j + i] = uint8_t(std::max(0, std::min(nmax, nearest_int((x[32 * j + i] + dm) / d))));
    }
  }
  if (bits == 4) {
    uint8_t* q = b + 16;
    for (int j = 0; j < kQK; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    }
    return;
  }
  uint8_t* qh = b + 16;
  uint8_t* ql = b + 48;
  std::memset(qh, 0, 32);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kQK; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j], l2 = L[n + j + 32];
      if (l1 > 15) l1 -= 16, qh[j] |= m1;
      if (l2 > 15) l2 -= 16, qh[j] |= m2;
      ql[j] = uint8_t(l1 | (l2 << 4));
    }
    m1 = uint8_t(m1 << 2);
    m2 = uint8_t(m2 << 2);
  }
}

// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: sixteen sub-blocks of
// 16, 6-bit codes around 32, int8 sub-block scales.
void q6_k(const float* x, uint8_t* b) {
  int8_t L[kQK];
  float scales[16];
  float max_scale = 0, max_abs = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > max_abs) {
      max_abs = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  if (max_abs < kGroupMaxEps) {
    std::memset(b, 0, 210);
    return;
  }
  int8_t* sc = reinterpret_cast<int8_t*>(b + 192);
  const float iscale = -128.0f / max_scale;
  put_half(b + 208, 1 / iscale);
  for (int j = 0; j < 16; ++j) sc[j] = int8_t(std::min(127, nearest_int(iscale * scales[j])));
  const float d_all = get_half(b + 208);
  for (int j = 0; j < 16; ++j) {
    const float d = d_all * float(sc[j]);
    if (!d) continue;
    for (int i = 0; i < 16; ++i) {
      L[16 * j + i] = int8_t(std::max(-32, std::min(31, nearest_int(x[16 * j + i] / d))) + 32);
    }
  }
  uint8_t* ql = b;
  uint8_t* qh = b + 128;
  for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const int a = L[j + l], c = L[j + l + 32], e = L[j + l + 64], g = L[j + l + 96];
      ql[l] = uint8_t((a & 0xF) | ((e & 0xF) << 4));
      ql[l + 32] = uint8_t((c & 0xF) | ((g & 0xF) << 4));
      qh[l] = uint8_t((a >> 4) | ((c >> 4) << 2) | ((e >> 4) << 4) | ((g >> 4) << 6));
    }
  }
}

// Q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}: sixteen sub-blocks
// of 16, 3-bit codes (2 low bits in qs, the high one in hmask), 6-bit signed
// sub-block scales.
void q3_k(const float* x, uint8_t* b) {
  int8_t L[kQK];
  float scales[16];
  float max_scale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  uint8_t* hmask = b;
  uint8_t* qs = b + 32;
  uint8_t* sc = b + 96;
  std::memset(sc, 0, 12);
  if (max_scale) {
    const float iscale = -32.0f / max_scale;
    for (int j = 0; j < 16; ++j) {
      int8_t l = int8_t(nearest_int(iscale * scales[j]));
      l = int8_t(std::max<int>(-32, std::min<int>(31, l)) + 32);
      if (j < 8) {
        sc[j] = uint8_t(l & 0xF);
      } else {
        sc[j - 8] |= uint8_t((l & 0xF) << 4);
      }
      l = int8_t(l >> 4);
      sc[j % 4 + 8] |= uint8_t(l << (2 * (j / 4)));
    }
    put_half(b + 108, 1 / iscale);
  } else {
    put_half(b + 108, 0.0f);
  }
  const float d_all = get_half(b + 108);
  for (int j = 0; j < 16; ++j) {
    int s = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
    s = int8_t((s | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    const float d = d_all * float(s);
    if (!d) continue;
    for (int i = 0; i < 16; ++i) {
      L[16 * j + i] = int8_t(std::max(-4, std::min(3, nearest_int(x[16 * j + i] / d))) + 4);
    }
  }
  std::memset(hmask, 0, 32);
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < kQK; ++j) {
    if (L[j] > 3) {
      hmask[m] |= hm;
      L[j] = int8_t(L[j] - 4);
    }
    if (++m == 32) m = 0, hm = uint8_t(hm << 1);
  }
  for (int j = 0; j < kQK; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Q2_K {u8 scales[16]; u8 qs[64]; f16 d, dmin}: sixteen sub-blocks of 16,
// 2-bit codes, 4-bit scale and min per sub-block, fitted by absolute error.
void q2_k(const float* x, uint8_t* b) {
  uint8_t L[kQK];
  float scales[16], mins[16], w[16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
    scales[j] = fit_scale_min(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  uint8_t* sc = b;
  uint8_t* qs = b + 16;
  const float q4scale = 15.0f;
  if (max_scale > 0) {
    const float iscale = q4scale / max_scale;
    for (int j = 0; j < 16; ++j) sc[j] = uint8_t(nearest_int(iscale * scales[j]));
    put_half(b + 80, max_scale / q4scale);
  } else {
    std::memset(sc, 0, 16);
    put_half(b + 80, 0.0f);
  }
  if (max_min > 0) {
    const float iscale = q4scale / max_min;
    for (int j = 0; j < 16; ++j) sc[j] |= uint8_t(nearest_int(iscale * mins[j]) << 4);
    put_half(b + 82, max_min / q4scale);
  } else {
    put_half(b + 82, 0.0f);
  }
  const float d_all = get_half(b + 80), dmin_all = get_half(b + 82);
  for (int j = 0; j < 16; ++j) {
    const float d = d_all * float(sc[j] & 0xF);
    if (!d) continue;
    const float dm = dmin_all * float(sc[j] >> 4);
    for (int i = 0; i < 16; ++i) {
      L[16 * j + i] = uint8_t(std::max(0, std::min(3, nearest_int((x[16 * j + i] + dm) / d))));
    }
  }
  for (int j = 0; j < kQK; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

}  // namespace

void quantize_k_block(GgmlType type, const float* x, uint8_t* out) {
  switch (type) {
    case GgmlType::Q2_K: q2_k(x, out); return;
    case GgmlType::Q3_K: q3_k(x, out); return;
    case GgmlType::Q4_K: q45_k(x, out, 4); return;
    case GgmlType::Q5_K: q45_k(x, out, 5); return;
    case GgmlType::Q6_K: q6_k(x, out); return;
    default: break;
  }
}

}  // namespace uma::io::gguf::detail
