// Test helpers shared by the core suites.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error_util.h"
#include "uma/uma.h"

namespace uma::test {

// Checks shape and every element of `a` against `expected` (row-major), with
// |a - e| <= atol + rtol * |e|; NaN matches NaN.
inline void expect_close(array a, const std::vector<double>& expected, double rtol = 1e-6, double atol = 1e-6) {
  auto got = a.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i;
    } else if (std::isinf(expected[i])) {
      EXPECT_EQ(got[i], expected[i]) << "at " << i;
    } else {
      EXPECT_NEAR(got[i], expected[i], atol + rtol * std::abs(expected[i])) << "at " << i;
    }
  }
}

// Per-dtype tolerance for results computed in that dtype.
inline double rtol_for(Dtype t) {
  switch (t) {
    case Dtype::float16: return 2e-3;
    case Dtype::bfloat16: return 1.6e-2;
    case Dtype::float32: return 2e-6;
    default: return 1e-12;
  }
}

}  // namespace uma::test
