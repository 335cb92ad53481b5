// Conv1d/2d/3d, ConvTranspose1d/2d/3d and Bilinear against PyTorch goldens
// (weights loaded by their MLX names, strictly), MLX's init shapes and
// bounds, bad input, and gradients by finite differences.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "core/grad_util.h"
#include "uma/nn/conv.h"
#include "uma/nn/linear_extra.h"

using namespace uma;
using uma::test::expect_close;
using uma::test::golden;
using uma::test::golden_params;

namespace {

void check_golden(nn::ConvBase& layer, const std::string& c) {
  layer.load_weights(golden_params(c));
  expect_close(layer(golden(c + ".x")), golden(c + ".y"), 1e-5, 1e-4, c);
}

TEST(Conv, Conv1dMatchesTorch) {
  nn::Conv1d a(4, 6, 3, 2, 1);
  check_golden(a, "conv1d");
  nn::Conv1d b(4, 6, 3, 1, 2, 2, 2, false);
  check_golden(b, "conv1d_groups");
}

TEST(Conv, Conv2dAnd3dMatchTorch) {
  nn::Conv2d a(3, 5, {3, 2}, {2, 1}, {1, 0}, {1, 2});
  check_golden(a, "conv2d");
  nn::Conv3d b(2, 3, {2, 3, 2}, 1, {1, 0, 1});
  check_golden(b, "conv3d");
}

TEST(Conv, TransposedMatchTorch) {
  nn::ConvTranspose1d a(4, 3, 3, 2, 1, 1, 1);
  check_golden(a, "conv_t1d");
  nn::ConvTranspose2d b(3, 2, {3, 2}, {2, 1}, {1, 0}, {1, 2}, {1, 0});
  check_golden(b, "conv_t2d");
  nn::ConvTranspose3d c(2, 3, 2, 2, 0);
  check_golden(c, "conv_t3d");
}

TEST(Conv, InitShapesAndBounds) {
  // MLX: weight (out, k..., in / groups) uniform in +-sqrt(1 / (in * prod k)), bias zero.
  nn::Conv2d c(4, 8, {3, 5}, 1, 0, 1, 2);
  EXPECT_EQ(c.weight.shape(), (Shape{8, 3, 5, 2}));
  double bound = std::sqrt(1.0 / (4 * 15));
  auto w = c.weight.to_vector<float>();
  double mx = 0;
  for (float v : w) mx = std::max(mx, double(std::abs(v)));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.8 * bound);  // 240 draws reach near the bound
  EXPECT_EQ(c.bias->to_vector<float>(), std::vector<float>(8, 0.0f));
  nn::ConvTranspose1d t(4, 6, 3);
  EXPECT_EQ(t.weight.shape(), (Shape{6, 3, 4}));
  nn::Conv1d nb(4, 6, 3, 1, 0, 1, 1, false);
  EXPECT_EQ(nb.parameters().size(), 1u);
}

TEST(Conv, BadInput) {
  EXPECT_THROW(nn::Conv1d(5, 6, 3, 1, 0, 1, 2), std::invalid_argument);  // groups
  nn::Conv2d c(3, 4, 3);
  try {
    c(zeros({1, 5, 5, 4}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[Conv2d]", 0), 0u) << e.what();
  }
  EXPECT_THROW(c(zeros({5, 5, 3})), std::invalid_argument);
}

TEST(Conv, GradientsByFiniteDifferences) {
  nn::Conv2d c(2, 3, 3, 2, 1);
  c.set_dtype(float64);
  array x = uma::test::randn({1, 5, 4, 2});
  uma::test::check_grad([&](const array& xi) { return c(xi); }, x);
  uma::test::check_grad(
      [&](const array& w) {
        c.update({{"weight", w}});
        return c(x);
      },
      astype(c.weight, float64));
  nn::ConvTranspose1d t(2, 3, 3, 2, 1, 1, 1);
  t.set_dtype(float64);
  uma::test::check_grad([&](const array& xi) { return t(xi); }, uma::test::randn({2, 4, 2}));
}

TEST(Bilinear, MatchesTorch) {
  nn::Bilinear b(3, 4, 5);
  b.load_weights(golden_params("bilinear"));
  expect_close(b(golden("bilinear.x1"), golden("bilinear.x2")), golden("bilinear.y"), 1e-5, 1e-4);
  EXPECT_THROW(b(golden("bilinear.x2"), golden("bilinear.x2")), std::invalid_argument);
}

TEST(Bilinear, GradientsByFiniteDifferences) {
  nn::Bilinear b(3, 2, 4);
  b.set_dtype(float64);
  array x2 = uma::test::randn({5, 2});
  uma::test::check_grad([&](const array& x1) { return b(x1, x2); }, uma::test::randn({5, 3}));
  array x1 = uma::test::randn({5, 3});
  uma::test::check_grad(
      [&](const array& w) {
        b.update({{"weight", w}});
        return b(x1, x2);
      },
      array(b.weight));  // a copy: f reassigns b.weight
}

}  // namespace
