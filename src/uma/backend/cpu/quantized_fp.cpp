// CPU kernels of the fp quantization modes (mxfp4, nvfp4, mxfp8), bit-exact
// with MLX 846d176's CPU build. MLX computes quantize and dequantize for
// these modes as graphs of ops (fp_quantize / fp_dequantize in mlx/ops.cpp);
// here each step of those graphs is one expression, rounded to the dtype that
// MLX's op would produce there (round_to<T>), so the results agree bit for
// bit. tests/fixtures/quantization/README.md spells the steps out.
#include "uma/backend/cpu/quantized_fp.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"

namespace uma::cpu {

namespace {

// E2M1 values by code (bit 3 is the sign): MLX's lookup table.
constexpr float kE2M1[16] = {0.f,  .5f,  1.f,  1.5f,  2.f,  3.f,  4.f,  6.f,
                             -0.f, -.5f, -1.f, -1.5f, -2.f, -3.f, -4.f, -6.f};

int bits_of(QuantizationMode m) { return m == QuantizationMode::mxfp8 ? 8 : 4; }

// float -> int32 as x86's cvttss2si does it (what MLX's astype compiles to):
// NaN and out-of-range values give INT32_MIN rather than undefined behaviour.
int32_t to_int32(float f) {
  if (!(f >= -2147483648.f && f < 2147483648.f)) return INT32_MIN;
  return int32_t(f);
}

// The code of the E2M1 value nearest v, by MLX's argmin(|v - LUT|): the
// distances are rounded to D (the dtype of MLX's subtract) and the first
// minimum wins, so ties go to the smaller magnitude and whatever rounds to 0,
// negative values too, is +0 (code 0). NaN gives code 0.
template <typename D>
uint32_t e2m1_code(float v) {
  uint32_t best = 0;
  float best_d = std::fabs(round_to<D>(v - kE2M1[0]));
  for (uint32_t i = 1; i < 16; ++i) {
    float d = std::fabs(round_to<D>(v - kE2M1[i]));
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

template <typename T>
uint32_t mx_code(float v, QuantizationMode mode) {
  return mode == QuantizationMode::mxfp8 ? fp8_e4m3_from_float(v) : e2m1_code<T>(v);
}

// One group of w (T) to codes and its scale byte; `enc` is nvfp4's scale
// encoding (448 * 6 / global_scale, or 1).
template <typename T>
uint8_t quantize_group(const T* w, int gs, QuantizationMode mode, float enc, uint32_t* codes) {
  float amax = 0.f;
  for (int j = 0; j < gs; ++j) amax = std::max(amax, std::fabs(static_cast<float>(w[j])));
  if (mode == QuantizationMode::nvfp4) {
    // s = max / 6 in T; the E4M3 scale byte of s * enc in float32; codes of
    // (w / s_e4m3 in T) * enc in float32, so their distances are float32.
    float s = round_to<T>(amax / 6.f);
    uint8_t sb = fp8_e4m3_from_float(round_to<float>(s * enc));
    float d = round_to<T>(fp8_e4m3_to_float(sb));
    for (int j = 0; j < gs; ++j) {
      codes[j] = e2m1_code<float>(round_to<float>(round_to<T>(static_cast<float>(w[j]) / d) * enc));
    }
    return sb;
  }
  // mx: e = rint(log2(max / maxval)) with every step in T (0 for a zero
  // group), codes of w / 2^e in T, scale byte e + 127.
  const float maxval = mode == QuantizationMode::mxfp8 ? 448.f : 6.f;
  float s = round_to<T>(amax / maxval);
  float e =
      s == 0.f ? 0.f : round_to<T>(float(to_int32(std::nearbyint(round_to<T>(std::log2(s))))));
  float p = round_to<T>(std::pow(2.f, e));
  for (int j = 0; j < gs; ++j)
    codes[j] = mx_code<T>(round_to<T>(static_cast<float>(w[j]) / p), mode);
  return uint8_t(to_int32(round_to<T>(e + 127.f)));
}

float global_scale_value(const array* gs) {
  array g = row_major(*gs);
  return *static_cast<const float*>(g.raw_ptr());
}

// Per-byte tables of one matrix's decoding: the value of each code and the
// factor of each scale byte.
struct FpTables {
  float value[256];
  float scale[256];
};

}  // namespace

uint8_t fp8_e4m3_from_float(float x) {
  uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  float a = std::fabs(x);
  if (!(a < 448.f)) return sign | 0x7E;  // saturate (NaN and infinities too)
  // Below 2^-6 the subnormal steps of 2^-9 (the count 8 is the first normal).
  if (a < 0x1p-6f) return sign | uint8_t(std::nearbyint(a * 512.f));
  int e;
  float m = std::frexp(a, &e);                         // a = (2m) 2^(e-1), 2m in [1, 2)
  int f = int(std::nearbyint((2.f * m - 1.f) * 8.f));  // 3 mantissa bits, half to even
  int biased = e - 1 + 7;
  if (f == 8) {  // rounded up to the next binade
    f = 0;
    ++biased;
  }
  return sign | uint8_t(biased << 3 | f);
}

float fp8_e4m3_to_float(uint8_t b) {
  int e = (b >> 3) & 15, f = b & 7;
  float v = e ? std::ldexp(1.f + float(f) / 8.f, e - 7) : std::ldexp(float(f), -9);
  return (b & 0x80) ? -v : v;
}

void fp_quantize(const array& w_in, const array* global_scale, int group_size,
                 QuantizationMode mode, array& wq, array& scales) {
  array w = row_major(w_in);
  wq.set_data(allocator::malloc(wq.nbytes()));
  scales.set_data(allocator::malloc(scales.nbytes()));
  if (w.size() == 0) return;
  const int bits = bits_of(mode);
  const float enc =
      global_scale ? round_to<float>(448.f * 6.f / global_scale_value(global_scale)) : 1.f;
  const int64_t n_groups = int64_t(w.size()) / group_size, words_per_group = group_size * bits / 32;
  auto* wq_p = static_cast<uint32_t*>(wq.raw_ptr());
  auto* sc_p = static_cast<uint8_t*>(scales.raw_ptr());
  dispatch_float(w.dtype(), "quantize", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, double>) {
      throw std::invalid_argument("[quantize] float64 is not supported");
    } else {
      const T* wp = static_cast<const T*>(w.raw_ptr());
      parallel_for(size_t(n_groups), grain_for_bytes(size_t(group_size) * 16 * sizeof(T)),
                   [&](size_t b, size_t e) {
                     uint32_t codes[32];
                     for (size_t g = b; g < e; ++g) {
                       sc_p[g] =
                           quantize_group<T>(wp + g * group_size, group_size, mode, enc, codes);
                       write_codes(codes, group_size, bits, wq_p + g * words_per_group);
                     }
                   });
    }
  });
}

void fp_dequantize(const array& wq_in, const array& scales_in, const array* global_scale,
                   int group_size, QuantizationMode mode, array& out) {
  array wq = row_major(wq_in);
  array scales = row_major(scales_in);
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const int bits = bits_of(mode);
  const int64_t n_groups = int64_t(out.size()) / group_size,
                words_per_group = group_size * bits / 32;
  const auto* wq_p = static_cast<const uint32_t*>(wq.raw_ptr());
  const auto* sc_p = static_cast<const uint8_t*>(scales.raw_ptr());
  const bool has_gs = global_scale != nullptr;
  const float inv_enc =
      has_gs ? round_to<float>(global_scale_value(global_scale) / (448.f * 6.f)) : 1.f;
  dispatch_float(out.dtype(), "dequantize", [&](auto tag) {
    using O = typename decltype(tag)::type;
    if constexpr (std::is_same_v<O, double>) {
      throw std::invalid_argument("[dequantize] float64 is not supported");
    } else {
      // MLX: value (in O) times scale; mx scale 2^(byte - 127) as O's pow,
      // nvfp4's E4M3 byte in O, times global_scale / (448 * 6) in float32
      // when given (MLX's product is then float32; here rounded to O).
      FpTables t;
      for (int b = 0; b < 256; ++b) {
        t.value[b] = round_to<O>(bits == 8 ? fp8_e4m3_to_float(uint8_t(b)) : kE2M1[b & 15]);
        if (mode == QuantizationMode::nvfp4) {
          t.scale[b] = round_to<float>(round_to<O>(fp8_e4m3_to_float(uint8_t(b))) * inv_enc);
        } else {
          t.scale[b] = round_to<O>(std::pow(2.f, float(b) - 127.f));
        }
      }
      O* op = static_cast<O*>(out.raw_ptr());
      parallel_for(size_t(n_groups), grain_for_bytes(size_t(group_size) * sizeof(O)),
                   [&](size_t b, size_t e) {
                     for (size_t g = b; g < e; ++g) {
                       const float s = t.scale[sc_p[g]];
                       for (int j = 0; j < group_size; ++j) {
                         op[g * group_size + j] = static_cast<O>(
                             t.value[read_code(wq_p + g * words_per_group, j, bits)] * s);
                       }
                     }
                   });
    }
  });
}

namespace {

float round_to_dtype(float x, Dtype t) {
  if (t == float16) return round_to<float16_t>(x);
  if (t == bfloat16) return round_to<bfloat16_t>(x);
  return x;
}

// Elements [c0, c1) of packed row r (of `cols` codes) of the matrix, float32.
void decode_span(const FpQmm& p, const FpTables& t, int64_t r, int64_t cols, int64_t c0, int64_t c1,
                 float* out) {
  const int bits = bits_of(p.mode);
  const uint32_t* wr = p.w + r * (cols * bits / 32);
  const uint8_t* sr = p.scales + r * (cols / p.group_size);
  for (int64_t c = c0; c < c1; ++c)
    out[c - c0] = t.value[read_code(wr, c, bits)] * t.scale[sr[c / p.group_size]];
}

}  // namespace

void qmm_fp(const FpQmm& p) {
  // MLX's kernel: value * scale, the scale (2^(byte - 127) for mx, the E4M3
  // value for nvfp4) first converted to x's dtype.
  FpTables t;
  for (int b = 0; b < 256; ++b) {
    t.value[b] = bits_of(p.mode) == 8 ? fp8_e4m3_to_float(uint8_t(b)) : kE2M1[b & 15];
    float s = p.mode == QuantizationMode::nvfp4 ? fp8_e4m3_to_float(uint8_t(b))
                                                : std::ldexp(1.f, b - 127);
    t.scale[b] = round_to_dtype(s, p.compute_dtype);
  }
  if (p.transpose) {
    // W (N, K): one decoded row, then a dot product per row of x.
    parallel_for(size_t(p.N), grain_for_bytes(size_t(p.K) * 4), [&](size_t b, size_t e) {
      std::vector<float> row(size_t(p.K));
      for (size_t n = b; n < e; ++n) {
        decode_span(p, t, int64_t(n), p.K, 0, p.K, row.data());
        for (int64_t m = 0; m < p.M; ++m)
          p.y[m * p.N + int64_t(n)] = dot_f32(p.x + m * p.K, row.data(), p.K);
      }
    });
    return;
  }
  // W (K, N), groups along N: each task owns whole groups of output columns.
  const int64_t groups = p.N / p.group_size;
  parallel_for(size_t(groups), 1, [&](size_t gb, size_t ge) {
    const int64_t c0 = int64_t(gb) * p.group_size, width = int64_t(ge - gb) * p.group_size;
    std::vector<float> part(static_cast<size_t>(width));
    for (int64_t m = 0; m < p.M; ++m) std::fill_n(p.y + m * p.N + c0, width, 0.f);
    for (int64_t k = 0; k < p.K; ++k) {
      decode_span(p, t, k, p.N, c0, c0 + width, part.data());
      for (int64_t m = 0; m < p.M; ++m)
        axpy_f32(p.x[m * p.K + k], part.data(), p.y + m * p.N + c0, width);
    }
  });
}

}  // namespace uma::cpu
