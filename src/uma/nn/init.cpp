#include "uma/nn/init.h"

#include <cmath>

#include "uma/core/linalg.h"
#include "uma/core/utils.h"

namespace uma::nn {

namespace {

array draw_normal(const Shape& shape, double mean, double std, Dtype dtype, const Key& key) {
  return random::normal(shape, dtype, float(mean), float(std), key);
}

array draw_uniform(const Shape& shape, double low, double high, Dtype dtype, const Key& key) {
  return random::uniform(array(low, dtype), array(high, dtype), shape, dtype, key);
}

void check_2d(const Shape& shape, const char* op) {
  if (shape.size() != 2) {
    throw std::invalid_argument(std::string("[") + op + "] needs a 2-D shape, got " + shape_str(shape));
  }
}

int64_t pick_fan(const Shape& shape, const std::string& mode, const char* op) {
  auto [fan_in, fan_out] = fan_in_fan_out(shape, op);
  if (mode == "fan_in") return fan_in;
  if (mode == "fan_out") return fan_out;
  throw std::invalid_argument(std::string("[") + op + "] mode must be fan_in or fan_out, got '" + mode + "'");
}

}  // namespace

std::pair<int64_t, int64_t> fan_in_fan_out(const Shape& shape, const char* op) {
  if (shape.size() < 2) {
    throw std::invalid_argument(std::string("[") + op + "] needs at least 2 dimensions, got shape " +
                                shape_str(shape));
  }
  int64_t receptive_field = 1;
  for (size_t i = 1; i + 1 < shape.size(); ++i) receptive_field *= shape[i];
  return {int64_t(shape.back()) * receptive_field, int64_t(shape.front()) * receptive_field};
}

Initializer constant(double value, Dtype dtype) {
  return Initializer([=](const Shape& shape, const Key&) { return full(shape, array(value), dtype); });
}

Initializer normal(double mean, double std, Dtype dtype) {
  return Initializer([=](const Shape& shape, const Key& key) { return draw_normal(shape, mean, std, dtype, key); });
}

Initializer uniform(double low, double high, Dtype dtype) {
  return Initializer([=](const Shape& shape, const Key& key) { return draw_uniform(shape, low, high, dtype, key); });
}

Initializer identity(Dtype dtype) {
  return Initializer([=](const Shape& shape, const Key&) {
    if (shape.size() != 2 || shape[0] != shape[1]) {
      throw std::invalid_argument("[identity] needs a square matrix shape, got " + shape_str(shape));
    }
    return eye(shape[0], dtype);
  });
}

GlorotInitializer glorot_normal(Dtype dtype) {
  return GlorotInitializer([=](const Shape& shape, double gain, const Key& key) {
    auto [fan_in, fan_out] = fan_in_fan_out(shape, "glorot_normal");
    return draw_normal(shape, 0.0, gain * std::sqrt(2.0 / double(fan_in + fan_out)), dtype, key);
  });
}

GlorotInitializer glorot_uniform(Dtype dtype) {
  return GlorotInitializer([=](const Shape& shape, double gain, const Key& key) {
    auto [fan_in, fan_out] = fan_in_fan_out(shape, "glorot_uniform");
    double limit = gain * std::sqrt(6.0 / double(fan_in + fan_out));
    return draw_uniform(shape, -limit, limit, dtype, key);
  });
}

HeInitializer he_normal(Dtype dtype) {
  return HeInitializer([=](const Shape& shape, const std::string& mode, double gain, const Key& key) {
    int64_t fan = pick_fan(shape, mode, "he_normal");
    return draw_normal(shape, 0.0, gain / std::sqrt(double(fan)), dtype, key);
  });
}

HeInitializer he_uniform(Dtype dtype) {
  return HeInitializer([=](const Shape& shape, const std::string& mode, double gain, const Key& key) {
    int64_t fan = pick_fan(shape, mode, "he_uniform");
    double limit = gain * std::sqrt(3.0 / double(fan));
    return draw_uniform(shape, -limit, limit, dtype, key);
  });
}

Initializer sparse(double sparsity, double mean, double std, Dtype dtype) {
  if (!(sparsity >= 0.0 && sparsity <= 1.0)) {
    throw std::invalid_argument("[sparse] sparsity must be in [0, 1], got " + std::to_string(sparsity));
  }
  return Initializer([=](const Shape& shape, const Key& key) {
    check_2d(shape, "sparse");
    int num_zeros = int(std::ceil(sparsity * shape[1]));
    // Two independent draws: the values and, per row, which columns to zero
    // (the first num_zeros of a random order).
    Key k_order, k_values;
    if (key) {
      auto [a, b] = random::split(*key);
      k_order = a, k_values = b;
    }
    array values = draw_normal(shape, mean, std, dtype, k_values);
    if (num_zeros == 0) return values;
    array order = argsort(random::uniform(shape, float32, k_order), 1);
    array zeroed = slice(order, {0, 0}, {shape[0], num_zeros});
    return put_along_axis(values, zeroed, zeros({shape[0], num_zeros}, dtype), 1);
  });
}

Initializer orthogonal(double gain, Dtype dtype) {
  return Initializer([=](const Shape& shape, const Key& key) {
    check_2d(shape, "orthogonal");
    int n = std::max(shape[0], shape[1]);
    auto [q, r] = linalg::qr(random::normal({n, n}, float32, key));
    // Sign fix: makes the draw uniform over orthogonal matrices (Haar).
    q = q * sign(diagonal(r));
    q = slice(q, {0, 0}, {shape[0], shape[1]});
    return astype(q * gain, dtype);
  });
}

}  // namespace uma::nn
