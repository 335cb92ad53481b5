#include <gtest/gtest.h>

#include "uma/core/ops/misc.h"
#include "uma/uma.h"

using namespace uma;

TEST(MiscOps, Kron) {
  array a({1, 2, 3, 4}, {2, 2});
  array b({0, 5, 6, 7}, {2, 2});
  // numpy.kron([[1,2],[3,4]], [[0,5],[6,7]])
  EXPECT_EQ(kron(a, b).to_vector<int>(),
            (std::vector<int>{0, 5, 0, 10, 6, 7, 12, 14, 0, 15, 0, 20, 18, 21, 24, 28}));
  EXPECT_EQ(kron(a, b).shape(), (Shape{4, 4}));
  EXPECT_EQ(kron(array({1, 2}), array({1, 10, 100})).to_vector<int>(),
            (std::vector<int>{1, 10, 100, 2, 20, 200}));
  EXPECT_EQ(kron(array({2}), array({1, 2, 3, 4}, {2, 2})).shape(), (Shape{2, 2}));
}

TEST(MiscOps, NumberOfElements) {
  array a = zeros({2, 3, 4});
  EXPECT_EQ(number_of_elements(a, {0, 2}, false).item<int>(), 8);
  EXPECT_FLOAT_EQ(number_of_elements(a, {-1}, true, float32).item<float>(), 0.25f);
  EXPECT_THROW(number_of_elements(a, {3}, false), std::invalid_argument);
  EXPECT_THROW(number_of_elements(zeros({0}), {0}, true), std::invalid_argument);
}
