// Initializers as mlx.nn.init has them: a factory takes the distribution's
// parameters and the dtype (float32 by default) and returns a function from
// a shape to a new array drawn with uma's random ops. Each call may take a
// random key (uint32 (2), see uma/core/ops/random.h); without one the global
// key sequence supplies it, as in MLX. MLX's form, the call on an array whose
// shape is used, works too:
//
//   auto init = nn::glorot_uniform();
//   linear.weight = init(linear.weight);            // same shape, new values
//   array w = nn::he_normal()({512, 256}, "fan_out", 2.0, random::key(0));
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "uma/core/ops.h"

namespace uma::nn {

using Key = std::optional<array>;

// constant, normal, uniform, identity, sparse, orthogonal.
class Initializer {
 public:
  using Fn = std::function<array(const Shape&, const Key&)>;
  explicit Initializer(Fn fn) : fn_(std::move(fn)) {}
  array operator()(const Shape& shape, const Key& key = std::nullopt) const { return fn_(shape, key); }
  template <class A, class = std::enable_if_t<std::is_same_v<A, array>>>  // braced shapes stay shapes
  array operator()(const A& like, const Key& key = std::nullopt) const { return fn_(like.shape(), key); }

 private:
  Fn fn_;
};

// glorot_normal, glorot_uniform: called with a gain (1 by default).
class GlorotInitializer {
 public:
  using Fn = std::function<array(const Shape&, double gain, const Key&)>;
  explicit GlorotInitializer(Fn fn) : fn_(std::move(fn)) {}
  array operator()(const Shape& shape, double gain = 1.0, const Key& key = std::nullopt) const {
    return fn_(shape, gain, key);
  }
  template <class A, class = std::enable_if_t<std::is_same_v<A, array>>>  // braced shapes stay shapes
  array operator()(const A& like, double gain = 1.0, const Key& key = std::nullopt) const {
    return fn_(like.shape(), gain, key);
  }

 private:
  Fn fn_;
};

// he_normal, he_uniform: called with a mode ("fan_in", the default, or
// "fan_out") and a gain (1 by default).
class HeInitializer {
 public:
  using Fn = std::function<array(const Shape&, const std::string& mode, double gain, const Key&)>;
  explicit HeInitializer(Fn fn) : fn_(std::move(fn)) {}
  array operator()(const Shape& shape, const std::string& mode = "fan_in", double gain = 1.0,
                   const Key& key = std::nullopt) const {
    return fn_(shape, mode, gain, key);
  }
  template <class A, class = std::enable_if_t<std::is_same_v<A, array>>>  // braced shapes stay shapes
  array operator()(const A& like, const std::string& mode = "fan_in", double gain = 1.0,
                   const Key& key = std::nullopt) const {
    return fn_(like.shape(), mode, gain, key);
  }

 private:
  Fn fn_;
};

// (fan_in, fan_out) as MLX counts them: fan_in = shape[-1], fan_out =
// shape[0], both times the product of the axes between (the receptive field
// of a convolution's (out, ..., in) weight). Needs at least 2 dimensions;
// `op` names the caller in the error.
std::pair<int64_t, int64_t> fan_in_fan_out(const Shape& shape, const char* op = "fan_in_fan_out");

Initializer constant(double value, Dtype dtype = float32);
Initializer normal(double mean = 0.0, double std = 1.0, Dtype dtype = float32);
Initializer uniform(double low = 0.0, double high = 1.0, Dtype dtype = float32);  // [low, high)
Initializer identity(Dtype dtype = float32);                                      // square shapes only
// std = gain sqrt(2 / (fan_in + fan_out)).
GlorotInitializer glorot_normal(Dtype dtype = float32);
// uniform in [-limit, limit), limit = gain sqrt(6 / (fan_in + fan_out)).
GlorotInitializer glorot_uniform(Dtype dtype = float32);
// std = gain / sqrt(fan).
HeInitializer he_normal(Dtype dtype = float32);
// uniform in [-limit, limit), limit = gain sqrt(3 / fan).
HeInitializer he_uniform(Dtype dtype = float32);
// normal(mean, std) with ceil(sparsity * cols) entries of every row set to
// zero (2-D shapes only).
Initializer sparse(double sparsity, double mean = 0.0, double std = 1.0, Dtype dtype = float32);
// gain times an orthogonal matrix (2-D shapes; the first rows and columns of
// the Q of a random square matrix, signs fixed by R's diagonal).
Initializer orthogonal(double gain = 1.0, Dtype dtype = float32);

}  // namespace uma::nn
