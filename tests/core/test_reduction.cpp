// Reductions over axes (sum, prod, max, min, all, any) against float64 loops:
// every dtype, axes combinations, keepdims, layouts, empty arrays, NaN/inf,
// large arrays through the parallel paths, float32 accuracy, errors.
#include <gtest/gtest.h>

#include <limits>

#include "core/reduction_ref.h"
#include "core/util.h"

using namespace uma;
using namespace uma::test;

namespace {

const std::vector<Dtype> kReal = {bool_, uint8,   uint16,   uint32,  uint64,  int8,   int16,
                                  int32, int64,   float16,  bfloat16, float32, float64};

// Runs op on `a` (with values x of `shape`) over axes and checks shape, dtype
// and values against the reference rounded to the output dtype.
void check(const char* what, const array& a, const std::vector<double>& x, const Shape& shape,
           const std::vector<int>& axes, bool keepdims, Dtype out_dtype, const array& got,
           const std::function<double(double, double)>& op, double init) {
  SCOPED_TRACE(std::string(what) + " dtype=" + dtype_name(a.dtype()) + " axes=" + ::testing::PrintToString(axes) +
               " keepdims=" + std::to_string(keepdims));
  EXPECT_EQ(got.dtype(), out_dtype);
  Shape expect_shape;
  int nd = int(shape.size());
  for (int d = 0; d < nd; ++d) {
    bool red = false;
    for (int ax : axes) red |= (ax < 0 ? ax + nd : ax) == d;
    if (!red) expect_shape.push_back(shape[d]);
    else if (keepdims) expect_shape.push_back(1);
  }
  EXPECT_EQ(got.shape(), expect_shape);
  auto expected = round_to(ref_reduce(x, shape, axes, op, init), out_dtype);
  double rtol = is_floating_point(out_dtype) ? rtol_for(out_dtype) : 0;
  expect_close(got, expected, rtol, is_floating_point(out_dtype) ? 1e-6 : 0);
}

Dtype sum_dtype(Dtype t) {
  if (t == bool_) return int32;
  if (kind_of(t) == DtypeKind::signed_int) return size_of(t) <= 4 ? int32 : int64;
  if (kind_of(t) == DtypeKind::unsigned_int) return size_of(t) <= 4 ? uint32 : uint64;
  return t;
}

}  // namespace

TEST(Reduce, EveryDtypeAndAxes) {
  Shape shape{3, 4, 5};
  std::vector<std::vector<int>> axes_list = {{0}, {1}, {2}, {-1}, {0, 2}, {1, 2}, {-3, -2}, {0, 1, 2}, {2, 0}};
  for (Dtype dt : kReal) {
    bool is_int = !is_floating_point(dt);
    double lo = dt == bool_ ? 0 : (is_unsigned(dt) ? 0 : -3), hi = dt == bool_ ? 2 : 4;
    auto raw = random_values(60, lo, hi, 1 + int(dt), is_int);
    array a = make(raw, shape, dt);
    auto x = a.to_vector<double>();
    for (auto& axes : axes_list) {
      for (bool kd : {false, true}) {
        auto plus = [](double p, double q) { return p + q; };
        check("sum", a, x, shape, axes, kd, sum_dtype(dt), sum(a, axes, kd), plus, 0);
        check("max", a, x, shape, axes, kd, dt, max(a, axes, kd), nan_max, -INFINITY);
        check("min", a, x, shape, axes, kd, dt, min(a, axes, kd), nan_min, INFINITY);
        check("all", a, x, shape, axes, kd, bool_, all(a, axes, kd),
              [](double p, double q) { return double(p != 0 && q != 0); }, 1);
        check("any", a, x, shape, axes, kd, bool_, any(a, axes, kd),
              [](double p, double q) { return double(p != 0 || q != 0); }, 0);
      }
    }
    // prod over fewer elements keeps integer products in range.
    auto small = make(random_values(24, is_unsigned(dt) || dt == bool_ ? 0 : -2, 3, 7, true), {2, 3, 4}, dt);
    auto xs = small.to_vector<double>();
    for (auto& axes : std::vector<std::vector<int>>{{0}, {2}, {0, 1}, {0, 1, 2}}) {
      check("prod", small, xs, {2, 3, 4}, axes, false, sum_dtype(dt), prod(small, axes),
            [](double p, double q) { return p * q; }, 1);
    }
  }
}

TEST(Reduce, FullAndSingleAxisOverloads) {
  array a = reshape(arange(1, 13), {3, 4});
  EXPECT_EQ(sum(a).item<int>(), 78);
  EXPECT_EQ(sum(a).shape(), Shape{});
  EXPECT_EQ(sum(a, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(sum(a, 1).to_vector<int>(), (std::vector<int>{10, 26, 42}));
  EXPECT_EQ(sum(a, -2, true).shape(), (Shape{1, 4}));
  EXPECT_EQ(prod(a, 0).to_vector<int>(), (std::vector<int>{45, 120, 231, 384}));
  EXPECT_EQ(max(a).item<int>(), 12);
  EXPECT_EQ(min(a, 1).to_vector<int>(), (std::vector<int>{1, 5, 9}));
  // An empty axes list reduces nothing (but still sets the dtype).
  auto e = sum(astype(a, int8), std::vector<int>{});
  EXPECT_EQ(e.shape(), a.shape());
  EXPECT_EQ(e.dtype(), int32);
  EXPECT_EQ(any(a, std::vector<int>{}).dtype(), bool_);
  // Scalars.
  array s(2.5f);
  EXPECT_FLOAT_EQ(sum(s).item<float>(), 2.5f);
  EXPECT_EQ(sum(s).ndim(), 0u);
  EXPECT_FLOAT_EQ(max(s, true).item<float>(), 2.5f);
  EXPECT_THROW(sum(s, 0), std::invalid_argument);
}

TEST(Reduce, IntegerAccumulationWraps) {
  // int8 sums accumulate in int32 (no int8 overflow); uint32 wraps like MLX.
  array a = full({1000}, 100, int8);
  EXPECT_EQ(sum(a).item<int>(), 100000);
  array b = full({3}, 0x80000000u, uint32);
  EXPECT_EQ(sum(b).item<uint32_t>(), 0x80000000u);
  array c = full({4}, int64_t(1) << 40, int64);
  EXPECT_EQ(sum(c).item<int64_t>(), int64_t(1) << 42);
}

TEST(Reduce, NonContiguousInputs) {
  auto x = random_values(4 * 5 * 6, -1, 1, 11);
  array base = make(x, {4, 5, 6}, float32);
  // Transposed, negative-step slice, broadcast and overlapping windows: the
  // reference sees the same elements through to_vector (the copy kernels).
  std::vector<array> views = {
      transpose(base, {2, 0, 1}),
      slice(base, {3, 4, 5}, {-5, -6, -7}, {-1, -2, -3}),
      slice(base, {0, 1, 0}, {4, 5, 6}, {2, 1, 2}),
      broadcast_to(slice(base, {0, 0, 0}, {1, 5, 6}), {7, 5, 6}),
      as_strided(reshape(base, {120}), {10, 3, 8}, {7, 1, 2}, 3),
  };
  // A large all-stride-0 input: every path sees stride 0.
  array bc = broadcast_to(array(0.5f), {1 << 20});
  EXPECT_EQ(sum(bc).item<float>(), float(1 << 19));
  EXPECT_EQ(sum(broadcast_to(array({1.f, 2.f}, {2, 1}), {2, 1 << 18}), 1).to_vector<float>(),
            (std::vector<float>{float(1 << 18), float(1 << 19)}));
  for (auto& v : views) {
    auto vx = v.to_vector<double>();
    Shape sh = v.shape();
    for (auto axes : std::vector<std::vector<int>>{{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}) {
      check("sum", v, vx, sh, axes, false, float32, sum(v, axes), [](double p, double q) { return p + q; }, 0);
      check("max", v, vx, sh, axes, true, float32, max(v, axes, true), nan_max, -INFINITY);
    }
  }
}

TEST(Reduce, LargeShapesThroughParallelPaths) {
  // Row reductions with many and with few outputs, column reductions with
  // wide and narrow rows, and a mixed 3-d case.
  std::vector<Shape> shapes = {{1000, 300}, {3, 200000}, {200000, 3}, {300, 1000}, {64, 50, 40}};
  uint32_t seed = 3;
  for (const Shape& sh : shapes) {
    size_t n = 1;
    for (auto d : sh) n *= size_t(d);
    auto x = random_values(n, 0, 1, seed++);  // no cancellation: rtol applies
    for (Dtype dt : {float32, int32, bfloat16}) {
      array a = make(dt == int32 ? random_values(n, -50, 50, seed, true) : x, sh, dt);
      auto ax = a.to_vector<double>();
      std::vector<std::vector<int>> axes_list = {{0}, {int(sh.size()) - 1}};
      if (sh.size() == 3) axes_list.push_back({0, 2});
      for (auto& axes : axes_list) {
        check("sum", a, ax, sh, axes, false, sum_dtype(dt), sum(a, axes), [](double p, double q) { return p + q; },
              0);
        check("min", a, ax, sh, axes, false, dt, min(a, axes), nan_min, INFINITY);
      }
    }
  }
}

TEST(Reduce, EmptyArrays) {
  array z = zeros({0, 3});
  EXPECT_EQ(sum(z, 0).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(prod(z, 0).to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(sum(z).item<float>(), 0.f);
  EXPECT_EQ(prod(z).item<float>(), 1.f);
  EXPECT_EQ(sum(z, 1).shape(), (Shape{0}));
  EXPECT_TRUE(all(z).item<bool>());
  EXPECT_FALSE(any(z).item<bool>());
  EXPECT_EQ(all(z, 0).to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(sum(astype(z, int8)).dtype(), int32);
  // max/min have no identity: reducing zero elements into a value is an error.
  EXPECT_THROW(max(z), std::invalid_argument);
  EXPECT_THROW(min(z, 0), std::invalid_argument);
  EXPECT_EQ(max(z, 1).shape(), (Shape{0}));
  EXPECT_THROW(max(zeros({0})), std::invalid_argument);
}

TEST(Reduce, NanAndInf) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  array a({1.f, nan, 3.f, -inf, 2.f, 5.f}, {2, 3});
  auto mx = max(a, 1).to_vector<float>();
  EXPECT_TRUE(std::isnan(mx[0]));
  EXPECT_EQ(mx[1], 5.f);
  auto mn = min(a, 1).to_vector<float>();
  EXPECT_TRUE(std::isnan(mn[0]));
  EXPECT_EQ(mn[1], -inf);
  EXPECT_TRUE(std::isnan(max(a).item<float>()));
  EXPECT_TRUE(std::isnan(sum(array({inf, -inf})).item<float>()));
  EXPECT_EQ(sum(array({inf, 1.f})).item<float>(), inf);
  EXPECT_TRUE(all(array({nan, 1.f})).item<bool>());  // NaN != 0
  // NaN anywhere in a long vectorized row (and in half types).
  std::vector<float> v(1000, 1.f);
  v[777] = nan;
  EXPECT_TRUE(std::isnan(max(array(v, {1000})).item<float>()));
  EXPECT_TRUE(std::isnan(min(astype(array(v, {1000}), bfloat16)).item<float>()));
  EXPECT_TRUE(std::isnan(max(reshape(array(v, {1000}), {10, 100}), 0).to_vector<float>()[77]));
  EXPECT_EQ(max(array({-inf, -inf})).item<float>(), -inf);
}

TEST(Reduce, Float32SumAccuracy) {
  // 2^24 + 1001 elements: a naive float32 loop stalls at 2^24; ours stays
  // within float32 rounding of the float64 sum. Same through the column path.
  size_t n = (size_t(1) << 24) + 1001;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  double exact = 0;
  for (float x : v) exact += x;
  array a(v, {int32_t(n)});
  EXPECT_NEAR(sum(a).item<float>(), exact, 2e-7 * exact);
  array ones_ = ones({1 << 25});
  EXPECT_EQ(sum(ones_).item<float>(), float(1 << 25));
  // Column reduction: (2^22, 4) over axis 0.
  array c = reshape(slice(a, {0}, {1 << 24}), {1 << 22, 4});
  std::vector<double> col(4, 0);
  for (size_t i = 0; i < (size_t(1) << 24); ++i) col[i % 4] += v[i];
  auto got = sum(c, 0).to_vector<float>();
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(got[j], col[j], 2e-7 * col[j]);
}

TEST(Reduce, Errors) {
  array a = zeros({2, 3});
  EXPECT_THROW(sum(a, 2), std::invalid_argument);
  EXPECT_THROW(sum(a, -3), std::invalid_argument);
  EXPECT_THROW(max(a, std::vector<int>{0, -2}), std::invalid_argument);  // repeated axis
  try {
    prod(a, std::vector<int>{1, 5});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[prod]"), std::string::npos) << e.what();
  }
  array c = astype(a, complex64);
  EXPECT_THROW(max(c), std::invalid_argument);
  EXPECT_EQ(sum(c).dtype(), complex64);
}
