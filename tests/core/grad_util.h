// Gradient checks shared by the test_grad_* suites, through the transforms
// (uma::vjp, uma::jvp): vjp against central finite differences in a random
// direction, jvp against vjp by the inner-product identity, and the rules of
// the rules (the vjp map c -> J^T c differentiated again).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "uma/core/transforms.h"
#include "uma/uma.h"

namespace uma::test {

using UnaryFn = std::function<array(const array&)>;

inline std::mt19937& grad_rng() {
  static std::mt19937 rng(2024);
  return rng;
}

// A fixture that reseeds grad_rng before each test, so that a test's random
// inputs do not depend on which tests ran before it (a filter, a shuffle).
class SeededGradTest : public ::testing::Test {
 protected:
  void SetUp() override { grad_rng().seed(2024); }
};

// Standard normal values of `shape` (float64 unless told).
inline array randn(const Shape& shape, Dtype dtype = float64) {
  std::normal_distribution<double> n;
  size_t size = 1;
  for (auto d : shape) size *= size_t(d);
  std::vector<double> v(size);
  for (auto& x : v) x = n(grad_rng());
  return astype(array(v, shape), dtype);
}

// Uniform values of `shape` in [lo, hi) (float64 unless told).
inline array randu(const Shape& shape, double lo, double hi, Dtype dtype = float64) {
  std::uniform_real_distribution<double> u(lo, hi);
  size_t size = 1;
  for (auto d : shape) size *= size_t(d);
  std::vector<double> v(size);
  for (auto& x : v) x = u(grad_rng());
  return astype(array(v, shape), dtype);
}

inline double inner_product(const array& a, const array& b) {
  auto x = astype(a, float64).to_vector<double>(), y = astype(b, float64).to_vector<double>();
  EXPECT_EQ(x.size(), y.size());
  double s = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) s += x[i] * y[i];
  return s;
}

// x + h * d on the host (no elementwise op in the graph).
inline array shifted(array x, array d, double h) {
  auto xv = astype(x, float64).to_vector<double>();
  auto dv = astype(d, float64).to_vector<double>();
  for (size_t i = 0; i < xv.size(); ++i) xv[i] += h * dv[i];
  return astype(array(xv, x.shape()), x.dtype());
}

// <c, (f(x + h d) - f(x - h d)) / 2h>; an output equal at both points (an
// infinite one included) contributes nothing.
inline double fd_directional(const UnaryFn& f, const array& x, const array& d, const array& c, double h) {
  auto fp = astype(f(shifted(x, d, h)), float64).to_vector<double>();
  auto fm = astype(f(shifted(x, d, -h)), float64).to_vector<double>();
  auto cv = astype(c, float64).to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < fp.size(); ++i) {
    if (fp[i] != fm[i]) s += cv[i] * (fp[i] - fm[i]) / (2 * h);
  }
  return s;
}

// The gradient checks of f at x (float64): vjp against finite differences,
// jvp against vjp, shapes and dtypes. Returns the vjp of a random cotangent.
// jtol bounds jvp against vjp (exact but for rounding in float64).
inline array check_grad(const UnaryFn& f, const array& x, double rtol = 1e-6, double h = 1e-5, double jtol = 1e-10) {
  array out = f(x);
  array c = randn(out.shape()), d = randn(x.shape());
  auto [vout, g] = uma::vjp(f, x, c);
  EXPECT_EQ(vout.shape(), out.shape());
  EXPECT_EQ(g.shape(), x.shape());
  EXPECT_EQ(g.dtype(), x.dtype());
  double an = inner_product(g, d);
  double fd = fd_directional(f, x, d, c, h);
  EXPECT_NEAR(an, fd, rtol * (1 + std::abs(fd))) << "vjp against finite differences";
  auto [jout, t] = uma::jvp(f, x, d);
  EXPECT_EQ(t.shape(), out.shape());
  EXPECT_NEAR(inner_product(c, t), an, jtol * (1 + std::abs(an))) << "jvp against vjp";
  return g;
}

// check_grad for a function of several float inputs (first output): vjp
// against central differences in a random direction of all the inputs at
// once, jvp against vjp within jtol; `h` is the step (linear functions take
// any). Returns the vjp of the random cotangent, one per input.
inline std::vector<array> check_grad_n(const ArrayFn& f, const std::vector<array>& xs, double rtol, double h,
                                       double jtol = 1e-5) {
  array out = f(xs)[0];
  array c = randn(out.shape());
  std::vector<array> ds;
  for (auto& x : xs) ds.push_back(randn(x.shape(), x.dtype()));
  auto [vout, gs] = uma::vjp(f, xs, {c});
  double an = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_EQ(gs[i].shape(), xs[i].shape());
    EXPECT_EQ(gs[i].dtype(), xs[i].dtype());
    an += inner_product(gs[i], ds[i]);
  }
  std::vector<array> plus, minus;
  for (size_t i = 0; i < xs.size(); ++i) {
    plus.push_back(shifted(xs[i], ds[i], h));
    minus.push_back(shifted(xs[i], ds[i], -h));
  }
  double fd = (inner_product(c, f(plus)[0]) - inner_product(c, f(minus)[0])) / (2 * h);
  EXPECT_NEAR(an, fd, rtol * (1 + std::abs(fd))) << "vjp against finite differences";
  auto [jout, ts] = uma::jvp(f, xs, ds);
  EXPECT_NEAR(inner_product(c, ts[0]), an, jtol * (1 + std::abs(an))) << "jvp against vjp";
  return gs;
}

// The rules of the rules: h(c) = vjp(f, x, c) is linear in c, so its vjp in
// a direction e is jvp(f, x, e) and its jvp in e is vjp(f, x, e).
inline void check_vjp_of_vjp(const UnaryFn& f, const array& x, double tol = 1e-10) {
  array out = f(x);
  UnaryFn h = [&](const array& c) { return uma::vjp(f, x, c).second; };
  array c0 = randn(out.shape()), e_in = randn(x.shape()), e_out = randn(out.shape());
  array want_j = uma::jvp(f, x, e_in).second;
  array want_v = uma::vjp(f, x, e_out).second;
  array got_j = uma::vjp(h, c0, e_in).second;
  array got_v = uma::jvp(h, c0, e_out).second;
  ASSERT_EQ(got_j.shape(), want_j.shape());
  ASSERT_EQ(got_v.shape(), want_v.shape());
  auto a = got_j.to_vector<double>(), b = want_j.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << "vjp of vjp at " << i;
  a = got_v.to_vector<double>(), b = want_v.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << "jvp of vjp at " << i;
}

// Hessian-vector product of a scalar f: jvp of grad(f) against finite
// differences of grad(f), and symmetric (<e, H d> == <d, H e>).
inline void check_hvp(const std::function<array(const array&)>& f, const array& x, double rtol = 1e-6,
                      double h = 1e-5) {
  auto g = uma::grad(f);
  array d = randn(x.shape()), e = randn(x.shape());
  array hd = uma::jvp(g, x, d).second;
  array he = uma::jvp(g, x, e).second;
  EXPECT_EQ(hd.shape(), x.shape());
  double fd = fd_directional(g, x, d, e, h);
  EXPECT_NEAR(inner_product(e, hd), fd, rtol * (1 + std::abs(fd))) << "Hessian-vector product against finite differences";
  EXPECT_NEAR(inner_product(e, hd), inner_product(d, he), 1e-9 * (1 + std::abs(fd))) << "Hessian symmetry";
  // Reverse over reverse: the vjp of grad(f) is H^T e = H e.
  array he_rev = uma::vjp(g, x, e).second;
  EXPECT_NEAR(inner_product(he_rev, d), inner_product(e, hd), 1e-9 * (1 + std::abs(fd))) << "vjp of grad against jvp of grad";
}

}  // namespace uma::test
