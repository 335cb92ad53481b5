// The fp quantization modes (mxfp4, nvfp4, mxfp8) against hand values from
// the formats' definitions and MLX's rules (README of
// tests/fixtures/quantization), round-trip bounds, and quantized_matmul in
// these modes against matmul(x, dequantize(w)) for both layouts, every
// float dtype and batched weights. The byte-exact MLX goldens are in
// test_quantized_goldens.cpp.
#include <gtest/gtest.h>

#include "core/quantized_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

std::vector<uint32_t> codes_of(array wq, int bits, size_t n) {
  auto words = wq.to_vector<uint32_t>();
  std::vector<uint32_t> c(n);
  for (size_t i = 0; i < n; ++i) c[i] = code_at(words, i, bits);
  return c;
}

struct FpMode {
  const char* name;
  int gs, bits;
};
const FpMode kModes[] = {{"mxfp4", 32, 4}, {"nvfp4", 16, 4}, {"mxfp8", 32, 8}};
const Dtype kTypes[] = {float32, float16, bfloat16};

}  // namespace

TEST(QuantizeFp, Mxfp4HandValues) {
  // max |w| = 6: exponent rint(log2(6 / 6)) = 0, scale byte 127; codes are
  // the nearest E2M1 value, ties to the smaller magnitude, -0.1 -> +0.
  std::vector<float> w = {0.f, 0.25f, 0.75f, 2.5f, 5.f, -2.5f, -0.1f, 6.f, -6.f, 1.25f, -7.f, 3.5f};
  w.resize(32, 0.5f);
  auto q = quantize(array(w, {1, 32}), 32, 4, "mxfp4");
  EXPECT_EQ(q[1].to_vector<uint8_t>(), std::vector<uint8_t>{127});
  auto c = codes_of(q[0], 4, 32);
  std::vector<uint32_t> want = {0, 0, 1, 4, 6, 12, 0, 7, 15, 2, 15, 5};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(c[i], want[i]) << "w=" << w[i];
  for (size_t i = want.size(); i < 32; ++i) EXPECT_EQ(c[i], 1u);
  // Nibble k of word 0 is code k.
  EXPECT_EQ(q[0].to_vector<uint32_t>()[0] & 0xF, 0u);
  EXPECT_EQ((q[0].to_vector<uint32_t>()[0] >> 12) & 0xF, 4u);
  // max 24 -> exponent rint(log2(4)) = 2 (byte 129); 0.3 / 4 rounds to 0.
  std::vector<float> v(32, 0.3f);
  v[0] = 24.f;
  v[1] = -10.f;  // -2.5 -> -2
  auto q2 = quantize(array(v, {1, 32}), std::nullopt, std::nullopt, "mxfp4");
  EXPECT_EQ(q2[1].to_vector<uint8_t>(), std::vector<uint8_t>{129});
  auto c2 = codes_of(q2[0], 4, 3);
  EXPECT_EQ(c2, (std::vector<uint32_t>{7, 12, 0}));
  array d = dequantize(q2[0], q2[1], std::nullopt, 32, 4, "mxfp4", std::nullopt, float32);
  auto dv = d.to_vector<float>();
  EXPECT_EQ(dv[0], 24.f);
  EXPECT_EQ(dv[1], -8.f);
  EXPECT_EQ(dv[2], 0.f);
}

TEST(QuantizeFp, Mxfp8HandValues) {
  // max 448 -> exponent 0. E4M3 rounds half to even: 1.0625 -> 1.0 (0x38),
  // 1.1875 -> 1.25 (0x3A); 2^-9 is the smallest subnormal (0x01); 300 ->
  // 288 (0x79); -448 -> 0xFE.
  std::vector<float> w = {448.f, 1.0625f, 1.1875f, 0x1p-9f, 300.f, -448.f, 0.f, -0.f};
  w.resize(32, 1.f);
  auto q = quantize(array(w, {1, 32}), 32, 8, "mxfp8");
  EXPECT_EQ(q[1].to_vector<uint8_t>(), std::vector<uint8_t>{127});
  auto c = codes_of(q[0], 8, 8);
  EXPECT_EQ(c, (std::vector<uint32_t>{0x7E, 0x38, 0x3A, 0x01, 0x79, 0xFE, 0x00, 0x80}));
  array d = dequantize(q[0], q[1], std::nullopt, 32, 8, "mxfp8", std::nullopt, float32);
  auto dv = d.to_vector<float>();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(dv[i], float(e4m3_value(c[i])));
}

TEST(QuantizeFp, Nvfp4HandValuesAndGlobalScale) {
  // max 6 -> s = 1 -> scale byte E4M3(1.0) = 0x38; codes as mxfp4.
  std::vector<float> w = {6.f, -3.f, 0.5f, 2.5f};
  w.resize(16, 0.f);
  auto q = quantize(array(w, {1, 16}), 16, 4, "nvfp4");
  EXPECT_EQ(q[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(q[1].to_vector<uint8_t>(), std::vector<uint8_t>{0x38});
  EXPECT_EQ(codes_of(q[0], 4, 4), (std::vector<uint32_t>{7, 13, 1, 4}));
  // global_scale g: the scale byte encodes s * 448 * 6 / g; here g = 2688
  // gives the same byte, g = 1344 twice the scale (1.0 -> 2.0, 0x40) and
  // codes of (w / 2) * 2.
  auto qg = quantize(array(w, {1, 16}), 16, 4, "nvfp4", array(1344.f));
  EXPECT_EQ(qg[1].to_vector<uint8_t>(), std::vector<uint8_t>{0x40});
  EXPECT_EQ(codes_of(qg[0], 4, 4), (std::vector<uint32_t>{7, 13, 1, 4}));
  array d = dequantize(qg[0], qg[1], std::nullopt, 16, 4, "nvfp4", array(1344.f), float32);
  auto dv = d.to_vector<float>();
  EXPECT_EQ(dv[0], 6.f);  // 6 * 2 * 1344 / 2688
  EXPECT_EQ(dv[3], 2.f);
  // A zero group: scale byte 0, codes 0, dequantizes to 0.
  auto qz = quantize(zeros({1, 16}), 16, 4, "nvfp4");
  EXPECT_EQ(qz[1].to_vector<uint8_t>(), std::vector<uint8_t>{0});
  EXPECT_EQ(qz[0].to_vector<uint32_t>(), (std::vector<uint32_t>{0, 0}));
}

TEST(QuantizeFp, RoundTripErrorBound) {
  // With s the group's scale and a = |w| / s: the code is the format's value
  // nearest a (half a step away at most; the quotient and the distances are
  // rounded to t first, 2u a + u step more), or maxval when a is beyond it.
  // The rounded exponent keeps a under 2 maxval (under maxval 2^(1/2) but
  // for the rounding of log2 in t).
  for (const FpMode& m : kModes) {
    for (Dtype t : kTypes) {
      SCOPED_TRACE(std::string(m.name) + " " + dtype_name(t));
      auto v = values_in(t, 4 * 256, 11);
      array w = astype(array(v, {4, 256}), t);
      auto q = quantize(w, m.gs, m.bits, m.name);
      auto d = dequantize(q[0], q[1], std::nullopt, m.gs, m.bits, m.name, std::nullopt, float32)
                   .to_vector<double>();
      auto sc = q[1].to_vector<uint8_t>();
      const double u = unit_roundoff(t), maxval = m.bits == 4 ? 6.0 : 448.0;
      for (size_t i = 0; i < d.size(); ++i) {
        double s =
            std::string(m.name) == "nvfp4" ? e4m3_value(sc[i / m.gs]) : e8m0_value(sc[i / m.gs]);
        double a = std::fabs(v[i]) / s;
        // The spacing of the format's values around a: E2M1 0.5 / 1 / 2,
        // E4M3 2^(floor(log2 a) - 3), 2^-9 at the least.
        double step =
            m.bits == 4
                ? (a < 2   ? 0.5
                   : a < 4 ? 1.0
                           : 2.0)
                : std::ldexp(1.0, std::max(-9, int(std::floor(std::log2(std::max(a, 1e-30)))) - 3));
        double bound = (0.5 * step + u * step + 2 * u * a + std::max(0.0, a - maxval)) * s;
        ASSERT_LE(std::fabs(d[i] - v[i]), bound) << "i=" << i << " w=" << v[i] << " scale=" << s;
        ASSERT_LE(a, 2 * maxval) << "i=" << i;
      }
    }
  }
}

TEST(QuantizedMatmulFp, MatchesMatmulOfDequantized) {
  // Both sides compute in float32 from the same exact weights (E2M1 / E4M3
  // values times powers of two or E4M3 scales); each rounds once to t.
  int seed = 100;
  for (const FpMode& m : kModes) {
    for (Dtype t : kTypes) {
      for (bool tr : {true, false}) {
        for (int M : {1, 5}) {
          SCOPED_TRACE(std::string(m.name) + " " + dtype_name(t) + (tr ? " x@W.T" : " x@W") +
                       " M=" + std::to_string(M));
          const int K = 96, N = tr ? 40 : 64;
          array w = astype(
              array(normal_values(size_t(N) * K, seed++, 0.2f), tr ? Shape{N, K} : Shape{K, N}), t);
          array x = astype(array(normal_values(size_t(M) * K, seed++), {M, K}), t);
          auto q = quantize(w, m.gs, m.bits, m.name);
          array wd =
              dequantize(q[0], q[1], std::nullopt, m.gs, m.bits, m.name, std::nullopt, float32);
          array want = matmul(astype(x, float32), tr ? transpose(wd) : wd);
          array got = quantized_matmul(x, q[0], q[1], std::nullopt, tr, m.gs, m.bits, m.name);
          ASSERT_EQ(got.dtype(), t);
          ASSERT_EQ(got.shape(), (Shape{M, N}));
          expect_close(got, want.to_vector<double>(), 2 * unit_roundoff(t), 2e-5);
        }
      }
    }
  }
}

TEST(QuantizedMatmulFp, BatchedWeightsLeadingDimsAndGradient) {
  // Batched W (2, 24, 64) against x (3, 1, 2, 64) -> (3, 2, 2, 24).
  array w = array(normal_values(2 * 24 * 64, 21, 0.3f), {2, 24, 64});
  auto q = quantize(w, 32, 8, "mxfp8");
  EXPECT_EQ(q[0].shape(), (Shape{2, 24, 16}));
  EXPECT_EQ(q[1].shape(), (Shape{2, 24, 2}));
  EXPECT_EQ(q[0].primitive().output_shapes(q[0].inputs()),
            (std::vector<Shape>{{2, 24, 16}, {2, 24, 2}}));
  array wd = dequantize(q[0], q[1], std::nullopt, 32, 8, "mxfp8", std::nullopt, float32);
  array x = array(normal_values(3 * 2 * 64, 22), {3, 1, 2, 64});
  array y = quantized_matmul(x, q[0], q[1], std::nullopt, true, 32, 8, "mxfp8");
  EXPECT_EQ(y.shape(), (Shape{3, 2, 2, 24}));
  expect_close(y, matmul(x, swapaxes(wd, -1, -2)).to_vector<double>(), 1e-5, 1e-5);
  // x with leading dims, a transposed view, and a 2-D nvfp4 W.
  array w2 = array(normal_values(20 * 64, 23), {20, 64});
  auto q2 = quantize(w2, 16, 4, "nvfp4");
  array w2d = dequantize(q2[0], q2[1], std::nullopt, 16, 4, "nvfp4", std::nullopt, float32);
  array xt = transpose(array(normal_values(64 * 6, 24), {64, 6}));
  expect_close(quantized_matmul(xt, q2[0], q2[1], std::nullopt, true, 16, 4, "nvfp4"),
               matmul(xt, transpose(w2d)).to_vector<double>(), 1e-5, 1e-5);
  // The vjp for x is the other product (there are no biases among the inputs).
  array xs = array(normal_values(3 * 64, 25), {3, 64});
  array ys = quantized_matmul(xs, q2[0], q2[1], std::nullopt, true, 16, 4, "nvfp4");
  array cot = array(normal_values(3 * 20, 26), {3, 20});
  auto vjp = ys.primitive().vjp(ys.inputs(), {cot}, {0}, {ys});
  expect_close(vjp.at(0), matmul(cot, w2d).to_vector<double>(), 1e-5, 1e-5);
  auto jvp = ys.primitive().jvp(ys.inputs(), {xs}, {0});
  expect_close(jvp.at(0), ys.to_vector<double>(), 1e-6, 1e-6);
}
