// The nn function goldens (tests/fixtures/nn_functions/goldens.json, made by
// make_goldens.py there from PyTorch or closed forms in float64) and the
// comparisons the nn function tests share.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "uma/uma.h"

namespace uma::test {

inline const nlohmann::json& nn_goldens() {
  static const nlohmann::json doc = [] {
    std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/nn_functions/goldens.json");
    if (!f.good()) throw std::runtime_error("tests/fixtures/nn_functions/goldens.json is missing");
    return nlohmann::json::parse(f);
  }();
  return doc;
}

// {"shape": [...], "data": [...]} as an array of `dtype`.
inline array golden_array(const nlohmann::json& j, Dtype dtype = float64) {
  Shape shape = j.at("shape").get<Shape>();
  std::vector<double> data = j.at("data").get<std::vector<double>>();
  return astype(array(data, shape), dtype);
}

// got == want elementwise within atol + rtol |want|, shapes equal.
inline void expect_close(array got, const array& want, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = astype(got, float64).to_vector<double>();
  auto w = astype(want, float64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << what << " at flat index " << i;
  }
}

inline void expect_close(array got, const nlohmann::json& want, double rtol, double atol, const std::string& what) {
  expect_close(std::move(got), golden_array(want), rtol, atol, what);
}

}  // namespace uma::test
