// Max/average pooling 1-3d and Upsample (nearest, linear, cubic, with and
// without align_corners) against PyTorch goldens; MLX's fractional nearest
// rule; strided (non-contiguous) input; gradients by finite differences.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "core/grad_util.h"
#include "uma/nn/pooling.h"
#include "uma/nn/upsample.h"

using namespace uma;
using uma::test::expect_close;
using uma::test::golden;

namespace {

TEST(Pooling, OneDMatchesTorch) {
  array x = golden("pool1d.x");
  expect_close(nn::MaxPool1d(3, 2, 1)(x), golden("pool1d.max"), 0, 0, "max");
  expect_close(nn::AvgPool1d(3, 2, 1)(x), golden("pool1d.avg"), 1e-6, 1e-5, "avg");
}

TEST(Pooling, TwoDMatchesTorch) {
  array x = golden("pool2d.x");
  expect_close(nn::MaxPool2d({2, 3}, nn::Ints<2>{1, 2}, {1, 0})(x), golden("pool2d.max"), 0, 0, "max");
  expect_close(nn::AvgPool2d({2, 3}, nn::Ints<2>{1, 2}, {1, 0})(x), golden("pool2d.avg"), 1e-6, 1e-5, "avg");
  // stride = kernel dividing the size: the reshape path.
  expect_close(nn::MaxPool2d(2)(x), golden("pool2d.max_tiles"), 0, 0, "max tiles");
  expect_close(nn::AvgPool2d(2)(x), golden("pool2d.avg_tiles"), 1e-6, 1e-5, "avg tiles");
  // A transposed (non-contiguous) view of the same values pools the same.
  array xs = transpose(copy(transpose(x, {0, 2, 1, 3})), {0, 2, 1, 3});
  expect_close(nn::MaxPool2d({2, 3}, nn::Ints<2>{1, 2}, {1, 0})(xs), golden("pool2d.max"), 0, 0, "strided input");
}

TEST(Pooling, ThreeDMatchesTorch) {
  array x = golden("pool3d.x");
  expect_close(nn::MaxPool3d(2, nn::Ints<3>{2, 1, 2}, {0, 1, 1})(x), golden("pool3d.max"), 0, 0, "max");
  expect_close(nn::AvgPool3d({3, 2, 2}, nn::Ints<3>(1), 1)(x), golden("pool3d.avg"), 1e-6, 1e-5, "avg");
}

TEST(Pooling, BadInput) {
  EXPECT_THROW(nn::MaxPool2d(0), std::invalid_argument);
  EXPECT_THROW(nn::AvgPool1d(2, 0), std::invalid_argument);
  EXPECT_THROW(nn::AvgPool1d(2, 1, -1), std::invalid_argument);
  try {
    nn::MaxPool2d(2)(zeros({4, 4, 3}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[MaxPool2d]", 0), 0u) << e.what();
  }
  EXPECT_THROW(nn::MaxPool1d(5)(zeros({1, 3, 2})), std::invalid_argument);  // kernel larger than the input
}

TEST(Pooling, GradientsByFiniteDifferences) {
  uma::test::check_grad([](const array& x) { return nn::AvgPool2d(2, nn::Ints<2>(1), 1)(x); },
                        uma::test::randn({1, 3, 4, 2}));
  uma::test::check_grad([](const array& x) { return nn::MaxPool1d(3, 2)(x); }, uma::test::randn({2, 7, 2}));
}

TEST(Upsample, NearestMatchesTorchAndMlxRule) {
  expect_close(nn::Upsample(2.0f)(golden("up2d.x")), golden("up2d.nearest2"), 0, 0, "nearest x2");
  expect_close(nn::Upsample(2.5f)(golden("up1d.x")), golden("up1d.nearest_frac"), 0, 0, "nearest x2.5");
}

TEST(Upsample, LinearAndCubicMatchTorch) {
  array x = golden("up2d.x");
  expect_close(nn::Upsample({1.5f, 2.0f}, "linear")(x), golden("up2d.bilinear"), 1e-5, 1e-4, "bilinear");
  expect_close(nn::Upsample(2.0f, "linear", true)(x), golden("up2d.bilinear_ac"), 1e-5, 1e-4, "bilinear ac");
  expect_close(nn::Upsample(2.0f, "cubic")(x), golden("up2d.bicubic"), 1e-5, 1e-4, "bicubic");
  expect_close(nn::Upsample({2.0f, 1.5f}, "cubic", true)(x), golden("up2d.bicubic_ac"), 1e-5, 1e-4, "bicubic ac");
  expect_close(nn::Upsample(3.0f, "linear")(golden("up1d.x")), golden("up1d.linear"), 1e-5, 1e-4, "linear 1d");
  expect_close(nn::Upsample(2.0f, "linear")(golden("up3d.x")), golden("up3d.trilinear"), 1e-5, 1e-4, "trilinear");
  EXPECT_THROW(nn::Upsample(2.0f, "area"), std::invalid_argument);
  EXPECT_THROW(nn::Upsample({2.0f, 2.0f})(golden("up1d.x")), std::invalid_argument);
  EXPECT_TRUE(nn::Upsample(2.0f).parameters().empty());
}

TEST(Upsample, AntialiasMatchesTorch) {
  array x = golden("up_aa.x");
  expect_close(nn::Upsample({0.25f, 0.5f}, "linear", false, true)(x), golden("up_aa.bilinear_down"), 1e-5, 1e-4,
               "bilinear down");
  expect_close(nn::Upsample(0.5f, "cubic", false, true)(x), golden("up_aa.bicubic_down"), 1e-5, 1e-4,
               "bicubic down");
  expect_close(nn::Upsample(2.0f, "linear", false, true)(x), golden("up_aa.bilinear_up"), 1e-5, 1e-4, "bilinear up");
  EXPECT_THROW(nn::Upsample(2.0f, "nearest", false, true), std::invalid_argument);
  EXPECT_THROW(nn::Upsample(2.0f, "linear", true, true), std::invalid_argument);
}

TEST(Upsample, GradientsByFiniteDifferences) {
  uma::test::check_grad([](const array& x) { return nn::Upsample(1.5f, "cubic")(x); }, uma::test::randn({1, 3, 4, 2}));
}

}  // namespace
