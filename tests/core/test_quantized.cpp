// quantize / dequantize: MLX's affine rule and layout against hand values and
// the independent references of quantized_util.h, round-trip error bounds
// for every bits x group size x dtype, and the argument checks.
#include <gtest/gtest.h>

#include <cstring>

#include "core/quantized_util.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

const int kBits[] = {2, 3, 4, 5, 6, 8};
const int kGroups[] = {32, 64, 128};
const Dtype kTypes[] = {float32, float16, bfloat16};

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Repeats `pattern` to n values.
std::vector<float> tile(const std::vector<float>& pattern, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pattern[i % pattern.size()];
  return v;
}

}  // namespace

TEST(Quantize, HandValuesTwoBits) {
  // min -1.5 has the larger magnitude: scale (0.75 + 1.5) / 3 = 0.75, edge
  // -1.5 / 0.75 = -2 exactly, bias -1.5. Codes (w + 1.5) / 0.75 rounded half
  // to even: 0.375 -> 2.5 -> 2 and -1.125 -> 0.5 -> 0.
  auto w = tile({-1.5f, -0.75f, 0.f, 0.75f, 0.25f, -1.f, 0.375f, -1.125f}, 32);
  auto q = quantize(array(w, {1, 32}), 32, 2);
  // codes 0 1 2 3 2 1 2 0 -> bytes 0xE4 0x26, LSB first.
  EXPECT_EQ(q[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(q[0].to_vector<uint32_t>(), (std::vector<uint32_t>{0x26E426E4u, 0x26E426E4u}));
  EXPECT_EQ(q[1].to_vector<float>(), std::vector<float>{0.75f});
  EXPECT_EQ(q[2].to_vector<float>(), std::vector<float>{-1.5f});
  auto d = dequantize(q[0], q[1], q[2], 32, 2).to_vector<float>();
  auto want = tile({-1.5f, -0.75f, 0.f, 0.75f, 0.f, -0.75f, 0.f, -1.5f}, 32);
  EXPECT_EQ(d, want);
}

TEST(Quantize, HandValuesNegativeScaleAndZeroGroup) {
  // Row 0: max 1.5 is the edge, so the scale is negative and counts down
  // from it: scale 1.5 / -15, bias 1.5, and 0 gets code 15.
  // Row 1: all zeros: scale -1e-7 (the floor), bias 0, codes 0.
  std::vector<float> w(64, 0.f);
  for (int i = 0; i < 32; ++i) w[i] = (i % 2) ? 1.5f : 0.f;
  auto q = quantize(array(w, {2, 32}), 32, 4);
  auto words = q[0].to_vector<uint32_t>();
  EXPECT_EQ(words[0], 0x0F0F0F0Fu);  // codes 15, 0, 15, 0, ...
  EXPECT_EQ(words[4], 0u);
  auto s = q[1].to_vector<float>(), b = q[2].to_vector<float>();
  EXPECT_EQ(bits_of(s[0]), bits_of(1.5f / -15.f));
  EXPECT_EQ(b[0], 1.5f);
  EXPECT_EQ(bits_of(s[1]), bits_of(-1e-7f));
  EXPECT_EQ(b[1], 0.f);
}

// Every bits x group x dtype: the packed words equal the independent packer's
// stream of the reference codes (computed from the float32 scale and bias),
// and the stored scales and biases are those rounded to the dtype.
TEST(Quantize, MatchesReferenceBitForBit) {
  uint32_t seed = 10;
  for (Dtype t : kTypes) {
    for (int bits : kBits) {
      for (int gs : kGroups) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " bits=" + std::to_string(bits) + " group=" + std::to_string(gs));
        const int rows = 3, K = 2 * gs + (gs == 32 ? 32 : 0);
        auto w = values_in(t, size_t(rows * K), seed++, 0.5f);
        w[5] = 0.f;  // a zero and a repeated extreme
        w[7] = w[9];
        auto q = quantize(astype(array(w, {rows, K}), t), gs, bits);
        ASSERT_EQ(q[0].dtype(), uint32);
        ASSERT_EQ(q[1].dtype(), t);
        ASSERT_EQ(q[0].shape(), (Shape{rows, K * bits / 32}));
        ASSERT_EQ(q[1].shape(), (Shape{rows, K / gs}));
        std::vector<uint32_t> codes;
        std::vector<float> scales, biases;
        for (int g = 0; g < rows * K / gs; ++g) {
          RefGroup r = ref_quantize_group(w.data() + g * gs, gs, bits);
          codes.insert(codes.end(), r.codes.begin(), r.codes.end());
          scales.push_back(round_to(r.scale, t));
          biases.push_back(round_to(r.bias, t));
        }
        EXPECT_EQ(q[0].to_vector<uint32_t>(), pack_bits(codes, bits));
        EXPECT_EQ(q[1].to_vector<float>(), scales);
        EXPECT_EQ(q[2].to_vector<float>(), biases);
      }
    }
  }
}

// dequantize is exactly MLX's multiply-then-add: P(q * s) with P the scales'
// dtype, then + b rounded to the result dtype.
TEST(Dequantize, ExactlyProductThenSum) {
  uint32_t seed = 100;
  for (Dtype t : kTypes) {
    for (int bits : kBits) {
      for (int gs : kGroups) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " bits=" + std::to_string(bits) + " group=" + std::to_string(gs));
        const int rows = 2, K = 2 * gs;
        auto w = values_in(t, size_t(rows * K), seed++, 0.1f);
        auto q = quantize(astype(array(w, {rows, K}), t), gs, bits);
        array d = dequantize(q[0], q[1], q[2], gs, bits);
        ASSERT_EQ(d.dtype(), t);
        ASSERT_EQ(d.shape(), (Shape{rows, K}));
        auto words = q[0].to_vector<uint32_t>();
        auto s = q[1].to_vector<float>(), b = q[2].to_vector<float>();
        auto got = d.to_vector<float>();
        int mismatches = 0;
        for (int r = 0; r < rows; ++r) {
          for (int k = 0; k < K; ++k) {
            int g = (r * K + k) / gs;
            float code = float(code_at(words, size_t(r) * K + k, bits));
            float want = round_to(round_to(code * s[g], t) + b[g], t);
            mismatches += bits_of(got[r * K + k]) != bits_of(want);
          }
        }
        EXPECT_EQ(mismatches, 0);
      }
    }
  }
}

// |w - dequantize(quantize(w))| <= max(|s| / 2, distance to the codes' range),
// plus the roundings of the stored scale and bias and of dequantize in t;
// and the group's edge (extreme of largest magnitude) comes back exactly.
TEST(Quantize, RoundTripErrorBound) {
  uint32_t seed = 1000;
  for (Dtype t : kTypes) {
    for (int bits : kBits) {
      for (int gs : kGroups) {
        SCOPED_TRACE(std::string(dtype_name(t)) + " bits=" + std::to_string(bits) + " group=" + std::to_string(gs));
        const int rows = 4, K = 2 * gs;
        auto w = values_in(t, size_t(rows * K), seed++);
        auto q = quantize(astype(array(w, {rows, K}), t), gs, bits);
        auto d = dequantize(q[0], q[1], q[2], gs, bits).to_vector<float>();
        auto s = q[1].to_vector<float>(), b = q[2].to_vector<float>();
        const double u = unit_roundoff(t), levels = (1 << bits) - 1;
        double worst = 0;
        for (int g = 0; g < rows * K / gs; ++g) {
          double lo = std::min<double>(b[g], b[g] + levels * s[g]), hi = std::max<double>(b[g], b[g] + levels * s[g]);
          int edge = g * gs;
          for (int j = 0; j < gs; ++j) {
            int i = g * gs + j;
            if (std::fabs(w[i]) > std::fabs(w[edge])) {
              edge = i;
            }
            double outside = w[i] < lo ? lo - w[i] : w[i] > hi ? w[i] - hi : 0.0;
            double slack = 2 * u * (levels * std::fabs(s[g]) + 2 * std::fabs(b[g]) + std::fabs(w[i])) + 1e-30;
            double allowed = std::max(0.5 * std::fabs(s[g]) * (1 + 1e-6), outside) + slack;
            double err = std::fabs(double(d[i]) - w[i]);
            EXPECT_LE(err, allowed) << "at " << i;
            worst = std::max(worst, err / std::fabs(s[g]));
          }
          if (t == float32) {
            EXPECT_EQ(d[edge], w[edge]) << "edge of group " << g;
          }
        }
        // The codes' range may fall short of the far extreme by the scale's
        // adjustment to the edge; never by more than one step.
        if (t == float32) {
          EXPECT_LT(worst, 1.5);
        }
      }
    }
  }
}

TEST(Quantize, LeadingDimsAndLayouts) {
  // 3-D input, and a transposed (non-contiguous) one, equal their contiguous
  // 2-D quantization.
  auto w = values_in(float32, 2 * 3 * 64, 7);
  array a = array(w, {2, 3, 64});
  auto q3 = quantize(a, 32, 4);
  auto q2 = quantize(reshape(a, {6, 64}), 32, 4);
  EXPECT_EQ(q3[0].shape(), (Shape{2, 3, 8}));
  EXPECT_EQ(q3[0].to_vector<uint32_t>(), q2[0].to_vector<uint32_t>());
  array at = transpose(array(w, {64, 6}));  // (6, 64) view with strides (1, 6)
  auto qt = quantize(at, 64, 8);
  auto qc = quantize(add(at, array(0.f)), 64, 8);  // a contiguous copy
  EXPECT_EQ(qt[0].to_vector<uint32_t>(), qc[0].to_vector<uint32_t>());
  EXPECT_EQ(qt[1].to_vector<float>(), qc[1].to_vector<float>());
  // Default arguments: affine, group 64, 4 bits.
  auto qd = quantize(reshape(a, {6, 64}));
  EXPECT_EQ(qd[0].shape(), (Shape{6, 8}));
  EXPECT_EQ(qd[1].shape(), (Shape{6, 1}));
}

TEST(Dequantize, OutputDtypeAndMixedScaleTypes) {
  auto w = values_in(float32, 128, 3);
  auto q = quantize(array(w, {2, 64}), 64, 4);
  array d32 = dequantize(q[0], q[1], q[2], 64, 4);
  array d16 = dequantize(q[0], q[1], q[2], 64, 4, "affine", std::nullopt, float16);
  EXPECT_EQ(d16.dtype(), float16);
  auto a = d32.to_vector<float>(), b = d16.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(b[i], round_to(a[i], float16));
  // float16 scales with float32 biases: the product rounds to float16, the
  // sum is float32 (MLX's promotion of multiply then add).
  array s16 = astype(q[1], float16);
  array dm = dequantize(q[0], s16, q[2], 64, 4);
  EXPECT_EQ(dm.dtype(), float32);
  auto words = q[0].to_vector<uint32_t>();
  auto s = s16.to_vector<float>(), bias = q[2].to_vector<float>(), got = dm.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) {
    float want = round_to(float(code_at(words, i, 4)) * s[i / 64], float16) + bias[i / 64];
    EXPECT_EQ(bits_of(got[i]), bits_of(want)) << i;
  }
}

TEST(Quantize, ClearErrors) {
  array w = zeros({4, 64});
  EXPECT_EQ(error_of([&] { quantize(w, 16, 4); }),
            "[quantize] group_size 16 is not supported; the group sizes are 32, 64 and 128");
  EXPECT_EQ(error_of([&] { quantize(w, 64, 7); }),
            "[quantize] bits 7 is not supported; the bit widths are 2, 3, 4, 5, 6 and 8");
  EXPECT_EQ(error_of([&] { quantize(w, 64, 4, "mxfp4"); }),
            "[quantize] mxfp4 quantization requires group_size 32, got 64");
  EXPECT_EQ(error_of([&] { quantize(w, 16, 8, "nvfp4"); }),
            "[quantize] nvfp4 quantization requires bits 4, got 8");
  EXPECT_EQ(error_of([&] { quantize(w, 32, 4, "mxfp8"); }),
            "[quantize] mxfp8 quantization requires bits 8, got 4");
  EXPECT_EQ(error_of([&] { quantize(w, 32, 4, "mxfp4", array(2.f)); }),
            "[quantize] global_scale is only supported for mode 'nvfp4', not 'mxfp4'");
  EXPECT_EQ(error_of([&] {
              quantize(w, 16, 4, "nvfp4", array({1.f, 2.f}));
            }),
            "[quantize] global_scale must be a scalar, got shape (2)");
  EXPECT_EQ(error_of([&] { quantize(w, 16, 4, "nvfp4", astype(array(2.f), float16)); }),
            "[quantize] global_scale must be float32, got float16");
  EXPECT_EQ(error_of([&] {
              quantize(zeros({4, 48}), std::nullopt, std::nullopt, "mxfp4");
            }),
            "[quantize] the last dimension of (4,48) must be divisible by group_size 32");
  EXPECT_EQ(error_of([&] { quantize(w, 32, 4, "int4"); }),
            "[quantize] invalid quantization mode 'int4'; the modes are affine, mxfp4, nvfp4 and mxfp8");
  EXPECT_EQ(error_of([&] { quantize(zeros({4, 96}), 64, 4); }),
            "[quantize] the last dimension of (4,96) must be divisible by group_size 64");
  EXPECT_EQ(error_of([&] { quantize(zeros({64}), 64, 4); }),
            "[quantize] the matrix to quantize needs at least 2 dimensions, got shape (64)");
  EXPECT_EQ(error_of([&] { quantize(zeros({4, 64}, int32), 64, 4); }),
            "[quantize] the matrix to quantize must be float32, float16 or bfloat16, got int32");
}

TEST(Dequantize, ClearErrors) {
  auto q = quantize(zeros({4, 64}), 64, 4);
  EXPECT_EQ(error_of([&] { dequantize(q[0], q[1], std::nullopt, 64, 4); }),
            "[dequantize] biases must be given for affine quantization");
  EXPECT_EQ(error_of([&] { dequantize(astype(q[0], int32), q[1], q[2], 64, 4); }),
            "[dequantize] the packed weights must be uint32, got int32");
  EXPECT_EQ(error_of([&] { dequantize(q[0], q[1], zeros({4, 2}), 64, 4); }),
            "[dequantize] scales (4,1) and biases (4,2) must have the same shape");
  std::string wrong = error_of([&] { dequantize(q[0], q[1], q[2], 32, 4); });
  EXPECT_NE(wrong.find("[dequantize] packed weights (4,8) and scales (4,1) do not match for group_size=32 and bits=4"),
            std::string::npos)
      << wrong;
  EXPECT_NE(error_of([&] { dequantize(q[0], q[1], q[2], 64, 8); }).find("do not match"), std::string::npos);
  EXPECT_EQ(error_of([&] { dequantize(q[0], q[1], q[2], 64, 4, "nvfp4"); }),
            "[dequantize] nvfp4 quantization requires group_size 16, got 64");
  EXPECT_EQ(error_of([&] { dequantize(q[0], q[1], q[2], 64, 4, "affine", array(1.f)); }),
            "[dequantize] global_scale is only supported for mode 'nvfp4', not 'affine'");
  // The fp modes: uint8 scales and no biases.
  auto f = quantize(zeros({4, 64}), 32, 4, "mxfp4");
  EXPECT_EQ(error_of([&] { dequantize(f[0], f[1], q[2], 32, 4, "mxfp4"); }),
            "[dequantize] mode 'mxfp4' takes no biases, got biases of shape (4,1)");
  EXPECT_EQ(
      error_of([&] { dequantize(f[0], astype(f[1], float16), std::nullopt, 32, 4, "mxfp4"); }),
      "[dequantize] scales must be uint8 for mode 'mxfp4' (E8M0 bytes), got float16");
  EXPECT_EQ(
      error_of([&] { dequantize(f[0], f[1], std::nullopt, 32, 4, "mxfp4", std::nullopt, int32); }),
      "[dequantize] the output dtype must be float32, float16 or bfloat16, got int32");
  EXPECT_NE(
      error_of([&] { dequantize(f[0], f[1], std::nullopt, 16, 4, "nvfp4"); }).find("do not match"),
      std::string::npos);
  EXPECT_EQ(error_of([&] { dequantize(f[0], f[1], std::nullopt, 32, 4, "mxfp4", array(2.f)); }),
            "[dequantize] global_scale is only supported for mode 'nvfp4', not 'mxfp4'");
  EXPECT_EQ(error_of([&] { dequantize(q[0], q[1], q[2], 64, 4, "affine", std::nullopt, int32); }),
            "[dequantize] the output dtype must be float32, float16 or bfloat16, got int32");
}
