// Helpers of the model suites: fixture folders and the relative error the
// logits are compared by.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "uma/uma.h"

namespace uma::test {

// tests/fixtures/models/<arch>: tiny random checkpoints (make_model_fixtures.py).
inline std::string model_fixture(const std::string& arch) {
  return std::string(UMA_SOURCE_DIR) + "/tests/fixtures/models/" + arch;
}

// max |a - b| / max |b|
inline double rel_err(array a, array b) {
  auto x = astype(a, float32).to_vector<float>();
  auto y = astype(b, float32).to_vector<float>();
  EXPECT_EQ(x.size(), y.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    num = std::max(num, double(std::abs(x[i] - y[i])));
    den = std::max(den, double(std::abs(y[i])));
  }
  return num / den;
}

}  // namespace uma::test
