// Gradient rules of the elementwise family, through the transforms: for
// f = op(x[, y]) in float64, a random direction d and cotangent c,
//   vjp against central differences: <c, (f(x + h d) - f(x - h d)) / 2h> == <vjp(c), d>,
//   jvp against vjp (the inner-product identity): <c, jvp(d)> == <vjp(c), d>,
// second derivatives of the smooth unary ops, zero gradients of the
// piecewise-constant and integer-valued ones, float32 against float64 and
// the complex64 rules. Inputs are shaped and typed alike (no broadcast or
// cast in the traced graph).
#include <gtest/gtest.h>

#include <complex>
#include <functional>
#include <random>
#include <string>

#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/elementwise.h"
#include "uma/uma.h"

using namespace uma;

namespace {

using Fn1 = std::function<array(const array&)>;
using Fn2 = std::function<array(const array&, const array&)>;

std::mt19937 rng(7);
const Shape kShape = {3, 4};
constexpr double kStep = 1e-6;  // central-difference step in float64

// Uniform in [lo, hi], or in +-[lo, hi] with `either_sign`.
array uniform(double lo, double hi, bool either_sign = false, Shape shape = kShape) {
  std::uniform_real_distribution<double> u(lo, hi);
  size_t n = 1;
  for (int dim : shape) n *= size_t(dim);
  std::vector<double> v(n);
  for (auto& x : v) x = u(rng) * (either_sign && rng() % 2 ? -1 : 1);
  return array(v, shape);
}
array normal(Shape shape = kShape) { return uniform(-1, 1, false, std::move(shape)); }

double dot(array a, array b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  EXPECT_EQ(x.size(), y.size());
  double s = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) s += x[i] * y[i];
  return s;
}

// <c, (f(x + h d) - f(x - h d)) / 2h>
double central_difference(const Fn1& f, const array& x, const array& d, const array& c) {
  array up = f(add(x, multiply(array(kStep), d))), down = f(subtract(x, multiply(array(kStep), d)));
  return dot(c, subtract(up, down)) / (2 * kStep);
}

void expect_rel(double got, double want, double rtol, const std::string& what) {
  EXPECT_NEAR(got, want, rtol * (1 + std::abs(want))) << what;
}

// vjp against central differences and jvp against vjp, for f of one input.
void check_unary(const std::string& name, const Fn1& f, const array& x) {
  SCOPED_TRACE(name);
  array d = normal(x.shape()), c = normal(x.shape());
  auto [out, g] = vjp(f, x, c);
  ASSERT_EQ(g.shape(), x.shape());
  EXPECT_EQ(g.dtype(), x.dtype());
  double vj = dot(g, d);
  expect_rel(vj, central_difference(f, x, d, c), 1e-6, "vjp vs central difference");
  auto [out2, t] = jvp(f, x, d);
  EXPECT_EQ(t.dtype(), out2.dtype());
  expect_rel(dot(c, t), vj, 1e-12, "jvp vs vjp");
}

// The same for f(x, y): each input alone (the other a constant of the trace,
// so the rule sees one argnum) and both at once.
void check_binary(const std::string& name, const Fn2& f, const array& x, const array& y) {
  check_unary(
      name + " wrt a", [&](const array& a) { return f(a, y); }, x);
  check_unary(
      name + " wrt b", [&](const array& b) { return f(x, b); }, y);
  SCOPED_TRACE(name + " wrt both");
  ArrayFn both = [&](const std::vector<array>& in) { return std::vector<array>{f(in[0], in[1])}; };
  array dx = normal(), dy = normal(), c = normal();
  auto [outs, gs] = vjp(both, {x, y}, {c});
  double vj = dot(gs[0], dx) + dot(gs[1], dy);
  auto along = [&](double h) { return f(add(x, multiply(array(h), dx)), add(y, multiply(array(h), dy))); };
  expect_rel(vj, dot(c, subtract(along(kStep), along(-kStep))) / (2 * kStep), 1e-6, "vjp vs central difference");
  auto [outs2, ts] = jvp(both, {x, y}, {dx, dy});
  expect_rel(dot(c, ts[0]), vj, 1e-12, "jvp vs vjp");
}

struct UnaryCase {
  const char* name;
  Fn1 f;
  double lo, hi;  // the domain the inputs come from
  bool either_sign = false;
};

// The smooth unary ops, on domains away from their singularities.
std::vector<UnaryCase> smooth_unary() {
  auto op = [](array (*g)(const array&, StreamOrDevice)) { return [g](const array& x) { return g(x, {}); }; };
  return {
      {"abs", op(abs), 0.3, 2, true},
      {"negative", op(negative), -2, 2},
      {"exp", op(exp), -2, 2},
      {"expm1", op(expm1), -2, 2},
      {"log", op(log), 0.3, 3},
      {"log2", op(log2), 0.3, 3},
      {"log10", op(log10), 0.3, 3},
      {"log1p", op(log1p), -0.6, 2},
      {"sqrt", op(sqrt), 0.3, 3},
      {"rsqrt", op(rsqrt), 0.3, 3},
      {"square", op(square), -2, 2},
      {"sin", op(sin), -3, 3},
      {"cos", op(cos), -3, 3},
      {"tan", op(tan), -1.2, 1.2},
      {"arcsin", op(arcsin), -0.9, 0.9},
      {"arccos", op(arccos), -0.9, 0.9},
      {"arctan", op(arctan), -3, 3},
      {"sinh", op(sinh), -2, 2},
      {"cosh", op(cosh), -2, 2},
      {"tanh", op(tanh), -2, 2},
      {"arcsinh", op(arcsinh), -3, 3},
      {"arccosh", op(arccosh), 1.2, 3},
      {"arctanh", op(arctanh), -0.9, 0.9},
      {"erf", op(erf), -2, 2},
      {"erfinv", op(erfinv), -0.9, 0.9},
      {"sigmoid", op(sigmoid), -4, 4},
  };
}

// x -> the vjp rule of f's primitive at x for cotangent c: a graph of ops,
// differentiable by one (not nested) transform.
Fn1 first_derivative(const Fn1& f, const array& c) {
  return [f, c](const array& x) {
    array y = f(x);
    const auto& in = y.inputs();
    int k = 0;
    while (k < int(in.size()) && in[k].id() != x.id()) ++k;
    return y.primitive().vjp(in, {c}, {k}, {y}).at(0);
  };
}

struct BinaryCase {
  const char* name;
  Fn2 f;
  array a, b;
};

std::vector<BinaryCase> binary_cases() {
  array cond = greater(normal(), array(0.0));
  return {
      {"add", [](auto& a, auto& b) { return add(a, b); }, normal(), normal()},
      {"subtract", [](auto& a, auto& b) { return subtract(a, b); }, normal(), normal()},
      {"multiply", [](auto& a, auto& b) { return multiply(a, b); }, normal(), normal()},
      {"divide", [](auto& a, auto& b) { return divide(a, b); }, normal(), uniform(0.5, 2, true)},
      // Steps of floor(a / b) are 1e-6 away with negligible odds.
      {"remainder", [](auto& a, auto& b) { return remainder(a, b); }, uniform(-3, 3), uniform(0.7, 2, true)},
      {"power", [](auto& a, auto& b) { return power(a, b); }, uniform(0.3, 2), uniform(-2, 2)},
      {"maximum", [](auto& a, auto& b) { return maximum(a, b); }, normal(), normal()},
      {"minimum", [](auto& a, auto& b) { return minimum(a, b); }, normal(), normal()},
      {"arctan2", [](auto& a, auto& b) { return arctan2(a, b); }, uniform(0.2, 2, true), uniform(0.2, 2, true)},
      {"logaddexp", [](auto& a, auto& b) { return logaddexp(a, b); }, uniform(-3, 3), uniform(-3, 3)},
      {"where", [cond](auto& a, auto& b) { return where(cond, a, b); }, normal(), normal()},
  };
}

}  // namespace

TEST(GradElementwise, UnaryAgainstCentralDifferences) {
  for (auto& u : smooth_unary()) check_unary(u.name, u.f, uniform(u.lo, u.hi, u.either_sign));
}

TEST(GradElementwise, BinaryAgainstCentralDifferences) {
  for (auto& c : binary_cases()) check_binary(c.name, c.f, c.a, c.b);
  array cond = greater(normal(), array(0.0));
  array x = normal(), y = normal();
  // The condition's cotangent is zero, typed like it.
  ArrayFn select = [](const std::vector<array>& in) { return std::vector<array>{where(in[0], in[1], in[2])}; };
  auto gs = vjp(select, {cond, x, y}, {normal()}).second;
  EXPECT_EQ(gs[0].dtype(), bool_);
  EXPECT_FALSE(any(gs[0]).item<bool>());
}

TEST(GradElementwise, PowerAtZero) {
  // d(a^b)/da = 0 where b = 0 and d(a^b)/db = 0 where a^b = 0 (not 0 * inf
  // or log 0 * 0); at a = b = 0, d(a^b)/db is the one-sided -inf.
  array a = array({0.0, 0.0, 2.0, 0.0}), b = array({0.0, 2.0, 0.0, 0.5});
  auto [o1, ga] = vjp([&](const array& x) { return power(x, b); }, a, ones({4}, float64));
  test::expect_close(ga, {0, 0, 0, INFINITY});
  auto [o2, gb] = vjp([&](const array& y) { return power(a, y); }, b, ones({4}, float64));
  test::expect_close(gb, {-INFINITY, 0, std::log(2.0), 0});
}

TEST(GradElementwise, MaximumMinimumTiesAndNaN) {
  // A tie sends the gradient to b (as MLX); NaN sends it to neither.
  array a = array({1.0, 2.0, std::nan("")}), b = array({1.0, 3.0, 0.0});
  ArrayFn mx = [](const std::vector<array>& in) { return std::vector<array>{maximum(in[0], in[1])}; };
  ArrayFn mn = [](const std::vector<array>& in) { return std::vector<array>{minimum(in[0], in[1])}; };
  auto gs = vjp(mx, {a, b}, {ones({3}, float64)}).second;
  test::expect_close(gs[0], {0, 0, 0});
  test::expect_close(gs[1], {1, 1, 0});
  gs = vjp(mn, {a, b}, {ones({3}, float64)}).second;
  test::expect_close(gs[0], {0, 1, 0});
  test::expect_close(gs[1], {1, 0, 0});
}

TEST(GradElementwise, SecondDerivativesOfSmoothUnary) {
  for (auto& u : smooth_unary()) {
    SCOPED_TRACE(u.name);
    array x = uniform(u.lo, u.hi, u.either_sign), c = normal();
    // The rule's graph x -> f'(x) c is itself checked like an op.
    check_unary(std::string(u.name) + "'", first_derivative(u.f, c), x);
  }
}

TEST(GradElementwise, SecondDerivativesOfBinary) {
  for (auto& [name, f, a, b] : binary_cases()) {
    array c = normal();
    check_unary(std::string(name) + "' wrt a", first_derivative([&](const array& x) { return f(x, b); }, c), a);
    check_unary(std::string(name) + "' wrt b", first_derivative([&](const array& y) { return f(a, y); }, c), b);
  }
}

TEST(GradElementwise, GradOfGradOfSum) {
  // grad(grad(sum(f))) = f'' through nested transforms (which also run the
  // Copy and Sum rules), against differences of f' = vjp(f, ones).
  for (auto& u : smooth_unary()) {
    SCOPED_TRACE(u.name);
    Fn1 f = u.f;
    Fn1 df = [f](const array& x) { return grad([f](const array& z) { return sum(f(z)); })(x); };
    array x = uniform(u.lo, u.hi, u.either_sign), d = normal(), ones_ = ones(kShape, float64);
    array d2 = grad([df](const array& z) { return sum(df(z)); })(x);
    // f'' is diagonal: <d, f''> against differences of f' along d, weighted by d.
    Fn1 f1 = [f, ones_](const array& z) { return vjp(f, z, ones_).second; };
    expect_rel(dot(d2, multiply(d, d)), central_difference(f1, x, d, d), 1e-6, "f''");
  }
}

TEST(GradElementwise, ZeroGradients) {
  array x = uniform(-3, 3), y = uniform(-3, 3), c = normal(), t = normal();
  auto expect_zero = [](array g, const array& like) {
    EXPECT_EQ(g.shape(), like.shape());
    EXPECT_EQ(g.dtype(), like.dtype());
    for (double v : g.to_vector<double>()) EXPECT_EQ(v, 0.0);
  };
  std::vector<std::pair<const char*, Fn1>> flat = {
      {"sign", [](auto& a) { return sign(a); }},
      {"floor", [](auto& a) { return floor(a); }},
      {"ceil", [](auto& a) { return ceil(a); }},
      {"round", [](auto& a) { return round(a); }},
      {"stop_gradient", [](auto& a) { return stop_gradient(a); }},
  };
  for (auto& [name, f] : flat) {
    SCOPED_TRACE(name);
    expect_zero(vjp(f, x, c).second, x);
    expect_zero(jvp(f, x, t).second, x);
  }
  // Bool results: the cotangent of each float input is zero.
  std::vector<std::pair<const char*, Fn2>> compare = {
      {"equal", [](auto& a, auto& b) { return equal(a, b); }},
      {"not_equal", [](auto& a, auto& b) { return not_equal(a, b); }},
      {"less", [](auto& a, auto& b) { return less(a, b); }},
      {"less_equal", [](auto& a, auto& b) { return less_equal(a, b); }},
      {"greater", [](auto& a, auto& b) { return greater(a, b); }},
      {"greater_equal", [](auto& a, auto& b) { return greater_equal(a, b); }},
  };
  array cb = ones(kShape, bool_);
  for (auto& [name, f] : compare) {
    SCOPED_TRACE(name);
    ArrayFn both = [f = f](const std::vector<array>& in) { return std::vector<array>{f(in[0], in[1])}; };
    auto [outs, gs] = vjp(both, {x, y}, {cb});
    expect_zero(gs[0], x);
    expect_zero(gs[1], y);
    auto [outs2, ts] = jvp(both, {x, y}, {t, t});
    expect_zero(ts[0], outs2[0]);
  }
  // Integer and bool inputs.
  array i = array({1, -2, 3, 7}), j = array({2, 1, -1, 3}), b = array({true, false, true, false});
  std::vector<std::pair<const char*, Fn2>> ints = {
      {"bitwise_and", [](auto& a, auto& b) { return bitwise_and(a, b); }},
      {"bitwise_or", [](auto& a, auto& b) { return bitwise_or(a, b); }},
      {"bitwise_xor", [](auto& a, auto& b) { return bitwise_xor(a, b); }},
      {"left_shift", [](auto& a, auto& b) { return left_shift(a, b); }},
      {"right_shift", [](auto& a, auto& b) { return right_shift(a, b); }},
      {"floor_divide", [](auto& a, auto& b) { return floor_divide(a, b); }},
      {"logical_and", [](auto& a, auto& b) { return logical_and(a, b); }},
      {"logical_or", [](auto& a, auto& b) { return logical_or(a, b); }},
  };
  for (auto& [name, f] : ints) {
    SCOPED_TRACE(name);
    bool logical = std::string(name).rfind("logical", 0) == 0;
    array u = logical ? b : i, v = logical ? logical_not(b) : j;
    ArrayFn both = [f = f](const std::vector<array>& in) { return std::vector<array>{f(in[0], in[1])}; };
    auto [outs, gs] = vjp(both, {u, v}, {ones_like(f(u, v))});
    expect_zero(gs[0], u);
    expect_zero(gs[1], v);
    auto [outs2, ts] = jvp(both, {u, v}, {ones_like(u), ones_like(v)});
    expect_zero(ts[0], outs2[0]);
  }
  Fn1 lnot = [](const array&a) { return logical_not(a); }, inv = [](const array&a) { return bitwise_invert(a); };
  expect_zero(vjp(lnot, b, b).second, b);
  expect_zero(jvp(lnot, b, b).second, b);
  expect_zero(vjp(inv, i, i).second, i);
  expect_zero(jvp(inv, i, i).second, i);
}

TEST(GradElementwise, ZeroGradientsInsideGraphs) {
  array x = uniform(0.5, 2, true), c = normal();
  // d(x * stop_gradient(x)) = stop_gradient(x) dx; where(x > 0, x, -x) = |x|
  // sends the cotangent through the comparison's zero rule.
  auto g = vjp([](const array& a) { return multiply(a, stop_gradient(a)); }, x, c).second;
  test::expect_close(g, multiply(x, c).to_vector<double>(), 1e-15, 0);
  g = vjp([](const array& a) { return where(greater(a, array(0.0)), a, negative(a)); }, x, c).second;
  test::expect_close(g, multiply(sign(x), c).to_vector<double>(), 1e-15, 0);
  auto [o, tg] = jvp([](const array& a) { return where(greater(a, array(0.0)), a, negative(a)); }, x, c);
  test::expect_close(tg, multiply(sign(x), c).to_vector<double>(), 1e-15, 0);
}

TEST(GradElementwise, Float32MatchesFloat64) {
  std::vector<std::pair<const char*, Fn1>> ops = {
      {"exp", [](auto& a) { return exp(a); }},        {"log", [](auto& a) { return log(a); }},
      {"tanh", [](auto& a) { return tanh(a); }},      {"sigmoid", [](auto& a) { return sigmoid(a); }},
      {"rsqrt", [](auto& a) { return rsqrt(a); }},    {"erf", [](auto& a) { return erf(a); }},
      {"power", [](auto& a) { return power(a, a); }}, {"divide", [](auto& a) { return divide(square(a), a + 1.0); }},
  };
  array x64 = uniform(0.3, 2), c64 = normal();
  array x32 = astype(x64, float32), c32 = astype(c64, float32);
  for (auto& [name, f] : ops) {
    SCOPED_TRACE(name);
    array g32 = vjp(f, x32, c32).second, g64 = vjp(f, astype(x32, float64), astype(c32, float64)).second;
    EXPECT_EQ(g32.dtype(), float32);
    test::expect_close(g32, g64.to_vector<double>(), 1e-5, 1e-6);
    array t32 = jvp(f, x32, c32).second;
    EXPECT_EQ(t32.dtype(), float32);
    test::expect_close(t32, jvp(f, astype(x32, float64), astype(c32, float64)).second.to_vector<double>(), 1e-5, 1e-6);
  }
}

namespace {

array complex_normal() {
  array re = normal(), im = normal();
  auto r = re.to_vector<double>(), i = im.to_vector<double>();
  std::vector<complex64_t> v(r.size());
  for (size_t k = 0; k < v.size(); ++k) v[k] = complex64_t(float(r[k]), float(i[k]));
  return array(v, kShape);
}

// Re <a, b> = sum Re(conj(a) b), the real inner product of complex arrays
// (float arrays count as complex with zero imaginary parts).
double re_dot(const array& a, const array& b) {
  auto x = astype(a, complex64).to_vector<complex64_t>(), y = astype(b, complex64).to_vector<complex64_t>();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += double(x[i].real()) * y[i].real() + double(x[i].imag()) * y[i].imag();
  return s;
}

}  // namespace

TEST(GradElementwise, Complex64) {
  // Under Re <., .>, the vjp is the adjoint of the jvp, and the gradient of
  // the real loss Re <c, f(z)> is dL/dRe z + i dL/dIm z.
  array y = complex_normal();
  std::vector<std::pair<const char*, Fn1>> ops = {
      {"abs", [](const array& z) { return abs(z); }},
      {"sign", [](const array& z) { return sign(z); }},
      {"real", [](const array& z) { return real(z); }},
      {"imag", [](const array& z) { return imag(z); }},
      {"conjugate", [](const array& z) { return conjugate(z); }},
      {"negative", [](const array& z) { return negative(z); }},
      {"square", [](const array& z) { return square(z); }},
      {"exp", [](const array& z) { return exp(z); }},
      {"log", [](const array& z) { return log(z); }},
      {"sqrt", [](const array& z) { return sqrt(z); }},
      {"sin", [](const array& z) { return sin(z); }},
      {"tanh", [](const array& z) { return tanh(z); }},
      {"add", [&](const array& z) { return add(z, y); }},
      {"subtract", [&](const array& z) { return subtract(y, z); }},
      {"multiply", [&](const array& z) { return multiply(z, y); }},
      {"divide a", [&](const array& z) { return divide(z, y); }},
      {"divide b", [&](const array& z) { return divide(y, z); }},
      {"power a", [&](const array& z) { return power(z, y); }},
      {"power b", [&](const array& z) { return power(y, z); }},
  };
  const double h = 1e-2;
  for (auto& [name, f] : ops) {
    SCOPED_TRACE(name);
    // Away from the origin and the negative real axis (branch cuts of log, sqrt).
    array z = add(complex_normal(), array(complex64_t(1.5f, 0.f))), d = complex_normal();
    array out = f(z);
    array c = out.dtype() == complex64 ? complex_normal() : normal();
    if (out.dtype() != complex64) c = astype(c, out.dtype());
    auto [o, g] = vjp(f, z, c);
    EXPECT_EQ(g.dtype(), complex64);
    double vj = re_dot(g, d);
    double fd = re_dot(c, subtract(f(add(z, multiply(array(complex64_t(h, 0.f)), d))),
                                   f(subtract(z, multiply(array(complex64_t(h, 0.f)), d))))) /
                (2 * h);
    expect_rel(vj, fd, 2e-3, "vjp vs central difference");
    auto [o2, t] = jvp(f, z, d);
    EXPECT_EQ(t.dtype(), out.dtype());
    expect_rel(re_dot(c, t), vj, 1e-5, "jvp vs vjp");
  }
}
