// Test helpers of the vmap suites: vmap against the explicit loop (apply the
// function to each slice, stack the results).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "uma/uma.h"

namespace uma::test {

// Deterministic values in [lo, hi) of the given shape and dtype.
inline array vrand(const Shape& shape, uint64_t seed, double lo = -2.0, double hi = 2.0, Dtype dtype = float32) {
  array u = random::uniform(array(lo), array(hi), shape, float32, random::key(seed));
  return astype(u, dtype);
}

// Slice b of x along axis (the axis removed).
inline array slice_at(const array& x, int axis, int b) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[axis] = b;
  stop[axis] = b + 1;
  return squeeze(slice(x, start, stop), axis);
}

// The loop that vmap(f, in_axes, out_axes) stands for.
inline std::vector<array> vmap_loop(const std::function<std::vector<array>(const std::vector<array>&)>& f,
                                    const std::vector<array>& xs, const std::vector<int>& in_axes,
                                    const std::vector<int>& out_axes) {
  int n = -1;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (in_axes[i] >= 0) n = xs[i].shape(in_axes[i]);
  }
  std::vector<std::vector<array>> parts;
  for (int b = 0; b < n; ++b) {
    std::vector<array> slices;
    for (size_t i = 0; i < xs.size(); ++i) slices.push_back(in_axes[i] < 0 ? xs[i] : slice_at(xs[i], in_axes[i], b));
    auto outs = f(slices);
    if (parts.empty()) parts.resize(outs.size());
    for (size_t j = 0; j < outs.size(); ++j) parts[j].push_back(outs[j]);
  }
  std::vector<array> res;
  for (size_t j = 0; j < parts.size(); ++j) {
    int ax = out_axes.empty() ? 0 : out_axes[j];
    if (ax < 0) ax += int(parts[j][0].ndim()) + 1;
    res.push_back(stack(parts[j], ax));
  }
  return res;
}

// Same shape, dtype and values (within atol + rtol * |expected|; 0 = exact;
// NaN matches NaN).
inline void expect_same(array got, array expected, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.shape(), expected.shape()) << what;
  ASSERT_EQ(got.dtype(), expected.dtype()) << what;
  if (is_complex(got.dtype())) {
    expect_same(real(got), real(expected), rtol, atol, what + " (real)");
    expect_same(imag(got), imag(expected), rtol, atol, what + " (imag)");
    return;
  }
  auto g = got.to_vector<double>();
  auto e = expected.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(e[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << what << " at " << i;
    } else if (rtol == 0 && atol == 0) {
      EXPECT_EQ(g[i], e[i]) << what << " at " << i;
    } else {
      EXPECT_NEAR(g[i], e[i], atol + rtol * std::abs(e[i])) << what << " at " << i;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// vmap(f, in_axes, out_axes)(xs) equals the loop; tol 0 = exact.
inline void expect_vmap(const std::function<std::vector<array>(const std::vector<array>&)>& f,
                        const std::vector<array>& xs, const std::vector<int>& in_axes,
                        const std::vector<int>& out_axes = {}, double rtol = 0, double atol = 0,
                        const std::string& what = "") {
  auto got = vmap(f, in_axes, out_axes)(xs);
  auto expected = vmap_loop(f, xs, in_axes, out_axes);
  ASSERT_EQ(got.size(), expected.size()) << what;
  std::string axes_str = " in_axes {";
  for (int a : in_axes) axes_str += std::to_string(a) + ",";
  axes_str += "} out_axes {";
  for (int a : out_axes) axes_str += std::to_string(a) + ",";
  axes_str += "}";
  for (size_t j = 0; j < got.size(); ++j) {
    expect_same(got[j], expected[j], rtol, atol, what + axes_str + " output " + std::to_string(j));
  }
}

// One-array functions.
using Fn1 = std::function<array(const array&)>;
inline std::function<std::vector<array>(const std::vector<array>&)> lift(const Fn1& f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs[0])}; };
}
using Fn2 = std::function<array(const array&, const array&)>;
inline std::function<std::vector<array>(const std::vector<array>&)> lift(const Fn2& f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs[0], xs[1])}; };
}

}  // namespace uma::test
