// The elementwise kernels (unary.cu, binary.cu, ternary.cu) against the CPU
// backend: every op on every dtype the CPU accepts, on inputs valid for the
// op; strided views made on the GPU, broadcast scalars and rows, sizes that
// are not multiples of the block size, and empty arrays.
#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <set>

#include "cuda/cuda_util.h"
#include "uma/core/primitives/elementwise.h"
#include "uma/core/primitives/shape.h"

namespace uma::test {
namespace {

using Unary = std::function<array(const array&, StreamOrDevice)>;
using Binary = std::function<array(const array&, const array&, StreamOrDevice)>;

std::vector<Dtype> int_dtypes() { return {uint8, uint16, uint32, uint64, int8, int16, int32, int64}; }
std::vector<Dtype> num_dtypes() { return all_dtypes(); }
std::vector<Dtype> integer_dtypes() {
  auto v = int_dtypes();
  v.insert(v.begin(), bool_);
  return v;
}

// complex64 with both parts uniform in [lo, hi], made on the host.
array random_complex(const Shape& shape, uint32_t seed, double lo = -2, double hi = 2) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u{float(lo), float(hi)};
  std::vector<complex64_t> v(n);
  for (auto& z : v) {
    float re = u(rng);
    z = complex64_t(re, u(rng));
  }
  return array(v, shape);
}

array random_of(const Shape& shape, Dtype t, uint32_t seed, double lo, double hi) {
  return t == complex64 ? random_complex(shape, seed, lo, hi) : random_array(shape, t, seed, lo, hi);
}

// A row-major copy of x computed on the GPU (astype to the same dtype would
// return x itself), so that views of it are views of device data.
array on_device(const array& x) {
  array y(x.shape(), x.dtype(), std::make_shared<AsType>(default_stream(gpu()), x.dtype()), {x});
  eval(y);
  EXPECT_TRUE(on_gpu(y));
  return y;
}

std::string label(const std::string& op, Dtype t, const std::string& more = "") {
  return op + " " + dtype_name(t) + (more.empty() ? "" : " " + more);
}

struct UnaryCase {
  std::string name;
  Unary f;
  std::vector<Dtype> dtypes;
  double lo, hi;
};

std::vector<UnaryCase> unary_cases() {
  auto floats = float_dtypes();
  auto inexact = float_dtypes();
  inexact.push_back(complex64);
  auto all = all_dtypes();
  auto all_c = all;
  all_c.push_back(complex64);
  auto no_bool = all_c;
  no_bool.erase(no_bool.begin());
#define UMA_U(FN) [](const array& x, StreamOrDevice s) { return FN(x, s); }
  return {
      {"abs", UMA_U(abs), all_c, -4, 4},
      {"negative", UMA_U(negative), no_bool, -4, 4},
      {"sign", UMA_U(sign), all_c, -4, 4},
      {"square", UMA_U(square), all_c, -4, 4},
      {"exp", UMA_U(exp), inexact, -4, 4},
      {"expm1", UMA_U(expm1), floats, -4, 4},
      {"log", UMA_U(log), inexact, 0.01, 10},
      {"log2", UMA_U(log2), inexact, 0.01, 10},
      {"log10", UMA_U(log10), inexact, 0.01, 10},
      {"log1p", UMA_U(log1p), floats, -0.9, 10},
      {"sqrt", UMA_U(sqrt), inexact, 0.01, 10},
      {"rsqrt", UMA_U(rsqrt), inexact, 0.01, 10},
      {"sin", UMA_U(sin), inexact, -4, 4},
      {"cos", UMA_U(cos), inexact, -4, 4},
      {"tan", UMA_U(tan), inexact, -1.4, 1.4},
      {"arcsin", UMA_U(arcsin), floats, -0.99, 0.99},
      {"arccos", UMA_U(arccos), floats, -0.99, 0.99},
      {"arctan", UMA_U(arctan), floats, -4, 4},
      {"sinh", UMA_U(sinh), inexact, -4, 4},
      {"cosh", UMA_U(cosh), inexact, -4, 4},
      {"tanh", UMA_U(tanh), inexact, -4, 4},
      {"arcsinh", UMA_U(arcsinh), floats, -4, 4},
      {"arccosh", UMA_U(arccosh), floats, 1.01, 10},
      {"arctanh", UMA_U(arctanh), floats, -0.99, 0.99},
      {"erf", UMA_U(erf), floats, -3, 3},
      {"erfinv", UMA_U(erfinv), floats, -0.999, 0.999},
      {"sigmoid", UMA_U(sigmoid), floats, -8, 8},
      {"floor", UMA_U(floor), all, -4, 4},
      {"ceil", UMA_U(ceil), all, -4, 4},
      {"round", [](const array& x, StreamOrDevice s) { return round(x, 0, s); }, all, -4, 4},
      {"logical_not", UMA_U(logical_not), all_c, -4, 4},
      {"bitwise_invert", UMA_U(bitwise_invert), integer_dtypes(), -4, 4},
      {"stop_gradient", UMA_U(stop_gradient), all_c, -4, 4},
      {"real", UMA_U(real), {complex64}, -4, 4},
      {"imag", UMA_U(imag), {complex64}, -4, 4},
      {"conjugate", UMA_U(conjugate), {complex64}, -4, 4},
  };
#undef UMA_U
}

TEST(CudaElementwise, UnaryEveryOpEveryDtype) {
  NoFallback strict;
  uint32_t seed = 100;
  for (const auto& c : unary_cases()) {
    for (Dtype t : c.dtypes) {
      array x = random_of({7, 37}, t, ++seed, c.lo, c.hi);
      expect_same(c.f(x, gpu()), c.f(x, cpu()), -1, -1, label(c.name, t));
    }
  }
}

// Float math on integer inputs computes in float32 (the cast runs on the GPU).
TEST(CudaElementwise, UnaryMathOnIntegers) {
  NoFallback strict;
  array x = random_array({101}, int32, 7, 1, 50);
  for (const auto& c : unary_cases()) {
    static const std::set<std::string> valid = {"exp",  "log",  "log2", "log10",   "log1p",   "sqrt",
                                                "rsqrt", "sin", "cos",  "arctan",  "tanh",    "arcsinh",
                                                "arccosh", "erf", "sigmoid"};
    if (!valid.count(c.name)) continue;
    expect_same(c.f(x, gpu()), c.f(x, cpu()), -1, -1, label(c.name, int32));
  }
}

TEST(CudaElementwise, UnarySpecialValues) {
  NoFallback strict;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  array x = array({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.0, 0.0, inf, -inf, nan, 1e-30, -7.25}, {14});
  for (Dtype t : float_dtypes()) {
    array xt = astype(x, t, cpu());
    for (const auto& c : unary_cases()) {
      if (std::find(c.dtypes.begin(), c.dtypes.end(), t) == c.dtypes.end()) continue;
      expect_same(c.f(xt, gpu()), c.f(xt, cpu()), -1, -1, label(c.name, t, "special values"));
    }
  }
  // Round is half to even.
  array r = round(astype(x, float32, cpu()), 0, gpu());
  auto v = r.to_vector<double>();
  std::vector<double> want = {-2, -2, -0.0, 0, 2, 2, 4};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(v[i], want[i]) << i;
  // erfinv outside [-1, 1] is NaN, at +-1 infinite.
  array e = erfinv(array({-1.5f, -1.f, 1.f, 1.5f}, {4}), gpu());
  auto ev = e.to_vector<double>();
  EXPECT_TRUE(std::isnan(ev[0]) && std::isnan(ev[3]));
  EXPECT_EQ(ev[1], -inf);
  EXPECT_EQ(ev[2], inf);
  // Integer negation and abs wrap.
  array m = array({int8_t(-128), int8_t(5)}, {2});
  expect_same(abs(m, gpu()), abs(m, cpu()));
  expect_same(negative(m, gpu()), negative(m, cpu()));
}

struct BinaryCase {
  std::string name;
  Binary f;
  std::vector<Dtype> dtypes;
  double a_lo, a_hi, b_lo, b_hi;
};

std::vector<BinaryCase> binary_cases() {
  auto floats = float_dtypes();
  auto inexact = floats;
  inexact.push_back(complex64);
  auto num = num_dtypes();
  auto all_c = num;
  all_c.push_back(complex64);
  auto ints = int_dtypes();
  auto integers = integer_dtypes();
#define UMA_B(FN) [](const array& a, const array& b, StreamOrDevice s) { return FN(a, b, s); }
  return {
      {"add", UMA_B(add), all_c, -4, 4, -4, 4},
      {"subtract", UMA_B(subtract), all_c, -4, 4, -4, 4},
      {"multiply", UMA_B(multiply), all_c, -4, 4, -4, 4},
      {"divide", UMA_B(divide), inexact, -4, 4, 0.5, 4},
      // Integer divisors include 0 (x // 0 == 0, x % 0 == 0).
      {"floor_divide", UMA_B(floor_divide), num, -9, 9, -3, 3},
      {"remainder", UMA_B(remainder), num, -9, 9, -3, 3},
      {"power", UMA_B(power), all_c, 0.1, 3, -3, 3},
      {"maximum", UMA_B(maximum), num, -4, 4, -4, 4},
      {"minimum", UMA_B(minimum), num, -4, 4, -4, 4},
      {"arctan2", UMA_B(arctan2), floats, -4, 4, -4, 4},
      {"logaddexp", UMA_B(logaddexp), floats, -8, 8, -8, 8},
      // Small integer-valued ranges so that many elements compare equal.
      {"equal", UMA_B(equal), all_c, -2, 2, -2, 2},
      {"not_equal", UMA_B(not_equal), all_c, -2, 2, -2, 2},
      {"less", UMA_B(less), num, -2, 2, -2, 2},
      {"less_equal", UMA_B(less_equal), num, -2, 2, -2, 2},
      {"greater", UMA_B(greater), num, -2, 2, -2, 2},
      {"greater_equal", UMA_B(greater_equal), num, -2, 2, -2, 2},
      {"logical_and", UMA_B(logical_and), {bool_, int32, float32}, -1, 1, -1, 1},
      {"logical_or", UMA_B(logical_or), {bool_, int32, float32}, -1, 1, -1, 1},
      {"bitwise_and", UMA_B(bitwise_and), integers, -100, 100, -100, 100},
      {"bitwise_or", UMA_B(bitwise_or), integers, -100, 100, -100, 100},
      {"bitwise_xor", UMA_B(bitwise_xor), integers, -100, 100, -100, 100},
      // Shift amounts past the bit width and negative ones.
      {"left_shift", UMA_B(left_shift), integers, -100, 100, -3, 70},
      {"right_shift", UMA_B(right_shift), integers, -100, 100, -3, 70},
  };
#undef UMA_B
}

// Inputs of a binary case: for equality tests of floats, integer values.
std::pair<array, array> binary_inputs(const BinaryCase& c, Dtype t, const Shape& shape, uint32_t seed) {
  array a = random_of(shape, t, seed, c.a_lo, c.a_hi);
  array b = random_of(shape, t, seed + 7777, c.b_lo, c.b_hi);
  bool compare = c.name.find("equal") != std::string::npos || c.name == "less" || c.name == "greater";
  if (compare && is_inexact(t)) b = where(random_array(shape, bool_, seed + 1), a, b, cpu());  // some equal
  if (c.name == "power" && t == complex64) b = random_complex(shape, seed + 1, -1, 1);
  return {a, b};
}

TEST(CudaElementwise, BinaryEveryOpEveryDtype) {
  NoFallback strict;
  uint32_t seed = 1000;
  for (const auto& c : binary_cases()) {
    for (Dtype t : c.dtypes) {
      auto [a, b] = binary_inputs(c, t, {5, 41}, seed += 2);
      expect_same(c.f(a, b, gpu()), c.f(a, b, cpu()), -1, -1, label(c.name, t));
    }
  }
}

TEST(CudaElementwise, BinaryIntegerConventions) {
  NoFallback strict;
  const int32_t lo = std::numeric_limits<int32_t>::min();
  array a = array({7, -7, 0, 5, -5, 7, -7, lo, lo, 9}, {10});
  array b = array({0, 0, 0, 2, 2, -2, -2, -1, 1, 3}, {10});
  array q = floor_divide(a, b, gpu()), r = remainder(a, b, gpu());
  EXPECT_EQ(q.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 2, -3, -4, 3, lo, lo, 3}));
  EXPECT_EQ(r.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 1, 1, -1, -1, 0, 0, 0}));
  for (Dtype t : {int8, int16, int64, uint8, uint32, uint64}) {
    array x = astype(abs(a, cpu()), t, cpu()), y = astype(abs(b, cpu()), t, cpu());
    if (t == int8 || t == int16) x = random_array({10}, t, 3, -100, 100);
    expect_same(floor_divide(x, y, gpu()), floor_divide(x, y, cpu()), -1, -1, label("floor_divide", t));
    expect_same(remainder(x, y, gpu()), remainder(x, y, cpu()), -1, -1, label("remainder", t));
  }
  // Shifts: past the width give 0 (or -1 for negative signed values).
  array s = array({int8_t(-128), int8_t(-3), int8_t(64), int8_t(5)}, {4});
  array n = array({int8_t(9), int8_t(8), int8_t(8), int8_t(-1)}, {4});
  EXPECT_EQ(right_shift(s, n, gpu()).to_vector<int64_t>(), (std::vector<int64_t>{-1, -1, 0, 0}));
  EXPECT_EQ(left_shift(s, n, gpu()).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0}));
  // Integer powers wrap; negative exponents truncate.
  array base = array({2, -1, -1, 3, 1, 0, 7}, {7}), ex = array({31, 3, -4, -2, -5, 0, 20}, {7});
  expect_same(power(base, ex, gpu()), power(base, ex, cpu()));
  for (Dtype t : {int8, uint8, int64, uint64}) {
    array x = astype(base, t, cpu()), e = astype(abs(ex, cpu()), t, cpu());
    expect_same(power(x, e, gpu()), power(x, e, cpu()), -1, -1, label("power", t));
  }
  // Bool arithmetic: true + true == true, true - true == false.
  array p = array({true, true, false, false}, {4}), o = array({true, false, true, false}, {4});
  for (const auto& c : binary_cases()) {
    if (std::find(c.dtypes.begin(), c.dtypes.end(), bool_) == c.dtypes.end()) continue;
    expect_same(c.f(p, o, gpu()), c.f(p, o, cpu()), -1, -1, label(c.name, bool_, "truth table"));
  }
}

TEST(CudaElementwise, BinaryNaNAndInfinity) {
  NoFallback strict;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  std::vector<double> va = {nan, 1, nan, inf, -inf, inf, 2, -0.0, 0.0, 3, -3, 5.5};
  std::vector<double> vb = {1, nan, nan, inf, -inf, -inf, 0, 0.0, -0.0, -inf, inf, -2};
  for (Dtype t : float_dtypes()) {
    array a = astype(array(va, {12}), t, cpu()), b = astype(array(vb, {12}), t, cpu());
    for (const auto& c : binary_cases()) {
      if (std::find(c.dtypes.begin(), c.dtypes.end(), t) == c.dtypes.end()) continue;
      expect_same(c.f(a, b, gpu()), c.f(a, b, cpu()), -1, -1, label(c.name, t, "NaN/inf"));
    }
  }
}

// Equal with equal_nan (the primitive array_equal records).
TEST(CudaElementwise, EqualNaN) {
  NoFallback strict;
  const double nan = std::nan("");
  auto equal_nan = [](const array& a, const array& b, Device d) {
    return array(a.shape(), bool_, std::make_shared<Equal>(default_stream(d), true), {a, b});
  };
  for (Dtype t : {float16, bfloat16, float32, float64, complex64}) {
    array a = astype(array({nan, 1.0, nan, 2.0}, {4}), t, cpu());
    array b = astype(array({nan, 1.0, 3.0, nan}, {4}), t, cpu());
    expect_same(equal_nan(a, b, gpu()), equal_nan(a, b, cpu()), -1, -1, label("equal_nan", t));
    expect_same(equal(a, b, gpu()), equal(a, b, cpu()), -1, -1, label("equal", t));
  }
  array za = array({complex64_t(nan, 1), complex64_t(1, nan), complex64_t(1, 2)}, {3});
  array zb = array({complex64_t(nan, 1), complex64_t(1, 2), complex64_t(1, 2)}, {3});
  expect_same(equal_nan(za, zb, gpu()), equal_nan(za, zb, cpu()));
  expect_same(not_equal(za, zb, gpu()), not_equal(za, zb, cpu()));
}

TEST(CudaElementwise, SelectEveryDtype) {
  NoFallback strict;
  auto dts = all_dtypes();
  dts.push_back(complex64);
  uint32_t seed = 5000;
  array cond = random_array({9, 33}, bool_, 4999);
  for (Dtype t : dts) {
    array x = random_of({9, 33}, t, ++seed, -4, 4), y = random_of({9, 33}, t, ++seed, -4, 4);
    expect_same(where(cond, x, y, gpu()), where(cond, x, y, cpu()), 0, 0, label("where", t));
    // Broadcast: a scalar x, a row y, a column condition.
    array xs = random_of({}, t, ++seed, -4, 4), yr = random_of({1, 33}, t, ++seed, -4, 4);
    array cc = random_array({9, 1}, bool_, ++seed);
    expect_same(where(cc, xs, yr, gpu()), where(cc, xs, yr, cpu()), 0, 0, label("where", t, "broadcast"));
    expect_same(where(cond, xs, y, gpu()), where(cond, xs, y, cpu()), 0, 0, label("where", t, "scalar x"));
    // Views made on the GPU.
    array xt = transpose(on_device(random_of({33, 9}, t, ++seed, -4, 4)), {1, 0}, gpu());
    array xt_c = transpose(random_of({33, 9}, t, seed, -4, 4), {1, 0}, cpu());
    array cd = transpose(on_device(random_array({33, 9}, bool_, ++seed)), {1, 0}, gpu());
    array cd_c = transpose(random_array({33, 9}, bool_, seed), {1, 0}, cpu());
    expect_same(where(cd, xt, y, gpu()), where(cd_c, xt_c, y, cpu()), 0, 0, label("where", t, "transposed"));
  }
}

// Views: transposes, strided slices with offsets, broadcast rows and
// columns, all made on the GPU.
TEST(CudaElementwise, StridedAndBroadcastInputs) {
  NoFallback strict;
  for (Dtype t : {float32, float16, bfloat16, int8, int64, float64, complex64}) {
    array x = random_of({37, 53}, t, 11, 0.5, 4), y = random_of({53, 37}, t, 12, 0.5, 4);
    array xg = on_device(x), yg = on_device(y);
    // Transposed against row-major.
    expect_same(add(transpose(yg, {1, 0}, gpu()), xg, gpu()), add(transpose(y, {1, 0}, cpu()), x, cpu()), -1, -1,
                label("add transposed", t));
    // Sliced with steps and an offset.
    auto sl = [](const array& a, StreamOrDevice s) { return slice(a, {3, 2}, {37, 53}, {2, 3}, s); };
    expect_same(multiply(sl(xg, gpu()), sl(xg, gpu()), gpu()), multiply(sl(x, cpu()), sl(x, cpu()), cpu()), -1, -1,
                label("multiply sliced", t));
    expect_same(square(sl(xg, gpu()), gpu()), square(sl(x, cpu()), cpu()), -1, -1, label("square sliced", t));
    expect_same(sqrt(transpose(yg, {1, 0}, gpu()), gpu()), sqrt(transpose(y, {1, 0}, cpu()), cpu()), -1, -1,
                label("sqrt transposed", t));
    // A 0-d scalar, a row and a column against the matrix.
    array sc = random_of({}, t, 13, 0.5, 4), row = random_of({53}, t, 14, 0.5, 4);
    array col = random_of({37, 1}, t, 15, 0.5, 4);
    expect_same(subtract(sc, xg, gpu()), subtract(sc, x, cpu()), -1, -1, label("subtract scalar", t));
    expect_same(subtract(xg, sc, gpu()), subtract(x, sc, cpu()), -1, -1, label("subtract scalar", t));
    expect_same(divide(row, xg, gpu()), divide(row, x, cpu()), -1, -1, label("divide row", t));
    expect_same(divide(xg, col, gpu()), divide(x, col, cpu()), -1, -1, label("divide column", t));
    expect_same(not_equal(transpose(yg, {1, 0}, gpu()), row, gpu()), not_equal(transpose(y, {1, 0}, cpu()), row, cpu()),
                -1, -1, label("not_equal transposed/row", t));
    // Unary ops on a broadcast view and a 0-d scalar.
    expect_same(negative(broadcast_to(row, {37, 53}, gpu()), gpu()),
                negative(broadcast_to(row, {37, 53}, cpu()), cpu()), -1, -1, label("negative broadcast", t));
    expect_same(exp(sc, gpu()), exp(sc, cpu()), -1, -1, label("exp 0-d", t));
  }
  // Four permuted dimensions that do not merge.
  array z = random_array({3, 4, 5, 6}, float32, 20), w = random_array({4, 6, 5, 3}, float32, 21);
  array zg = on_device(z), wg = on_device(w);
  expect_same(logaddexp(transpose(zg, {2, 0, 3, 1}, gpu()), transpose(wg, {2, 3, 1, 0}, gpu()), gpu()),
              logaddexp(transpose(z, {2, 0, 3, 1}, cpu()), transpose(w, {2, 3, 1, 0}, cpu()), cpu()));
}

TEST(CudaElementwise, SizesAndEmpty) {
  NoFallback strict;
  for (int n : {1, 37, 255, 256, 257, 1000003}) {
    array x = random_array({n}, float32, uint32_t(n), 0.1, 4), y = random_array({n}, float32, uint32_t(n) + 1);
    expect_same(exp(x, gpu()), exp(x, cpu()), -1, -1, "exp n=" + std::to_string(n));
    expect_same(add(x, y, gpu()), add(x, y, cpu()), -1, -1, "add n=" + std::to_string(n));
    array xi = random_array({n}, int8, uint32_t(n) + 2), yi = random_array({n}, int8, uint32_t(n) + 3);
    expect_same(multiply(xi, yi, gpu()), multiply(xi, yi, cpu()), -1, -1, "multiply int8 n=" + std::to_string(n));
    array c = random_array({n}, bool_, uint32_t(n) + 4);
    expect_same(where(c, x, y, gpu()), where(c, x, y, cpu()), 0, 0, "where n=" + std::to_string(n));
  }
  array big = on_device(random_array({1000003}, float16, 9));
  array r = sigmoid(big, gpu());
  eval(r);
  EXPECT_TRUE(on_gpu(r));
  // No elements: nothing is launched, the shapes are kept.
  array e = zeros({0, 5}, float32, cpu()), f = zeros({0, 5}, float32, cpu());
  array c0 = zeros({0, 5}, bool_, cpu());
  for (const array& out : {exp(e, gpu()), add(e, f, gpu()), less(e, f, gpu()), where(c0, e, f, gpu()),
                           transpose(negative(transpose(e, {1, 0}, gpu()), gpu()), {1, 0}, gpu())}) {
    eval(out);
    EXPECT_EQ(out.size(), 0u);
  }
}

// complex64 functions without a CUDA kernel (inverse trigonometric and
// hyperbolic) run the CPU kernel: the one test without NoFallback, which
// checks that the fallback gives the CPU's values.
TEST(CudaElementwise, ComplexFallbacks) {
  array z = random_complex({4, 9}, 77, -0.9, 0.9);
  for (const auto& [name, f] : std::vector<std::pair<std::string, Unary>>{
           {"arcsin", [](const array& x, StreamOrDevice s) { return arcsin(x, s); }},
           {"arccos", [](const array& x, StreamOrDevice s) { return arccos(x, s); }},
           {"arctan", [](const array& x, StreamOrDevice s) { return arctan(x, s); }},
           {"arcsinh", [](const array& x, StreamOrDevice s) { return arcsinh(x, s); }},
           {"arccosh", [](const array& x, StreamOrDevice s) { return arccosh(x, s); }},
           {"arctanh", [](const array& x, StreamOrDevice s) { return arctanh(x, s); }}}) {
    expect_same(f(z, gpu()), f(z, cpu()), -1, -1, name + " complex64");
  }
}

}  // namespace
}  // namespace uma::test

namespace uma::test {
namespace {

TEST(CudaCompiled, FusedChainsRunTheirStepsOnTheGpu) {
  NoFallback strict;
  auto f = [](const std::vector<array>& xs) {
    array y = add(multiply(xs[0], xs[1]), exp(negative(xs[0])));
    return std::vector<array>{sigmoid(y), astype(y, float16)};
  };
  auto cf = compile(f);
  array a = random_array({33, 65}, float32, 91), b = random_array({65}, float32, 92);
  OnDevice guard(gpu());
  auto got = cf({a, broadcast_to(b, {33, 65})});
  eval(got);
  EXPECT_TRUE(on_gpu(got[0]));
  OnDevice back(cpu());
  auto want = f({a, broadcast_to(b, {33, 65})});
  expect_same(got[0], want[0]);
  expect_same(got[1], want[1]);
}

}  // namespace
}  // namespace uma::test
