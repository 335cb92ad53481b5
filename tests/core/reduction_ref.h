// Float64 reference loops for the reduction family's tests.
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "uma/uma.h"

namespace uma::test {

inline std::vector<double> random_values(size_t n, double lo, double hi, uint32_t seed, bool integers = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = integers ? std::floor(u(rng)) : u(rng);
  return v;
}

// An array of `dtype` holding `v` (rounded to the dtype).
inline array make(const std::vector<double>& v, const Shape& shape, Dtype dtype) {
  return astype(array(v, shape), dtype);
}

// Values as the dtype stores them (for expected results).
inline std::vector<double> round_to(const std::vector<double>& v, Dtype dtype) {
  if (v.empty()) return v;
  return make(v, {int32_t(v.size())}, dtype).to_vector<double>();
}

// Reduces row-major `x` of `shape` over `axes` (any order/sign); the result is
// in row-major order of the kept dims.
inline std::vector<double> ref_reduce(const std::vector<double>& x, const Shape& shape, std::vector<int> axes,
                                      const std::function<double(double, double)>& op, double init) {
  int nd = int(shape.size());
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a < 0 ? a + nd : a] = true;
  size_t out_size = 1;
  for (int d = 0; d < nd; ++d)
    if (!red[d]) out_size *= size_t(shape[d]);
  std::vector<double> out(out_size, init);
  std::vector<int> idx(nd, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t r = i, o = 0;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = int(r % size_t(shape[d]));
      r /= size_t(shape[d]);
    }
    for (int d = 0; d < nd; ++d)
      if (!red[d]) o = o * size_t(shape[d]) + size_t(idx[d]);
    out[o] = op(out[o], x[i]);
  }
  return out;
}

inline double nan_max(double a, double b) { return std::isnan(a) || a >= b ? a : b; }
inline double nan_min(double a, double b) { return std::isnan(a) || a <= b ? a : b; }

}  // namespace uma::test
