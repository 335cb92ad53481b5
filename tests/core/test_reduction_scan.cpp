// Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) against float64 loops:
// dtypes, axes, reverse/exclusive, layouts, NaN, flattened form, errors.
#include <gtest/gtest.h>

#include <limits>

#include "core/reduction_ref.h"
#include "core/util.h"

using namespace uma;
using namespace uma::test;

namespace {

enum class Op { sum, prod, max, min, lse };

// `lo`/`hi`: the first value of exclusive cummax/cummin (the dtype's limits).
std::vector<double> ref_scan(const std::vector<double>& x, const Shape& shape, int axis, Op op, bool reverse,
                             bool inclusive, double lo = -INFINITY, double hi = INFINITY) {
  int64_t outer = 1, inner = 1, n = shape[axis];
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (int d = axis + 1; d < int(shape.size()); ++d) inner *= shape[d];
  double init = op == Op::sum ? 0 : op == Op::prod ? 1 : op == Op::lse ? -INFINITY : op == Op::max ? lo : hi;
  auto f = [&](double a, double b) {
    switch (op) {
      case Op::sum: return a + b;
      case Op::prod: return a * b;
      case Op::max: return nan_max(a, b);
      case Op::min: return nan_min(a, b);
      case Op::lse: {
        double m = std::max(a, b);
        return m == -INFINITY ? m : m + std::log(std::exp(a - m) + std::exp(b - m));
      }
    }
    return 0.0;
  };
  std::vector<double> out(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double acc = init;
      for (int64_t k = 0; k < n; ++k) {
        int64_t kk = reverse ? n - 1 - k : k;
        size_t at = size_t((o * n + kk) * inner + i);
        if (inclusive) {
          acc = f(acc, x[at]);
          out[at] = acc;
        } else {
          out[at] = acc;
          acc = f(acc, x[at]);
        }
      }
    }
  }
  return out;
}

array run(Op op, const array& a, std::optional<int> axis, bool reverse, bool inclusive) {
  switch (op) {
    case Op::sum: return cumsum(a, axis, reverse, inclusive);
    case Op::prod: return cumprod(a, axis, reverse, inclusive);
    case Op::max: return cummax(a, axis, reverse, inclusive);
    case Op::min: return cummin(a, axis, reverse, inclusive);
    case Op::lse: return logcumsumexp(a, axis, reverse, inclusive);
  }
  return a;
}

}  // namespace

TEST(Scan, DtypesAxesDirections) {
  Shape shape{3, 4, 5};
  for (Dtype dt : {bool_, uint8, int16, int32, uint32, int64, float16, bfloat16, float32, float64}) {
    bool lowp = dt == float16 || dt == bfloat16;
    auto x = make(random_values(60, dt == bool_ || is_unsigned(dt) ? 0 : -2, 3, 31, !is_floating_point(dt)), shape,
                  dt);
    auto xv = x.to_vector<double>();
    double lo = -INFINITY, hi = INFINITY;
    dispatch_all(dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<T>) {
        lo = double(std::numeric_limits<T>::lowest());
        hi = double(std::numeric_limits<T>::max());
      }
    });
    for (Op op : {Op::sum, Op::prod, Op::max, Op::min, Op::lse}) {
      if (op == Op::lse && !is_floating_point(dt)) continue;
      for (int axis : {0, 1, 2, -1}) {
        for (bool reverse : {false, true}) {
          for (bool inclusive : {true, false}) {
            SCOPED_TRACE(std::string(dtype_name(dt)) + " op " + std::to_string(int(op)) + " axis " +
                         std::to_string(axis) + " rev " + std::to_string(reverse) + " incl " +
                         std::to_string(inclusive));
            array y = run(op, x, axis, reverse, inclusive);
            Dtype expect = (dt == bool_ && (op == Op::sum || op == Op::prod)) ? int32 : dt;
            EXPECT_EQ(y.dtype(), expect);
            EXPECT_EQ(y.shape(), shape);
            auto e = ref_scan(xv, shape, axis < 0 ? axis + 3 : axis, op, reverse, inclusive, lo, hi);
            if (is_floating_point(expect)) e = round_to(e, expect);  // ints are exact (int64 limits too)
            expect_close(y, e, lowp ? 1.6e-2 : 2e-6, lowp ? 1e-2 : 1e-6);
          }
        }
      }
    }
  }
}

TEST(Scan, LayoutsFlattenedAndLarge) {
  auto xv = random_values(6 * 7, -1, 1, 3);
  array base = make(xv, {6, 7}, float32);
  array t = transpose(base);
  auto tv = t.to_vector<double>();
  expect_close(cumsum(t, 1), ref_scan(tv, {7, 6}, 1, Op::sum, false, true), 1e-6, 1e-6);
  expect_close(cummax(t, 0, true), ref_scan(tv, {7, 6}, 0, Op::max, true, true), 0, 0);
  array b = broadcast_to(array({1.f, 2.f, 3.f}), {4, 3});
  EXPECT_EQ(cumsum(b, 0).to_vector<float>(), (std::vector<float>{1, 2, 3, 2, 4, 6, 3, 6, 9, 4, 8, 12}));
  // No axis: over the flattened array.
  auto f = cumsum(reshape(arange(6), {2, 3}));
  EXPECT_EQ(f.shape(), (Shape{6}));
  EXPECT_EQ(f.to_vector<int>(), (std::vector<int>{0, 1, 3, 6, 10, 15}));
  EXPECT_EQ(cumprod(array(3.f)).shape(), (Shape{1}));
  // A long axis and a wide one (parallel chunks).
  auto lv = random_values(3 * 100000, 0, 1, 4);
  array l = make(lv, {3, 100000}, float32);
  expect_close(cumsum(l, 1), ref_scan(l.to_vector<double>(), {3, 100000}, 1, Op::sum, false, true), 2e-6, 1e-4);
  array w = make(lv, {300, 1000}, float32);
  expect_close(cummin(w, 0, false, false), ref_scan(w.to_vector<double>(), {300, 1000}, 0, Op::min, false, false),
               0, 0);
  // Int8 cumsum keeps int8 (wraps, as MLX).
  EXPECT_EQ(cumsum(full({3}, 100, int8)).to_vector<int>(), (std::vector<int>{100, -56, 44}));
}

TEST(Scan, NanInfAndErrors) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  auto m = cummax(array({1.f, nan, 3.f})).to_vector<float>();
  EXPECT_EQ(m[0], 1.f);
  EXPECT_TRUE(std::isnan(m[1]) && std::isnan(m[2]));
  auto l = logcumsumexp(array({-inf, -inf, 0.f, inf, 1.f})).to_vector<float>();
  EXPECT_EQ(l[0], -inf);
  EXPECT_EQ(l[1], -inf);
  EXPECT_FLOAT_EQ(l[2], 0.f);
  EXPECT_EQ(l[3], inf);
  EXPECT_EQ(l[4], inf);
  EXPECT_EQ(logcumsumexp(array({1, 2})).dtype(), float32);
  EXPECT_EQ(cumsum(zeros({0, 3}), 0).shape(), (Shape{0, 3}));
  EXPECT_THROW(cumsum(zeros({2, 3}), 2), std::invalid_argument);
  EXPECT_THROW(cummax(astype(zeros({2}), complex64)), std::invalid_argument);
  EXPECT_EQ(cumsum(astype(array({1.f, 2.f}), complex64)).dtype(), complex64);
}
