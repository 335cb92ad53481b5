// argmax/argmin, mean, var, std, logsumexp and softmax against float64 loops.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "core/reduction_ref.h"
#include "core/util.h"

using namespace uma;
using namespace uma::test;

namespace {
const float kNan = std::numeric_limits<float>::quiet_NaN();

// Reference arg-reduction along `axis` of row-major x (first extreme, NaN wins).
std::vector<double> ref_arg(const std::vector<double>& x, const Shape& shape, int axis, bool is_max) {
  int64_t outer = 1, inner = 1, n = shape[axis];
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (int d = axis + 1; d < int(shape.size()); ++d) inner *= shape[d];
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t k = 0; k < n; ++k) {
        double v = x[(o * n + k) * inner + i], b = x[(o * n + best) * inner + i];
        if (std::isnan(b)) break;
        if (std::isnan(v) || (is_max ? v > b : v < b)) best = k;
      }
      out.push_back(double(best));
    }
  }
  return out;
}
}  // namespace

TEST(ArgReduce, DtypesAxesAndTies) {
  Shape shape{4, 5, 6};
  for (Dtype dt : {bool_, uint8, int16, int32, int64, uint64, float16, bfloat16, float32, float64}) {
    // Few distinct values: plenty of ties, first occurrence must win.
    auto x = make(random_values(120, dt == bool_ || is_unsigned(dt) ? 0 : -2, 3, 9, true), shape, dt);
    auto xv = x.to_vector<double>();
    for (int axis : {0, 1, 2}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " axis " + std::to_string(axis));
      auto am = argmax(x, axis);
      EXPECT_EQ(am.dtype(), uint32);
      Shape out = shape;
      out.erase(out.begin() + axis);
      EXPECT_EQ(am.shape(), out);
      expect_close(am, ref_arg(xv, shape, axis, true), 0, 0);
      expect_close(argmin(x, axis - 3, true), ref_arg(xv, shape, axis, false), 0, 0);
      EXPECT_EQ(argmin(x, axis, true).shape()[axis], 1);
    }
  }
  array a({3.f, 9.f, 9.f, 1.f});
  EXPECT_EQ(argmax(a).item<uint32_t>(), 1u);
  EXPECT_EQ(argmin(a).item<uint32_t>(), 3u);
  EXPECT_EQ(argmax(reshape(a, {2, 2}), true).shape(), (Shape{1, 1}));
  // Transposed input and a large parallel case.
  auto t = transpose(make(random_values(300 * 200, -1, 1, 4), {300, 200}, float32));
  auto tv = t.to_vector<double>();
  expect_close(argmax(t, 1), ref_arg(tv, {200, 300}, 1, true), 0, 0);
  expect_close(argmin(t, 0), ref_arg(tv, {200, 300}, 0, false), 0, 0);
}

TEST(ArgReduce, NanAndErrors) {
  array a({1.f, kNan, 5.f, kNan});
  EXPECT_EQ(argmax(a).item<uint32_t>(), 1u);  // NumPy: the first NaN
  EXPECT_EQ(argmin(a).item<uint32_t>(), 1u);
  EXPECT_EQ(argmax(array({kNan, 2.f})).item<uint32_t>(), 0u);
  EXPECT_THROW(argmax(zeros({0})), std::invalid_argument);
  EXPECT_THROW(argmax(zeros({3, 0}), 1), std::invalid_argument);
  EXPECT_EQ(argmax(zeros({0, 3}), 1).shape(), (Shape{0}));
  EXPECT_THROW(argmin(zeros({2, 3}), 2), std::invalid_argument);
  EXPECT_THROW(argmax(astype(zeros({2}), complex64)), std::invalid_argument);
}

TEST(Statistics, MeanVarStd) {
  Shape shape{6, 7, 8};
  auto raw = random_values(336, -2, 3, 21);
  for (Dtype dt : {int8, int32, uint16, float16, bfloat16, float32, float64}) {
    array a = make(is_floating_point(dt) ? raw : random_values(336, 0, 50, 22, true), shape, dt);
    auto x = a.to_vector<double>();
    Dtype out = is_floating_point(dt) ? dt : float32;
    for (auto axes : std::vector<std::vector<int>>{{0}, {2}, {-1, 0}, {0, 1, 2}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " axes " + ::testing::PrintToString(axes));
      auto s = ref_reduce(x, shape, axes, [](double p, double q) { return p + q; }, 0);
      double n = double(x.size()) / double(s.size());
      std::vector<double> mu(s.size());
      for (size_t i = 0; i < s.size(); ++i) mu[i] = s[i] / n;
      auto m = mean(a, axes);
      EXPECT_EQ(m.dtype(), out);
      double rtol = std::max(rtol_for(out), 1e-6);
      expect_close(m, round_to(mu, out), rtol, 1e-6);
      // var = E[(x - mu)^2] computed here as E[x^2] - mu^2 in float64 (fine at
      // these magnitudes), ddof 0 and 1.
      auto s2 = ref_reduce(x, shape, axes, [](double p, double q) { return p + q * q; }, 0);
      std::vector<double> v0(s.size()), v1(s.size()), sd(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        double ss = s2[i] - n * mu[i] * mu[i];
        v0[i] = ss / n;
        v1[i] = ss / (n - 1);
        sd[i] = std::sqrt(v1[i]);
      }
      auto vv = var(a, axes);
      EXPECT_EQ(vv.dtype(), out);
      expect_close(vv, round_to(v0, out), rtol * 4, 1e-5);
      expect_close(var(a, axes, false, 1), round_to(v1, out), rtol * 4, 1e-5);
      expect_close(uma::std(a, axes, true, 1), round_to(sd, out), rtol * 4, 1e-5);
    }
  }
  // Full-array overloads, ddof >= n and the empty mean.
  array b({1.f, 2.f, 3.f, 4.f});
  EXPECT_FLOAT_EQ(mean(b).item<float>(), 2.5f);
  EXPECT_FLOAT_EQ(var(b).item<float>(), 1.25f);
  EXPECT_FLOAT_EQ(uma::std(b, false, 1).item<float>(), std::sqrt(5.f / 3.f));
  EXPECT_TRUE(std::isinf(var(b, false, 4).item<float>()));
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item<float>()));
  EXPECT_EQ(mean(b, std::vector<int>{}).shape(), (Shape{4}));
  // Large float16 sums would overflow float16; the mean does not.
  EXPECT_FLOAT_EQ(mean(full({100000}, 1000.0, float16)).item<float>(), 1000.f);
  // Catastrophic cancellation is avoided by the two-pass variance.
  array big = astype(array({1e8, 1e8 + 1, 1e8 + 2}), float64);
  EXPECT_DOUBLE_EQ(var(big).item<double>(), 2.0 / 3.0);
}

TEST(Statistics, LogSumExp) {
  Shape shape{5, 6, 7};
  auto x = random_values(210, -30, 30, 5);
  for (Dtype dt : {float32, float16, bfloat16, float64}) {
    array a = make(x, shape, dt);
    auto xv = a.to_vector<double>();
    for (auto axes : std::vector<std::vector<int>>{{2}, {0}, {0, 2}, {0, 1, 2}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " axes " + ::testing::PrintToString(axes));
      auto m = ref_reduce(xv, shape, axes, nan_max, -INFINITY);
      auto s = ref_reduce(xv, shape, axes, [](double p, double q) { return p + std::exp(q - 30); }, 0);
      std::vector<double> e(m.size());
      for (size_t i = 0; i < e.size(); ++i) e[i] = 30 + std::log(s[i]);
      auto r = logsumexp(a, axes, true);
      EXPECT_EQ(r.dtype(), dt);
      expect_close(r, round_to(e, dt), std::max(rtol_for(dt), 2e-6), 1e-5);
    }
  }
  // Long rows through the vector path; ints compute in float32.
  auto lx = random_values(100003, -5, 5, 6);
  double m = 0;
  for (double v : lx) m += std::exp(v);
  EXPECT_NEAR(logsumexp(make(lx, {100003}, float32)).item<float>(), std::log(m), 2e-6 * std::log(m));
  EXPECT_EQ(logsumexp(array({1, 2, 3})).dtype(), float32);
  // Infinities and NaN.
  const float inf = INFINITY;
  auto r = logsumexp(array({-inf, -inf, -inf, 1.f, inf, -inf, 0.f, kNan, 1.f}, {3, 3}), 1).to_vector<float>();
  EXPECT_EQ(r[0], -inf);
  EXPECT_EQ(r[1], inf);
  EXPECT_TRUE(std::isnan(r[2]));
  EXPECT_EQ(logsumexp(zeros({2, 0}), 1).to_vector<float>(), (std::vector<float>{-inf, -inf}));
  EXPECT_NEAR(logsumexp(array({1000.f, 1000.f})).item<float>(), 1000.f + std::log(2.f), 1e-3);
  EXPECT_THROW(logsumexp(zeros({2}), 1), std::invalid_argument);
}

TEST(Statistics, Softmax) {
  Shape shape{4, 5, 33};
  auto x = random_values(660, -20, 20, 8);
  for (Dtype dt : {float32, float16, bfloat16, float64}) {
    array a = make(x, shape, dt);
    auto xv = a.to_vector<double>();
    for (auto axes : std::vector<std::vector<int>>{{2}, {-1}, {0}, {1, 2}, {0, 1, 2}}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " axes " + ::testing::PrintToString(axes));
      auto m = ref_reduce(xv, shape, axes, nan_max, -INFINITY);
      auto s = ref_reduce(xv, shape, axes, [](double p, double q) { return p + std::exp(q - 20); }, 0);
      // Expected: exp(x - 20) / s for the group of x.
      std::vector<double> e(xv.size());
      int nd = 3;
      std::vector<bool> red(nd, false);
      for (int ax : axes) red[ax < 0 ? ax + nd : ax] = true;
      for (size_t i = 0; i < xv.size(); ++i) {
        size_t r = i, o = 0;
        int idx[3];
        for (int d = 2; d >= 0; --d) {
          idx[d] = int(r % shape[d]);
          r /= shape[d];
        }
        for (int d = 0; d < nd; ++d)
          if (!red[d]) o = o * shape[d] + idx[d];
        e[i] = std::exp(xv[i] - 20) / s[o];
      }
      auto y = softmax(a, axes);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_EQ(y.shape(), shape);
      expect_close(y, e, std::max(rtol_for(dt), 4e-6), 1e-7);
    }
  }
  // Extreme values, NaN, ints, empty, non-contiguous.
  auto y = softmax(array({1000.f, 0.f, -1000.f}), -1).to_vector<float>();
  EXPECT_FLOAT_EQ(y[0], 1.f);
  EXPECT_EQ(y[2], 0.f);
  auto yn = softmax(array({1.f, kNan, 2.f, 1.f, 1.f, 1.f}, {2, 3}), -1).to_vector<float>();
  EXPECT_TRUE(std::isnan(yn[0]) && std::isnan(yn[2]));
  EXPECT_FLOAT_EQ(yn[3], 1.f / 3.f);
  EXPECT_EQ(softmax(array({1, 2})).dtype(), float32);
  EXPECT_EQ(softmax(zeros({0, 3}), -1).shape(), (Shape{0, 3}));
  auto t = transpose(make(random_values(64 * 48, -3, 3, 2), {64, 48}, float32));
  auto st = sum(softmax(t, 0), 0).to_vector<float>();
  for (float v : st) EXPECT_NEAR(v, 1.f, 1e-5);
  auto big = softmax(make(random_values(4 * 5000, -8, 8, 3), {4, 5000}, float32), 1, true);
  for (float v : sum(big, 1).to_vector<float>()) EXPECT_NEAR(v, 1.f, 1e-5);
  EXPECT_THROW(softmax(zeros({2, 3}), 2), std::invalid_argument);
  // Scalars and an empty axes list: each element normalized alone.
  EXPECT_EQ(softmax(array(2.f)).item<float>(), 1.f);
  EXPECT_EQ(softmax(array({3.f, -1.f}), std::vector<int>{}).to_vector<float>(), (std::vector<float>{1.f, 1.f}));
  EXPECT_EQ(logsumexp(array(2.f)).item<float>(), 2.f);
  EXPECT_EQ(logsumexp(array({3.f, -1.f}), std::vector<int>{}).to_vector<float>(), (std::vector<float>{3.f, -1.f}));
}
