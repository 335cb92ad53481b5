// PyTorch goldens of the nn layers (tests/fixtures/nn_layers/make_goldens.py):
// a case's tensors are `<case>.x`, `<case>.y`, ... and its parameters
// `<case>.p.<name>` in MLX's layout and names.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "uma/core/io/safetensors.h"
#include "uma/uma.h"

namespace uma::test {

inline const std::map<std::string, array>& nn_goldens() {
  static const auto g = load_safetensors(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/nn_layers/goldens.safetensors").first;
  return g;
}

inline array golden(const std::string& name) {
  auto it = nn_goldens().find(name);
  if (it == nn_goldens().end()) throw std::invalid_argument("[golden] no tensor " + name);
  return it->second;
}

// The case's parameters by their MLX names (prefix `<case>.p.` removed).
inline std::map<std::string, array> golden_params(const std::string& c) {
  std::map<std::string, array> out;
  std::string prefix = c + ".p.";
  for (auto& [k, v] : nn_goldens()) {
    if (k.rfind(prefix, 0) == 0) out.emplace(k.substr(prefix.size()), v);
  }
  return out;
}

// |got - want| <= atol + rtol |want| elementwise, shapes equal.
inline void expect_close(array got, array want, double atol = 1e-5, double rtol = 1e-4, const std::string& what = "") {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = astype(got, float64).to_vector<double>(), w = astype(want, float64).to_vector<double>();
  int bad = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!(std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i])) && bad++ < 5) {
      ADD_FAILURE() << what << " at " << i << ": got " << g[i] << ", want " << w[i];
    }
  }
}

}  // namespace uma::test
