// Shared helpers of the optim suite: float32 parameter maps from host values
// and bit-level comparison.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
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

inline Params start_params(Dtype dt = float32) {
  return {{"model.layers.0.w", astype(random_array({4, 3}, 1), dt)},
          {"model.layers.0.b", astype(random_array({3}, 2), dt)},
          {"model.head", astype(random_array({2, 3}, 3), dt)}};
}

// Gradients that depend on the parameters (d/dp of sum(p^4)/4 - sum(p)), so a
// wrong state after a resume changes the trajectory.
inline Params grads_of(const Params& p) {
  Params g;
  for (auto& [k, v] : p) g.emplace(k, v * v * v - 1.0);
  return g;
}

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("uma_optim_" + std::to_string(::getpid()) + "_" + name)).string();
}

using Factory = std::function<std::unique_ptr<Optimizer>()>;

// A run of before + after steps equals one saved after `before` steps and
// resumed by a fresh optimizer, bit for bit.
inline void expect_resume_bit_exact(const Factory& make, int before, int after) {
  auto straight = make();
  Params p = start_params();
  for (int i = 0; i < before + after; ++i) {
    p = straight->apply_gradients(grads_of(p), p);
    eval_step(p, *straight);
  }

  auto first = make();
  Params q = start_params();
  for (int i = 0; i < before; ++i) {
    q = first->apply_gradients(grads_of(q), q);
    eval_step(q, *first);
  }
  auto path = temp_path("resume.safetensors");
  first->save_state(path);
  first.reset();
  auto resumed = make();
  resumed->load_state(path);
  std::filesystem::remove(path);
  EXPECT_EQ(resumed->step(), before);
  for (int i = 0; i < after; ++i) {
    q = resumed->apply_gradients(grads_of(q), q);
    eval_step(q, *resumed);
  }
  EXPECT_EQ(resumed->step(), before + after);
  for (auto& [k, v] : p) EXPECT_TRUE(bit_equal(v, q.at(k))) << k;
}

}  // namespace uma::optim::test
