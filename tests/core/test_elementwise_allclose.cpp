// allclose and array_equal (they reduce with `all` from the reduction family).
#include <gtest/gtest.h>

#include "core/elementwise_util.h"

using namespace uma;

TEST(ElementwiseAllClose, AllCloseAndArrayEqual) {
  array a({1.0f, 2.0f, NAN}), b({1.0f + 1e-7f, 2.0f, NAN});
  EXPECT_FALSE(allclose(a, b).item<bool>());
  EXPECT_TRUE(allclose(a, b, 1e-5, 1e-8, true).item<bool>());
  EXPECT_TRUE(allclose(array({1.0f, INFINITY}), array({1.0f, INFINITY})).item<bool>());
  EXPECT_FALSE(allclose(array({INFINITY}), array({-INFINITY})).item<bool>());
  EXPECT_TRUE(allclose(zeros({2, 3}), zeros({3})).item<bool>());  // broadcasts
  EXPECT_EQ(allclose(a, b).ndim(), 0u);

  EXPECT_TRUE(array_equal(array({1, 2, 3}), array({1.0f, 2.0f, 3.0f})).item<bool>());
  EXPECT_FALSE(array_equal(array({1, 2, 3}), array({1, 2, 4})).item<bool>());
  EXPECT_FALSE(array_equal(zeros({2, 3}), zeros({3})).item<bool>());  // shapes differ: false
  EXPECT_FALSE(array_equal(zeros({2, 2}), zeros({4})).item<bool>());
  EXPECT_FALSE(array_equal(a, a).item<bool>());
  EXPECT_TRUE(array_equal(a, a, true).item<bool>());
  EXPECT_TRUE(array_equal(transpose(reshape(arange(6), {2, 3})), transpose(reshape(arange(6), {2, 3}))).item<bool>());
  EXPECT_TRUE(array_equal(zeros({0}), zeros({0})).item<bool>());
  array z({complex64_t(1, NAN)});
  EXPECT_TRUE(array_equal(z, z, true).item<bool>());
}
