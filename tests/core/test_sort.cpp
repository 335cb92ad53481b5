// sort, argsort, partition, argpartition and topk: against std::sort in the
// test, stability with ties, partition properties, NaN placement, layouts,
// errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/reduction_ref.h"
#include "core/util.h"

using namespace uma;
using namespace uma::test;

namespace {

const float kNan = std::numeric_limits<float>::quiet_NaN();

bool nan_last_less(double a, double b) { return a < b || (std::isnan(b) && !std::isnan(a)); }

// Lines of row-major x along axis: (outer*inner) vectors of length n.
struct LineView {
  int64_t outer = 1, n = 1, inner = 1;
  LineView(const Shape& shape, int axis) : n(shape[axis]) {
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (int d = axis + 1; d < int(shape.size()); ++d) inner *= shape[d];
  }
  size_t at(int64_t line, int64_t k) const { return size_t(((line / inner) * n + k) * inner + line % inner); }
  int64_t lines() const { return outer * inner; }
};

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST(Sort, ValuesAndStableIndicesEveryDtype) {
  Shape shape{5, 6, 40};
  for (Dtype dt : {bool_, uint8, int8, int16, uint32, int32, int64, uint64, float16, bfloat16, float32, float64}) {
    // Few distinct values: many ties for stability.
    auto x = make(random_values(1200, dt == bool_ || is_unsigned(dt) ? 0 : -4, 5, 13, !is_floating_point(dt)),
                  shape, dt);
    auto xv = x.to_vector<double>();
    for (int axis : {0, 1, 2, -1}) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " axis " + std::to_string(axis));
      int ax = axis < 0 ? axis + 3 : axis;
      LineView L(shape, ax);
      auto s = sort(x, axis);
      EXPECT_EQ(s.dtype(), dt);
      auto i = argsort(x, axis);
      EXPECT_EQ(i.dtype(), uint32);
      auto sv = s.to_vector<double>();
      auto iv = i.to_vector<uint32_t>();
      for (int64_t l = 0; l < L.lines(); ++l) {
        std::vector<std::pair<double, uint32_t>> ref;
        for (int64_t k = 0; k < L.n; ++k) ref.push_back({xv[L.at(l, k)], uint32_t(k)});
        std::stable_sort(ref.begin(), ref.end(), [](auto& a, auto& b) { return nan_last_less(a.first, b.first); });
        for (int64_t k = 0; k < L.n; ++k) {
          ASSERT_TRUE(same(sv[L.at(l, k)], ref[k].first)) << "line " << l << " k " << k;
          ASSERT_EQ(iv[L.at(l, k)], ref[k].second) << "line " << l << " k " << k;
        }
      }
    }
  }
}

TEST(Sort, NanLastFlattenedAndLayouts) {
  auto s = sort(array({3.f, kNan, -1.f, INFINITY, kNan, -INFINITY})).to_vector<float>();
  EXPECT_EQ(s[0], -INFINITY);
  EXPECT_EQ(s[1], -1.f);
  EXPECT_EQ(s[3], INFINITY);
  EXPECT_TRUE(std::isnan(s[4]) && std::isnan(s[5]));
  EXPECT_EQ(argsort(array({kNan, 1.f, kNan, 0.f})).to_vector<uint32_t>(), (std::vector<uint32_t>{3, 1, 0, 2}));
  // Without axis: the flattened array.
  auto f = sort(array({3, 1, 2, 0}, {2, 2}));
  EXPECT_EQ(f.shape(), (Shape{4}));
  EXPECT_EQ(f.to_vector<int>(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(argsort(array({3, 1, 2, 0}, {2, 2})).to_vector<uint32_t>(), (std::vector<uint32_t>{3, 1, 2, 0}));
  // Transposed and negative-step inputs.
  array a = reshape(arange(12), {3, 4});
  EXPECT_EQ(sort(transpose(a), 1).to_vector<int>(), (std::vector<int>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(sort(slice(a, {2, 3}, {-4, -5}, {-1, -1}), 1).to_vector<int>(),
            (std::vector<int>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
  EXPECT_EQ(argsort(slice(a, {2, 3}, {-4, -5}, {-1, -1}), 0).to_vector<uint32_t>(),
            (std::vector<uint32_t>{2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0}));
  // Large: parallel lines.
  auto big = make(random_values(64 * 5000, -1, 1, 3), {64, 5000}, float32);
  auto bs = sort(big, 1).to_vector<float>();
  for (int r = 0; r < 64; ++r) EXPECT_TRUE(std::is_sorted(bs.begin() + r * 5000, bs.begin() + (r + 1) * 5000));
  EXPECT_EQ(sort(zeros({0, 3}), 0).shape(), (Shape{0, 3}));
  EXPECT_EQ(argsort(zeros({2, 0}), 1).shape(), (Shape{2, 0}));
  EXPECT_EQ(sort(array(2.f)).to_vector<float>(), (std::vector<float>{2.f}));
}

TEST(Sort, PartitionProperties) {
  Shape shape{4, 7, 30};
  for (Dtype dt : {int32, float32, bfloat16, uint8}) {
    auto x = make(random_values(840, 0, 20, 17, true), shape, dt);
    auto xv = x.to_vector<double>();
    for (int axis : {0, 1, 2}) {
      LineView L(shape, axis);
      for (int kth : {0, 3, -1, -int(L.n), int(L.n) / 2}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " axis " + std::to_string(axis) + " kth " + std::to_string(kth));
        int k = kth < 0 ? kth + int(L.n) : kth;
        auto p = partition(x, kth, axis).to_vector<double>();
        auto ip = argpartition(x, kth, axis).to_vector<uint32_t>();
        for (int64_t l = 0; l < L.lines(); ++l) {
          std::vector<double> line, got;
          for (int64_t j = 0; j < L.n; ++j) {
            line.push_back(xv[L.at(l, j)]);
            got.push_back(p[L.at(l, j)]);
          }
          std::vector<double> sorted = line;
          std::sort(sorted.begin(), sorted.end());
          ASSERT_EQ(got[k], sorted[k]);
          for (int j = 0; j < k; ++j) ASSERT_LE(got[j], got[k]);
          for (int j = k + 1; j < L.n; ++j) ASSERT_GE(got[j], got[k]);
          std::vector<double> perm = got;
          std::sort(perm.begin(), perm.end());
          ASSERT_EQ(perm, sorted);  // a permutation of the line
          // argpartition: indices form a permutation with the same property.
          std::vector<uint32_t> idx;
          for (int64_t j = 0; j < L.n; ++j) idx.push_back(ip[L.at(l, j)]);
          ASSERT_EQ(line[idx[k]], sorted[k]);
          for (int j = 0; j < L.n; ++j) ASSERT_TRUE(j == k || (j < k ? line[idx[j]] <= sorted[k] : line[idx[j]] >= sorted[k]));
          std::sort(idx.begin(), idx.end());
          for (int j = 0; j < L.n; ++j) ASSERT_EQ(idx[j], uint32_t(j));
        }
      }
    }
  }
  // NaN last in partitions too.
  auto p = partition(array({kNan, 2.f, 1.f}), 2).to_vector<float>();
  EXPECT_TRUE(std::isnan(p[2]));
}

TEST(Sort, TopK) {
  auto xv = random_values(6 * 50, -10, 10, 23);
  array x = make(xv, {6, 50}, float32);
  for (int k : {1, 5, 50}) {
    auto t = topk(x, k, 1);
    EXPECT_EQ(t.shape(), (Shape{6, k}));
    auto tv = t.to_vector<float>();
    for (int r = 0; r < 6; ++r) {
      std::vector<float> row(xv.begin() + r * 50, xv.begin() + (r + 1) * 50), got(tv.begin() + r * k,
                                                                                 tv.begin() + (r + 1) * k);
      for (auto& v : row) v = float(v);
      std::sort(row.begin(), row.end(), std::greater<float>());
      row.resize(k);
      // Layout (MLX): the k-th largest first, then the larger ones unordered.
      EXPECT_EQ(got[0], row[k - 1]);
      std::sort(got.begin(), got.end(), std::greater<float>());
      EXPECT_EQ(got, row);
    }
  }
  auto t0 = topk(x, 2, 0);
  EXPECT_EQ(t0.shape(), (Shape{2, 50}));
  EXPECT_EQ(topk(x, 0, 1).shape(), (Shape{6, 0}));
  auto flat = topk(array({5, 1, 9, 3, 7}), 2).to_vector<int>();
  std::sort(flat.begin(), flat.end());
  EXPECT_EQ(flat, (std::vector<int>{7, 9}));
}

TEST(Sort, Errors) {
  array a = zeros({3, 4});
  EXPECT_THROW(sort(a, 2), std::invalid_argument);
  EXPECT_THROW(argsort(a, -3), std::invalid_argument);
  EXPECT_THROW(partition(a, 4, 1), std::invalid_argument);
  EXPECT_THROW(partition(a, -5, 1), std::invalid_argument);
  EXPECT_THROW(argpartition(a, 3, 0), std::invalid_argument);
  EXPECT_THROW(topk(a, 5, 1), std::invalid_argument);
  EXPECT_THROW(topk(a, -1), std::invalid_argument);
  EXPECT_THROW(sort(astype(a, complex64)), std::invalid_argument);
  try {
    partition(a, 9, 0);
    FAIL();
  } catch (const std::invalid_argument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[partition]"), std::string::npos);
    EXPECT_NE(m.find("(3,4)"), std::string::npos) << m;
  }
}
