// Binary elementwise ops against float64 references, over every dtype,
// broadcasting, non-contiguous inputs and special values.
#include <gtest/gtest.h>

#include "core/elementwise_util.h"

using namespace uma;
using namespace uma::test;

namespace {

// Python's floor division and remainder in double (integers: // 0 -> 0).
double py_floordiv(double a, double b, bool integer) {
  if (integer && b == 0) return 0;
  return std::floor(a / b);
}
double py_mod(double a, double b, bool integer) {
  if (integer && b == 0) return 0;
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Wraps a mathematically exact integer result into dtype t.
double wrap(double v, Dtype t) {
  if (!is_integral(t)) return v;
  int bits = int(size_of(t)) * 8;
  if (bits == 64) return (is_unsigned(t) && v < 0) ? v + std::ldexp(1.0, 64) : v;  // values stay far from 2^63
  double m = std::ldexp(1.0, bits);
  double r = std::fmod(v, m);
  if (r < 0) r += m;
  if (!is_unsigned(t) && r >= m / 2) r -= m;
  return r;
}

}  // namespace

TEST(ElementwiseBinary, ArithmeticEveryDtype) {
  for (Dtype t : all_real_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    bool is_signed = kind_of(t) == DtypeKind::signed_int || is_floating_point(t);
    double lo = t == bool_ ? 0 : is_signed ? -9 : 0, hi = t == bool_ ? 1 : 9;
    array a = spread(t, lo, hi, 24, {4, 6});
    array b = spread(t, hi, lo, 6, {6});  // broadcast along rows
    auto ref = [&](auto f) { return [&, f](double x, double y) { return t == bool_ ? double(f(x, y) != 0) : wrap(f(x, y), t); }; };
    expect_binary(add(a, b), a, b, ref([](double x, double y) { return x + y; }), t);
    expect_binary(subtract(a, b), a, b, ref([](double x, double y) { return x - y; }), t);
    expect_binary(multiply(a, b), a, b, ref([](double x, double y) { return x * y; }), t);
    expect_binary(maximum(a, b), a, b, [](double x, double y) { return std::max(x, y); }, t);
    expect_binary(minimum(a, b), a, b, [](double x, double y) { return std::min(x, y); }, t);
    Dtype ft = is_floating_point(t) ? t : float32;
    expect_binary(divide(a, b), a, b, [](double x, double y) { return x / y; }, ft);
    if (t != bool_) {
      bool integer = is_integral(t);
      expect_binary(floor_divide(a, b), a, b, [&](double x, double y) { return py_floordiv(x, y, integer); }, t,
                    is_floating_point(t) ? 2 * tol_for(t) : 0);
      expect_binary(remainder(a, b), a, b, [&](double x, double y) { return py_mod(x, y, integer); }, t,
                    is_floating_point(t) ? 4 * tol_for(t) : 0);
    }
  }
}

TEST(ElementwiseBinary, IntegerEdgeCases) {
  // Wraparound like MLX (two's complement).
  EXPECT_EQ(add(array({int8_t(127)}), array({int8_t(1)})).to_vector<int>(), std::vector<int>{-128});
  EXPECT_EQ(multiply(array({int32_t(1 << 30)}), array({int32_t(4)})).to_vector<int>(), std::vector<int>{0});
  EXPECT_EQ(subtract(array({uint8_t(0)}), array({uint8_t(1)})).to_vector<int>(), std::vector<int>{255});
  EXPECT_EQ(multiply(array({uint16_t(65535)}), array({uint16_t(65535)})).to_vector<int>(), std::vector<int>{1});
  EXPECT_EQ(negative(array({int32_t(INT32_MIN)})).to_vector<int>(), std::vector<int>{INT32_MIN});
  // Integer division by zero is 0, not a crash; INT_MIN // -1 wraps.
  array x({-7, 7, 0, INT32_MIN}), z({0, 0, 0, -1});
  EXPECT_EQ(floor_divide(x, z).to_vector<int>(), (std::vector<int>{0, 0, 0, INT32_MIN}));
  EXPECT_EQ(remainder(x, z).to_vector<int>(), (std::vector<int>{0, 0, 0, 0}));
  // Python signs: remainder takes the divisor's sign.
  array p({-7, 7, -7, 7}), q({2, -2, -2, 2});
  EXPECT_EQ(floor_divide(p, q).to_vector<int>(), (std::vector<int>{-4, -4, 3, 3}));
  EXPECT_EQ(remainder(p, q).to_vector<int>(), (std::vector<int>{1, -1, -1, 1}));
  EXPECT_EQ((p % 3).to_vector<int>(), (std::vector<int>{2, 1, 2, 1}));
  auto fm = remainder(array({-7.5f, 7.5f, 5.0f}), array({2.0f, -2.0f, -5.0f})).to_vector<float>();
  EXPECT_EQ(fm[0], 0.5f);
  EXPECT_EQ(fm[1], -0.5f);
  EXPECT_TRUE(fm[2] == 0 && std::signbit(fm[2]));
  auto dm = divmod(array({-7}), array({2}));
  EXPECT_EQ(dm[0].item<int>(), -4);
  EXPECT_EQ(dm[1].item<int>(), 1);
}

TEST(ElementwiseBinary, Power) {
  array b({2, 3, -2, 5, 0}), e({10, 3, 3, 0, 0});
  EXPECT_EQ(power(b, e).to_vector<int>(), (std::vector<int>{1024, 27, -8, 1, 1}));
  // Negative integer exponents truncate: 1, +-1 for base -1, else 0.
  EXPECT_EQ(power(array({1, -1, -1, 2, 0}), array({-3, -3, -2, -1, -1})).to_vector<int>(),
            (std::vector<int>{1, -1, 1, 0, 0}));
  EXPECT_EQ(power(array({int64_t(3)}), array({int64_t(39)})).item<int64_t>(), int64_t(4052555153018976267));
  EXPECT_EQ(power(array({uint8_t(2)}), array({uint8_t(9)})).item<int>(), 0);  // wraps
  for (Dtype t : float_dtypes()) {
    array x = spread(t, 0.5, 4, 8), y = spread(t, -2, 3, 8);
    expect_binary(power(x, y), x, y, [](double u, double v) { return std::pow(u, v); }, t, 3 * tol_for(t));
  }
  expect_close(power(array({-8.0f, 0.0f}), array({1.0f / 3, -1.0f})), {NAN, INFINITY});
}

TEST(ElementwiseBinary, Comparisons) {
  for (Dtype t : all_real_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    array a = spread(t, t == bool_ ? 0 : 1, t == bool_ ? 1 : 5, 5), b = spread(t, t == bool_ ? 1 : 5, t == bool_ ? 0 : 1, 5);
    expect_binary(equal(a, b), a, b, [](double x, double y) { return double(x == y); }, bool_);
    expect_binary(not_equal(a, b), a, b, [](double x, double y) { return double(x != y); }, bool_);
    expect_binary(less(a, b), a, b, [](double x, double y) { return double(x < y); }, bool_);
    expect_binary(less_equal(a, b), a, b, [](double x, double y) { return double(x <= y); }, bool_);
    expect_binary(greater(a, b), a, b, [](double x, double y) { return double(x > y); }, bool_);
    expect_binary(greater_equal(a, b), a, b, [](double x, double y) { return double(x >= y); }, bool_);
  }
  // Mixed dtypes promote first: int8 -1 vs uint8 255 compare as int16.
  EXPECT_TRUE(less(array({int8_t(-1)}), array({uint8_t(255)})).item<bool>());
  array n({NAN, 1.0f, NAN});
  EXPECT_EQ(equal(n, n).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(not_equal(n, n).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(less(n, array(2.0f)).to_vector<bool>(), (std::vector<bool>{false, true, false}));
}

TEST(ElementwiseBinary, MaxMinPropagateNaN) {
  for (Dtype t : float_dtypes()) {
    array a = astype(array({NAN, 1.0f, 2.0f, NAN, -0.5f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f}), t);
    array b = astype(array({1.0f, NAN, 3.0f, NAN, -1.0f, 2.0f, 5.0f, NAN, 1.0f, 8.0f}), t);
    expect_close(maximum(a, b), {NAN, NAN, 3, NAN, -0.5, 3, 5, NAN, 6, 8});
    expect_close(minimum(a, b), {NAN, NAN, 2, NAN, -1, 2, 4, NAN, 1, 7});
    expect_close(maximum(a, array(2.0f, t)), {NAN, 2, 2, NAN, 2, 3, 4, 5, 6, 7});
    expect_close(minimum(array(2.0f, t), b), {1, NAN, 2, NAN, -1, 2, 2, NAN, 1, 2});
  }
}

TEST(ElementwiseBinary, LogicalAndBitwise) {
  array a({true, true, false, false}), b({true, false, true, false});
  EXPECT_EQ(logical_and(a, b).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(logical_or(a, b).to_vector<bool>(), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ((a && b).dtype(), bool_);
  // Non-bool inputs are cast to bool.
  EXPECT_EQ(logical_and(array({0.0f, 2.0f, -1.0f}), array({3, 0, 5})).to_vector<bool>(),
            (std::vector<bool>{false, false, true}));
  EXPECT_EQ(logical_not(array({0, 3})).to_vector<bool>(), (std::vector<bool>{true, false}));
  for (Dtype t : int_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    array x = astype(array({12, 10, 127, 0}), t), y = astype(array({10, 6, 15, 7}), t);
    EXPECT_EQ(bitwise_and(x, y).to_vector<int>(), (std::vector<int>{8, 2, 15, 0}));
    EXPECT_EQ(bitwise_or(x, y).to_vector<int>(), (std::vector<int>{14, 14, 127, 7}));
    EXPECT_EQ(bitwise_xor(x, y).to_vector<int>(), (std::vector<int>{6, 12, 112, 7}));
    EXPECT_EQ(left_shift(x, astype(array({1, 2, 0, 3}), t)).to_vector<int>()[1], 40);
    EXPECT_EQ(right_shift(x, astype(array({1, 2, 4, 3}), t)).to_vector<int>(), (std::vector<int>{6, 2, 7, 0}));
  }
  EXPECT_EQ(bitwise_and(a, b).dtype(), bool_);
  EXPECT_EQ(left_shift(a, b).dtype(), uint8);
  // Shifting by the bit width or more shifts everything out.
  EXPECT_EQ(left_shift(array({1, 1}), array({31, 32})).to_vector<int>(), (std::vector<int>{INT32_MIN, 0}));
  EXPECT_EQ(right_shift(array({-8, -8, 8}), array({1, 40, 40})).to_vector<int>(), (std::vector<int>{-4, -1, 0}));
  EXPECT_EQ(bitwise_invert(array({uint8_t(0), uint8_t(5)})).to_vector<int>(), (std::vector<int>{255, 250}));
  EXPECT_EQ(bitwise_invert(array({0, -1})).to_vector<int>(), (std::vector<int>{-1, 0}));
  EXPECT_EQ(bitwise_invert(a).to_vector<bool>(), (std::vector<bool>{false, false, true, true}));
}

TEST(ElementwiseBinary, ArcTan2AndLogAddExp) {
  for (Dtype t : float_dtypes()) {
    array y = spread(t, -3, 3, 7), x = spread(t, 2, -2, 7);
    expect_binary(arctan2(y, x), y, x, [](double u, double v) { return std::atan2(u, v); }, t, 2 * tol_for(t));
    expect_binary(logaddexp(y, x), y, x,
                  [](double u, double v) { return std::log(std::exp(u) + std::exp(v)); }, t, 2 * tol_for(t));
  }
  const float inf = INFINITY;
  expect_close(logaddexp(array({-inf, -inf, inf, inf, 1000.0f, NAN}), array({-inf, 0.0f, inf, -inf, 1000.0f, 1.0f})),
               {-INFINITY, 0.0, INFINITY, INFINITY, 1000 + std::log(2.0), NAN});
  EXPECT_EQ(arctan2(array({1}), array({1})).dtype(), float32);
}

TEST(ElementwiseBinary, BroadcastingAndLayouts) {
  array col = reshape(arange(3), {3, 1});
  array row = reshape(arange(4), {1, 4});
  EXPECT_EQ(add(col, row).to_vector<int>(), (std::vector<int>{0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5}));
  EXPECT_EQ(add(array(1), row).shape(), (Shape{1, 4}));
  EXPECT_EQ(add(array(1.5f), array(2.0f)).item<float>(), 3.5f);  // 0-d
  EXPECT_EQ(add(array(1.5f), array(2.0f)).ndim(), 0u);
  // Transposed, sliced with steps, broadcast, reversed.
  array a = reshape(astype(arange(24), float32), {4, 6});
  array t = transpose(a);
  array s = slice(a, {0, 5}, {4, -7}, {2, -2});  // a[::2, ::-2]
  auto av = a.to_vector<double>();
  auto tv = t.to_vector<double>();
  auto sv = s.to_vector<double>();
  expect_binary(multiply(t, t), t, t, [](double x, double y) { return x * y; }, float32);
  expect_binary(subtract(t, reshape(arange(4.0, float32), {1, 4})), t, reshape(arange(4.0, float32), {1, 4}),
                [](double x, double y) { return x - y; }, float32);
  expect_binary(add(s, s), s, s, [](double x, double y) { return x + y; }, float32);
  expect_binary(maximum(s, array(10.0f)), s, array(10.0f), [](double x, double y) { return std::max(x, y); }, float32);
  // Both transposed the same way: the output keeps that layout.
  array tt = add(t, t);
  tt.eval();
  EXPECT_FALSE(tt.flags().row_contiguous);
  EXPECT_EQ(tt.to_vector<double>()[1], 2 * av[6]);
  // Half types through every path.
  for (Dtype h : {float16, bfloat16}) {
    array ah = astype(t, h), bh = astype(reshape(arange(6.0, float32), {6, 1}), h);
    expect_binary(add(ah, bh), ah, bh, [](double x, double y) { return x + y; }, h);
    expect_binary(multiply(ah, array(0.5f, h)), ah, array(0.5f, h), [](double x, double y) { return x * y; }, h);
  }
  // Empty and zero-size arrays.
  EXPECT_EQ(add(zeros({0, 3}), zeros({1, 3})).shape(), (Shape{0, 3}));
  EXPECT_EQ(add(zeros({0, 3}), array(1.0f)).to_vector<float>().size(), 0u);
  EXPECT_EQ(equal(zeros({2, 0}), zeros({0})).shape(), (Shape{2, 0}));
  (void)tv;
  (void)sv;
}

TEST(ElementwiseBinary, LargeArraysThreaded) {
  // Big enough to split across the pool; each path checked at a few points.
  int n = 1 << 20;
  array a = astype(arange(n), float32), b = full({n}, 2.0f);
  auto v = add(a, b).to_vector<float>();
  EXPECT_EQ(v[0], 2.0f);
  EXPECT_EQ(v[n - 1], float(n + 1));
  auto m = maximum(a, array(100.0f)).to_vector<float>();
  EXPECT_EQ(m[5], 100.0f);
  EXPECT_EQ(m[n - 1], float(n - 1));
  array h = astype(a, bfloat16);
  auto hv = multiply(h, h).to_vector<float>();
  EXPECT_EQ(hv[3], 9.0f);
  array t = transpose(reshape(a, {1024, 1024}));
  auto tv = subtract(t, array(1.0f)).to_vector<float>();
  EXPECT_EQ(tv[1], 1023.0f);
  EXPECT_EQ(tv[1024], 0.0f);
}

TEST(ElementwiseBinary, Complex) {
  array a({complex64_t(1, 2), complex64_t(-3, 0.5f)}), b({complex64_t(0.5f, -1), complex64_t(2, 2)});
  auto check = [](array out, std::vector<complex64_t> e) {
    ASSERT_EQ(out.dtype(), complex64);
    auto g = out.to_vector<complex64_t>();
    for (size_t i = 0; i < e.size(); ++i) {
      EXPECT_NEAR(g[i].real(), e[i].real(), 1e-5);
      EXPECT_NEAR(g[i].imag(), e[i].imag(), 1e-5);
    }
  };
  std::vector<complex64_t> av = {{1, 2}, {-3, 0.5f}}, bv = {{0.5f, -1}, {2, 2}};
  check(add(a, b), {av[0] + bv[0], av[1] + bv[1]});
  check(subtract(a, b), {av[0] - bv[0], av[1] - bv[1]});
  check(multiply(a, b), {av[0] * bv[0], av[1] * bv[1]});
  check(divide(a, b), {av[0] / bv[0], av[1] / bv[1]});
  check(add(a, array(1.0f)), {av[0] + 1.0f, av[1] + 1.0f});
  check(power(a, array(complex64_t(2, 0))), {av[0] * av[0], av[1] * av[1]});
  EXPECT_EQ(equal(a, a).to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ(not_equal(a, b).to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_THROW(less(a, b), std::invalid_argument);
  EXPECT_THROW(maximum(a, b), std::invalid_argument);
  EXPECT_THROW(remainder(a, b), std::invalid_argument);
  EXPECT_THROW(floor_divide(a, b), std::invalid_argument);
  EXPECT_THROW(arctan2(a, b), std::invalid_argument);
  EXPECT_THROW(logaddexp(a, b), std::invalid_argument);
}

TEST(ElementwiseBinary, Errors) {
  try {
    add(zeros({2, 3}), zeros({3, 2}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[add]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2,3)"), std::string::npos) << e.what();
  }
  try {
    bitwise_and(zeros({2}), array({1, 2}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[bitwise_and]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(left_shift(array({1.0f}), array({1})), std::invalid_argument);
  EXPECT_THROW(bitwise_xor(array({1.0}), array({1.0})), std::invalid_argument);
  EXPECT_THROW(bitwise_invert(array({1.0f})), std::invalid_argument);
  EXPECT_THROW(equal(zeros({4}), zeros({5})), std::invalid_argument);
}
