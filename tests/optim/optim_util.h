// Shared helpers of the optim suite: float32 parameter maps from host values
// and bit-level comparison.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "uma/optim/optimizers.h"
#include "uma/uma.h"

namespace uma::optim::test {

inline array random_array(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return array(v, shape);
}

// Evaluates the new parameters with the optimizer's state, as a training
// step does.
inline void eval_step(const Params& params, const Optimizer& opt) {
  auto todo = opt.state_arrays();
  for (auto& [k, p] : params) todo.push_back(p);
  eval(todo);
}

inline bool bit_equal(array a, array b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  auto x = astype(a, float32).to_vector<float>(), y = astype(b, float32).to_vector<float>();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

}  // namespace uma::optim::test
