// Gradient rules outside the shape, reduction and sort families: AddMM's jvp,
// RandomBits (integer in, integer out) and Dequantize (linear in its float
// inputs), through the transforms.
#include <gtest/gtest.h>

#include "core/grad_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad_n;
using test::randn;

TEST(GradLinalg, AddMMJvp) {
  array a = randn({3, 4}), b = randn({4, 5}), c = randn({3, 5});
  ArrayFn f = [](const std::vector<array>& xs) { return std::vector<array>{addmm(xs[2], xs[0], xs[1], 2.f, -0.5f)}; };
  check_grad_n(f, {a, b, c}, 1e-8, 1e-4);
  // Tangents of a subset: the others count as constants.
  ArrayFn fa = [&](const std::vector<array>& xs) { return std::vector<array>{addmm(c, xs[0], b, 0.5f, 3.f)}; };
  check_grad_n(fa, {a}, 1e-8, 1.0);
  ArrayFn fc = [&](const std::vector<array>& xs) { return std::vector<array>{addmm(xs[0], a, b, 0.5f, 3.f)}; };
  check_grad_n(fc, {c}, 1e-8, 1.0);
  // Batched, with c broadcast by the op.
  array ab = randn({2, 3, 4});
  ArrayFn fb = [&](const std::vector<array>& xs) {
    return std::vector<array>{addmm(xs[1], xs[0], b, 1.f, 1.f)};
  };
  check_grad_n(fb, {ab, randn({5})}, 1e-8, 1e-4);
}

TEST(GradRandom, BitsHaveZeroDerivatives) {
  array k = random::key(7);
  auto [out, g] = uma::vjp([](const array& key) { return random::bits({3, 2}, 2, key); }, k, zeros({3, 2}, uint16));
  EXPECT_EQ(g.dtype(), uint32);
  test::expect_close(g, {0, 0});
  auto [jout, t] = uma::jvp([](const array& key) { return random::bits({3, 2}, 1, key); }, k, k);
  EXPECT_EQ(t.dtype(), uint8);
  test::expect_close(t, std::vector<double>(6, 0.0));
}

TEST(GradQuantized, DequantizeInScalesAndBiases) {
  array w = randn({4, 128}, float32);
  auto q = quantize(w, 32, 4);
  ArrayFn f = [&](const std::vector<array>& xs) {
    return std::vector<array>{dequantize(q[0], xs[0], xs[1], 32, 4)};
  };
  check_grad_n(f, {q[1], q[2]}, 1e-4, 1.0);  // linear in (scales, biases)
  ArrayFn fs = [&](const std::vector<array>& xs) { return std::vector<array>{dequantize(q[0], xs[0], q[2], 32, 4)}; };
  check_grad_n(fs, {q[1]}, 1e-4, 1.0);
  // By hand: a bias's cotangent is the group's total, a scale's the codes'
  // weighted total.
  array ones_w = ones({4, 128}, float32);
  auto [out, gs] = uma::vjp(f, {q[1], q[2]}, {ones_w});
  array codes = dequantize(q[0], ones_like(q[1]), zeros_like(q[2]), 32, 4);
  auto cv = codes.to_vector<float>();
  auto gsv = gs[0].to_vector<float>();
  for (int g = 0; g < 16; ++g) {
    double total = 0;
    for (int j = 0; j < 32; ++j) total += cv[g * 32 + j];
    EXPECT_NEAR(gsv[g], total, 1e-4);
  }
  test::expect_close(gs[1], std::vector<double>(16, 32.0));
  // bfloat16 scales and biases keep their dtype.
  auto qb = quantize(astype(w, bfloat16), 64, 8);
  auto [ob, gb] = uma::vjp([&](const std::vector<array>& xs) { return std::vector<array>{dequantize(qb[0], xs[0], xs[1], 64, 8)}; },
                           {qb[1], qb[2]}, {ones({4, 128}, bfloat16)});
  EXPECT_EQ(gb[0].dtype(), bfloat16);
  EXPECT_EQ(gb[1].dtype(), bfloat16);
  test::expect_close(gb[1], std::vector<double>(8, 64.0));
}

TEST(GradQuantized, DequantizeNvfp4GlobalScale) {
  array w = randn({2, 64}, float32);
  array gscale(3.5f);
  auto q = quantize(w, 16, 4, "nvfp4", gscale);
  ArrayFn f = [&](const std::vector<array>& xs) {
    return std::vector<array>{dequantize(q[0], q[1], std::nullopt, 16, 4, "nvfp4", xs[0], float32)};
  };
  check_grad_n(f, {gscale}, 1e-4, 1.0);
}

TEST(GradQuantized, CodesAndFpScalesAreNotDifferentiable) {
  array w = randn({2, 64}, float32);
  auto q = quantize(w, 32, 4);
  EXPECT_THROW(uma::vjp([&](const array& wq) { return dequantize(wq, q[1], q[2], 32, 4); }, q[0], ones({2, 64})),
               std::invalid_argument);
  auto fp = quantize(w, 32, 4, "mxfp4");
  EXPECT_THROW(uma::jvp([&](const array& s) { return dequantize(fp[0], s, std::nullopt, 32, 4, "mxfp4"); }, fp[1],
                        fp[1]),
               std::invalid_argument);
  // quantize itself has no rule (see missing_grad.cpp).
  EXPECT_THROW(uma::vjp([](const array& a) { return quantize(a, 32, 4)[1]; }, w, ones({2, 2})), not_implemented);
}
