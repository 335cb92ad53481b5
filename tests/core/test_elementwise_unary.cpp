// Unary elementwise ops against float64 <cmath> references, over every
// dtype they accept, non-contiguous inputs and special values.
#include <gtest/gtest.h>

#include "core/elementwise_util.h"

using namespace uma;
using namespace uma::test;

namespace {

using UnaryFn = array (*)(const array&, StreamOrDevice);

struct MathCase {
  const char* name;
  UnaryFn op;
  double (*ref)(double);
  double lo, hi;
  double tol_scale;  // x tol_for(dtype)
};

double ref_sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double ref_rsqrt(double x) { return 1 / std::sqrt(x); }
double ref_square(double x) { return x * x; }
double ref_erfinv(double y) {
  // Bisection on erf in double: independent of the kernel's method.
  if (std::abs(y) >= 1) return y == 1 ? INFINITY : y == -1 ? -INFINITY : NAN;
  double lo = -6, hi = 6;
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    (std::erf(mid) < y ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

const std::vector<MathCase>& math_cases() {
  static const std::vector<MathCase> v = {
      {"exp", exp, [](double x) { return std::exp(x); }, -20, 20, 1},
      {"expm1", expm1, [](double x) { return std::expm1(x); }, -3, 3, 1},
      {"log", log, [](double x) { return std::log(x); }, 0.01, 1000, 1},
      {"log1p", log1p, [](double x) { return std::log1p(x); }, -0.5, 100, 1},
      {"log2", log2, [](double x) { return std::log2(x); }, 0.01, 1000, 1},
      {"log10", log10, [](double x) { return std::log10(x); }, 0.01, 1000, 1},
      {"sqrt", sqrt, [](double x) { return std::sqrt(x); }, 0, 100, 1},
      {"rsqrt", rsqrt, ref_rsqrt, 0.01, 100, 1},
      {"sin", sin, [](double x) { return std::sin(x); }, -3, 3, 2},
      {"cos", cos, [](double x) { return std::cos(x); }, -3, 3, 2},
      {"tan", tan, [](double x) { return std::tan(x); }, -1.2, 1.2, 2},
      {"arcsin", arcsin, [](double x) { return std::asin(x); }, -0.99, 0.99, 1},
      {"arccos", arccos, [](double x) { return std::acos(x); }, -0.99, 0.99, 1},
      {"arctan", arctan, [](double x) { return std::atan(x); }, -10, 10, 1},
      {"sinh", sinh, [](double x) { return std::sinh(x); }, -5, 5, 1},
      {"cosh", cosh, [](double x) { return std::cosh(x); }, -5, 5, 1},
      {"tanh", tanh, [](double x) { return std::tanh(x); }, -10, 10, 1},
      {"arcsinh", arcsinh, [](double x) { return std::asinh(x); }, -10, 10, 1},
      {"arccosh", arccosh, [](double x) { return std::acosh(x); }, 1, 10, 1},
      {"arctanh", arctanh, [](double x) { return std::atanh(x); }, -0.9, 0.9, 2},
      {"erf", erf, [](double x) { return std::erf(x); }, -3, 3, 1},
      {"erfinv", erfinv, ref_erfinv, -0.999, 0.999, 2},
      {"sigmoid", sigmoid, ref_sigmoid, -20, 20, 1},
      {"square", square, ref_square, -10, 10, 1},
      {"degrees", degrees, [](double x) { return x * 180 / M_PI; }, -4, 4, 1},
      {"radians", radians, [](double x) { return x * M_PI / 180; }, -400, 400, 1},
      {"reciprocal", reciprocal, [](double x) { return 1 / x; }, 0.1, 10, 1},
  };
  return v;
}

}  // namespace

TEST(ElementwiseUnary, FloatMathEveryFloatDtype) {
  for (const auto& c : math_cases()) {
    for (Dtype t : float_dtypes()) {
      SCOPED_TRACE(std::string(c.name) + " " + dtype_name(t));
      // 1000 values reach both the SIMD body and its tail; the transposed
      // view goes through the strided path.
      array x = spread(t, c.lo, c.hi, 1000, {40, 25});
      expect_unary(c.op(x, {}), x, c.ref, t, c.tol_scale * tol_for(t));
      array xt = transpose(x);
      expect_unary(c.op(xt, {}), xt, c.ref, t, c.tol_scale * tol_for(t));
    }
  }
}

TEST(ElementwiseUnary, IntegerAndBoolInputsComputeInFloat32) {
  for (Dtype t : all_real_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    array x = astype(array({0, 1, 2, 5}), t);
    expect_unary(exp(x), x, [](double v) { return std::exp(v); }, is_floating_point(t) ? t : float32);
    expect_unary(sqrt(x), x, [](double v) { return std::sqrt(v); }, is_floating_point(t) ? t : float32);
    expect_unary(sigmoid(x), x, ref_sigmoid, is_floating_point(t) ? t : float32);
  }
  EXPECT_EQ(log(array({1, 2})).dtype(), float32);
  EXPECT_EQ(reciprocal(array({4})).item<float>(), 0.25f);
}

TEST(ElementwiseUnary, ArithmeticKeepsDtype) {
  for (Dtype t : all_real_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    bool is_signed = kind_of(t) == DtypeKind::signed_int || is_floating_point(t);
    array x = spread(t, is_signed ? -5 : 0, 5, 11);
    expect_unary(abs(x), x, [](double v) { return std::abs(v); }, t);
    expect_unary(square(x), x, [](double v) { return v * v; }, t);
    expect_unary(sign(x), x, [](double v) { return double((v > 0) - (v < 0)); }, t);
    expect_unary(floor(x), x, [](double v) { return std::floor(v); }, t);
    expect_unary(ceil(x), x, [](double v) { return std::ceil(v); }, t);
    expect_unary(round(x), x, [](double v) { return std::nearbyint(v); }, t);
    if (t != bool_) {
      expect_unary(negative(x), x, [&](double v) { return is_unsigned(t) ? (v == 0 ? 0 : std::ldexp(1.0, 8 * size_of(t)) - v) : -v; }, t);
    }
  }
  EXPECT_THROW(negative(array({true})), std::invalid_argument);
  EXPECT_EQ(abs(array({int8_t(-128)})).item<int>(), -128);  // wraps like two's complement
}

TEST(ElementwiseUnary, RoundHalfToEvenWithDecimals) {
  expect_close(round(array({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, -2.6f})), {0, 2, 2, -0, -2, 2, -3});
  expect_close(round(array({1.25, 1.35, -2.675, 123.456}), 1), {1.2, 1.4, -2.7, 123.5}, 0, 1e-12);
  expect_close(round(array({1234.5f, 1250.0f}), -2), {1200, 1200});
  EXPECT_EQ(round(array({7}), 2).item<int>(), 7);
  EXPECT_THROW(round(array({complex64_t(1, 1)})), std::invalid_argument);
}

TEST(ElementwiseUnary, SpecialValues) {
  const float inf = INFINITY, nan = NAN;
  array s({inf, -inf, nan, 0.0f, -0.0f});
  expect_close(exp(s), {INFINITY, 0, NAN, 1, 1});
  expect_close(log(s), {INFINITY, NAN, NAN, -INFINITY, -INFINITY});
  expect_close(sqrt(s), {INFINITY, NAN, NAN, 0, 0});
  expect_close(tanh(s), {1, -1, NAN, 0, 0});
  expect_close(sigmoid(s), {1, 0, NAN, 0.5, 0.5});
  expect_close(sign(s), {1, -1, NAN, 0, 0});
  expect_close(abs(s), {INFINITY, INFINITY, NAN, 0, 0});
  expect_close(erfinv(array({1.0f, -1.0f, 1.5f, 0.0f})), {INFINITY, -INFINITY, NAN, 0});
  auto nz = tanh(array({-0.0f})).item<float>();
  EXPECT_TRUE(nz == 0 && std::signbit(nz));
  EXPECT_EQ(isnan(s).to_vector<bool>(), (std::vector<bool>{false, false, true, false, false}));
  EXPECT_EQ(isinf(s).to_vector<bool>(), (std::vector<bool>{true, true, false, false, false}));
  EXPECT_EQ(isfinite(s).to_vector<bool>(), (std::vector<bool>{false, false, false, true, true}));
  EXPECT_EQ(isposinf(s).to_vector<bool>(), (std::vector<bool>{true, false, false, false, false}));
  EXPECT_EQ(isneginf(s).to_vector<bool>(), (std::vector<bool>{false, true, false, false, false}));
  EXPECT_EQ(isnan(array({1, 2})).to_vector<bool>(), (std::vector<bool>{false, false}));
  EXPECT_EQ(isfinite(array({1})).to_vector<bool>(), (std::vector<bool>{true}));
  expect_close(nan_to_num(s), {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 0, 0, 0});
  expect_close(nan_to_num(astype(s, float16), 1.0f, 2.0f), {2, -65504, 1, 0, 0});
  expect_close(nan_to_num(astype(s, bfloat16)), {3.3895313892515355e38, -3.3895313892515355e38, 0, 0, 0});
  // Sigmoid keeps tiny results (no 1/(1+inf)) down to FLT_MIN; below, exp
  // and so sigmoid flush to +0 (simd/math.h).
  EXPECT_NEAR(sigmoid(array({-87.0f})).item<float>() / 1.6458114310822737e-38, 1.0, 1e-6);
  EXPECT_EQ(sigmoid(array({-100.0f})).item<float>(), 0.0f);
}

TEST(ElementwiseUnary, ComplexSupport) {
  std::vector<complex64_t> v = {{1, 2}, {-0.5f, 0.25f}, {3, -1}};
  array z(v, {3});
  auto near = [&](array out, auto f) {
    ASSERT_EQ(out.dtype(), complex64);
    auto g = out.to_vector<complex64_t>();
    for (size_t i = 0; i < v.size(); ++i) {
      complex64_t e = f(v[i]);
      EXPECT_NEAR(g[i].real(), e.real(), 1e-5 * (1 + std::abs(e)));
      EXPECT_NEAR(g[i].imag(), e.imag(), 1e-5 * (1 + std::abs(e)));
    }
  };
  near(exp(z), [](complex64_t x) { return std::exp(x); });
  near(log(z), [](complex64_t x) { return std::log(x); });
  near(sqrt(z), [](complex64_t x) { return std::sqrt(x); });
  near(sin(z), [](complex64_t x) { return std::sin(x); });
  near(tanh(z), [](complex64_t x) { return std::tanh(x); });
  near(negative(z), [](complex64_t x) { return -x; });
  near(square(z), [](complex64_t x) { return x * x; });
  near(conjugate(z), [](complex64_t x) { return std::conj(x); });
  near(sign(z), [](complex64_t x) { return x / std::abs(x); });
  near(reciprocal(z), [](complex64_t x) { return 1.0f / x; });
  auto a = abs(z);
  EXPECT_EQ(a.dtype(), float32);
  expect_close(a, {std::sqrt(5.0), std::sqrt(0.3125), std::sqrt(10.0)}, 1e-6);
  expect_close(real(z), {1, -0.5, 3});
  expect_close(imag(z), {2, 0.25, -1});
  expect_close(imag(array({1.0f, 2.0f})), {0, 0});
  EXPECT_EQ(isnan(z).to_vector<bool>(), (std::vector<bool>{false, false, false}));
  for (UnaryFn f : std::vector<UnaryFn>{erf, erfinv, sigmoid, expm1, log1p, floor, ceil, isposinf}) {
    EXPECT_THROW(f(z, {}), std::invalid_argument);
  }
  try {
    erf(z);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[erf] complex64"), std::string::npos) << e.what();
  }
}

TEST(ElementwiseUnary, LayoutsAndEmpty) {
  array a = reshape(astype(arange(24), float32), {2, 3, 4});
  array t = transpose(a, {2, 0, 1});
  array e = exp(t);
  e.eval();
  EXPECT_FALSE(e.flags().row_contiguous);  // dense input: the layout is kept
  expect_unary(e, t, [](double v) { return std::exp(v); }, float32);
  array s = slice(a, {0, 0, 3}, {2, 3, -5}, {1, 2, -2});
  expect_unary(negative(s), s, [](double v) { return -v; }, float32);
  array b = broadcast_to(array(2.0f), {3, 3});
  expect_unary(log(b), b, [](double v) { return std::log(v); }, float32);
  EXPECT_EQ(exp(zeros({0, 4})).shape(), (Shape{0, 4}));
  EXPECT_EQ(exp(zeros({0})).to_vector<float>().size(), 0u);
  EXPECT_FLOAT_EQ(exp(array(0.0f)).item<float>(), 1.0f);
  EXPECT_EQ(stop_gradient(a).to_vector<float>(), a.to_vector<float>());
}
