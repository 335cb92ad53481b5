// take, take_along_axis, put_along_axis, gather and the scatter family:
// hand-computed values, index wrapping/clamping/dropping, layouts, parallel
// paths against serial loops, and argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/manipulation_util.h"
#include "core/util.h"
#include "uma/uma.h"

using namespace uma;
using test::iota;
using test::iv;
using test::V;

TEST(Take, AxesNegativeAndClampedIndices) {
  array v({10, 11, 12, 13});
  EXPECT_EQ(iv(take(v, array({0, -1, 2, -4}))), (V{10, 13, 12, 10}));
  // Out of range after wrapping: clamped (reads never leave the array).
  EXPECT_EQ(iv(take(v, array({4, 100, -5, -100}))), (V{13, 13, 10, 10}));
  array m = iota({3, 4});
  auto r = take(m, array({2, 0}), 0);  // rows
  EXPECT_EQ(r.shape(), (Shape{2, 4}));
  EXPECT_EQ(iv(r), (V{8, 9, 10, 11, 0, 1, 2, 3}));
  r = take(m, array({3, 1, -1}, {1, 3}), 1);
  EXPECT_EQ(r.shape(), (Shape{3, 1, 3}));
  EXPECT_EQ(iv(r), (V{3, 1, 3, 7, 5, 7, 11, 9, 11}));
  r = take(m, 1, 1);  // a scalar index drops the axis
  EXPECT_EQ(r.shape(), (Shape{3}));
  EXPECT_EQ(iv(r), (V{1, 5, 9}));
  EXPECT_EQ(take(m, 5).item<int>(), 5);  // flattened
  EXPECT_EQ(iv(take(m, array({11, 0}, {2, 1}))), (V{11, 0}));
  // Every integer index dtype.
  for (Dtype dt : {uint8, uint16, uint32, uint64, int8, int16, int32, int64}) {
    EXPECT_EQ(iv(take(v, astype(array({3, 1}), dt))), (V{13, 11})) << dtype_name(dt);
  }
  EXPECT_EQ(iv(take(v, astype(array({-1}), int8))), (V{13}));
  // Non-contiguous a and indices.
  EXPECT_EQ(iv(take(transpose(m), array({1}), 0)), (V{1, 5, 9}));
  EXPECT_EQ(iv(take(m, broadcast_to(array({2}), {2, 2}), 1)), (V{2, 2, 2, 2, 6, 6, 6, 6, 10, 10, 10, 10}));
  EXPECT_EQ(iv(take(v, slice(array({3, 9, 0, 9, 2}), {0}, {5}, {2}))), (V{13, 10, 12}));
  // Empty indices and empty arrays.
  EXPECT_EQ(take(m, zeros({0}, int32), 1).shape(), (Shape{3, 0}));
  EXPECT_EQ(take(zeros({0, 4}), array({1, 2}), 1).shape(), (Shape{0, 2}));
  EXPECT_EQ(take(zeros({0, 4}), zeros({0}, int32), 0).shape(), (Shape{0, 4}));
}

TEST(Take, EmbeddingLookupMatchesLoop) {
  // Contiguous rows (memcpy path, split across threads) and single elements.
  const int rows = 1000, dim = 96, n = 3000;
  array table = iota({rows, dim}, float32);
  std::vector<int> ids(n);
  std::mt19937 rng(7);
  for (auto& i : ids) i = int(rng() % (2 * rows)) - rows;  // negatives too
  array out = take(table, array(ids, {n}), 0);
  ASSERT_EQ(out.shape(), (Shape{n, dim}));
  auto got = out.to_vector<float>();
  bool ok = true;
  for (int i = 0; i < n && ok; ++i) {
    int r = ids[i] < 0 ? ids[i] + rows : ids[i];
    for (int j = 0; j < dim; ++j) ok &= got[size_t(i) * dim + j] == float(r * dim + j);
  }
  EXPECT_TRUE(ok);
  // One column of a big matrix: slices of one strided element each.
  auto col = take(table, array(ids, {n}), 1).to_vector<float>();
  ok = true;
  for (int r = 0; r < rows && ok; ++r) {
    for (int i = 0; i < n; ++i) {
      int c = ids[i] < 0 ? ids[i] + dim : ids[i];
      c = std::clamp(c, 0, dim - 1);
      ok &= col[size_t(r) * n + i] == float(r * dim + c);
    }
  }
  EXPECT_TRUE(ok);
}

TEST(Take, Errors) {
  array m = iota({3, 4});
  EXPECT_THROW(take(m, array({1.0f}), 0), std::invalid_argument);
  EXPECT_THROW(take(m, array({true}), 0), std::invalid_argument);
  EXPECT_THROW(take(m, array({1}), 2), std::invalid_argument);
  EXPECT_THROW(take(m, array({1}), -3), std::invalid_argument);
  EXPECT_THROW(take(zeros({0, 4}), array({1}), 0), std::invalid_argument);  // empty axis
  EXPECT_THROW(take(zeros({0}), array({0})), std::invalid_argument);
  try {
    take(m, array({1.5}), 0);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("float64"), std::string::npos);
  }
}

TEST(TakeAlongAxis, ValuesBroadcastAndErrors) {
  array m({10, 30, 20, 60, 50, 40}, {2, 3});
  array order({0, 2, 1, 2, 1, 0}, {2, 3});
  EXPECT_EQ(iv(take_along_axis(m, order, 1)), (V{10, 20, 30, 40, 50, 60}));
  EXPECT_EQ(iv(take_along_axis(m, array({-1, 0}, {2, 1}), -1)), (V{20, 60}));
  EXPECT_EQ(iv(take_along_axis(m, array({1, 0, 1}, {1, 3}), 0)), (V{60, 30, 40}));
  // Index broadcasting over the other axes, and clamping.
  EXPECT_EQ(iv(take_along_axis(m, array({2}, {1, 1}), 1)), (V{20, 40}));
  EXPECT_EQ(iv(take_along_axis(m, array({7, -9}, {1, 2}), 1)), (V{20, 10, 40, 60}));
  // a broadcast against indices.
  auto r = take_along_axis(array({1, 2, 3}, {1, 3}), array({0, 2, 1, 1}, {2, 2}), 1);
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(iv(r), (V{1, 3, 2, 2}));
  EXPECT_EQ(iv(take_along_axis(transpose(m), transpose(order), 0)), (V{10, 40, 20, 50, 30, 60}));
  EXPECT_EQ(take_along_axis(m, zeros({2, 0}, int32), 1).shape(), (Shape{2, 0}));
  EXPECT_THROW(take_along_axis(m, array({0}), 1), std::invalid_argument);  // ndim
  EXPECT_THROW(take_along_axis(m, array({0.0f}, {1, 1}), 1), std::invalid_argument);
  EXPECT_THROW(take_along_axis(m, array({0}, {1, 1}), 2), std::invalid_argument);
  EXPECT_THROW(take_along_axis(m, zeros({3, 1}, int32), 1), std::invalid_argument);  // broadcast
  EXPECT_THROW(take_along_axis(zeros({2, 0}), zeros({2, 1}, int32), 1), std::invalid_argument);
}

TEST(PutAlongAxis, ValuesDuplicatesDropsAndErrors) {
  array m = zeros({2, 3}, int32);
  auto r = put_along_axis(m, array({2, 0}, {2, 1}), array({7, 8}, {2, 1}), 1);
  EXPECT_EQ(iv(r), (V{0, 0, 7, 8, 0, 0}));
  EXPECT_EQ(iv(m), V(6, 0));
  // Scalar values broadcast; negative indices wrap; out of range dropped.
  r = put_along_axis(m, array({-1, 5, 1, -4}, {2, 2}), array(9), 1);
  EXPECT_EQ(iv(r), (V{0, 0, 9, 0, 9, 0}));
  // Duplicates: the last write wins (serial order along the axis).
  r = put_along_axis(m, array({1, 1, 1}, {1, 3}), array({1, 2, 3}, {1, 3}), 1);
  EXPECT_EQ(iv(r), (V{0, 3, 0, 0, 3, 0}));
  // scatter_add_axis accumulates duplicates.
  r = scatter_add_axis(m, array({1, 1, 0}, {1, 3}), array({1, 2, 3}, {1, 3}), 1);
  EXPECT_EQ(iv(r), (V{3, 3, 0, 3, 3, 0}));
  r = put_along_axis(transpose(iota({3, 2})), array({0, 2}, {1, 2}), array(-1.9), 1);
  EXPECT_EQ(iv(r), (V{-1, 2, -1, -1, 3, -1}));  // indices broadcast over rows; cast to int32
  EXPECT_THROW(put_along_axis(m, array({0}), array(1), 1), std::invalid_argument);
  EXPECT_THROW(put_along_axis(m, array({0.5f}, {1, 1}), array(1), 1), std::invalid_argument);
  EXPECT_THROW(put_along_axis(m, array({0, 1}, {1, 2}), array({1, 2, 3}), 1), std::invalid_argument);
}

TEST(ScatterAddAxis, LargeParallelMatchesLoop) {
  // Rows run in parallel; every duplicate of a row stays in one task.
  const int rows = 512, n = 64, cols = 40;
  std::mt19937 rng(3);
  std::vector<int> idx(rows * n);
  for (auto& i : idx) i = int(rng() % cols);
  array r = scatter_add_axis(zeros({rows, cols}, int32), array(idx, {rows, n}), array(1), 1);
  std::vector<int> expect(rows * cols, 0);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < n; ++j) expect[i * cols + idx[i * n + j]] += 1;
  }
  EXPECT_EQ(iv(r), expect);
}

TEST(Gather, MultiAxisNoIndicesAndErrors) {
  array a = iota({3, 4});
  // Pairs (i, j) with 1x2 windows.
  auto r = gather(a, {array({0, 2}), array({1, -2})}, {0, 1}, {1, 2});
  EXPECT_EQ(r.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(iv(r), (V{1, 2, 10, 11}));
  // Windows that would run past the end are clamped to fit.
  EXPECT_EQ(iv(gather(a, array({3}), 1, {2, 2})), (V{2, 3, 6, 7}));
  // Mixed index dtypes (int8 and uint64) are promoted together.
  r = gather(a, {astype(array({1}), int8), astype(array({3}), uint64)}, {0, 1}, {1, 1});
  EXPECT_EQ(iv(r), (V{7}));
  // No index arrays: one slice from the origin.
  r = gather(a, std::vector<array>{}, std::vector<int>{}, {2, 2});
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(iv(r), (V{0, 1, 4, 5}));
  EXPECT_EQ(gather(a, array({1}), 0, {0, 4}).shape(), (Shape{1, 0, 4}));
  EXPECT_THROW(gather(a, array({1}), 0, {1}), std::invalid_argument);        // slice rank
  EXPECT_THROW(gather(a, array({1}), 0, {1, 5}), std::invalid_argument);     // too large
  EXPECT_THROW(gather(a, array({1.0f}), 0, {1, 4}), std::invalid_argument);  // float
  EXPECT_THROW(gather(a, {array({1}), array({1})}, {0, -2}, {1, 1}), std::invalid_argument);  // repeated
  EXPECT_THROW(gather(a, {array({1}), array({1})}, std::vector<int>{0}, {1, 1}), std::invalid_argument);      // count
  EXPECT_THROW(gather(a, {array({1, 2}), array({1, 2, 3})}, {0, 1}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(gather(a, {array({1}), array({1}), array({1})}, {0, 1, 2}, {1, 1}), std::invalid_argument);
}

TEST(Scatter, DuplicatesDropsAndModes) {
  array z = zeros({5}, int32);
  array ones5 = full({5, 1}, 1, int32);
  EXPECT_EQ(iv(scatter_add(z, array({0, 0, 0, 4, -1}), ones5, 0)), (V{3, 0, 0, 0, 2}));
  // Out of range (after wrapping) updates are dropped.
  EXPECT_EQ(iv(scatter_add(z, array({7, -8, 5, 1, -6}), ones5, 0)), (V{0, 1, 0, 0, 0}));
  EXPECT_EQ(iv(scatter(z, array({1, 3}), array({5, 6}, {2, 1}), 0)), (V{0, 5, 0, 6, 0}));
  EXPECT_EQ(iv(scatter_prod(full({3}, 2, int32), array({0, 0, 2}), array({3, 4, 5}, {3, 1}), 0)), (V{24, 2, 10}));
  EXPECT_EQ(iv(scatter_max(z, array({1, 1, 2}), array({3, -4, -5}, {3, 1}), 0)), (V{0, 3, 0, 0, 0}));
  EXPECT_EQ(iv(scatter_min(z, array({1, 1, 2}), array({3, -4, -5}, {3, 1}), 0)), (V{0, -4, -5, 0, 0}));
  // Windows: whole rows of a matrix; updates are cast to a's dtype.
  auto r = scatter_add(iota({3, 2}), array({2, 0, 2}), array({1.5, 1.5, 2.0, 2.0, 10.0, 10.0}, {3, 1, 2}), 0);
  EXPECT_EQ(r.dtype(), int32);
  EXPECT_EQ(iv(r), (V{2, 3, 2, 3, 15, 16}));
  // Broadcast index arrays over two axes (an outer product of positions).
  r = scatter(zeros({3, 3}, int32), {array({0, 2}, {2, 1}), array({1, 2}, {1, 2})}, full({2, 2, 1, 1}, 7, int32),
              {0, 1});
  EXPECT_EQ(iv(r), (V{0, 7, 7, 0, 0, 0, 0, 7, 7}));
  // bool: add is or, prod is and.
  auto b = scatter_add(zeros({3}, bool_), array({0, 0}), astype(array({1, 1}, {2, 1}), bool_), 0);
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, false, false}));
}

TEST(Scatter, NaNAndComplexOrdering) {
  double nan = std::nan("");
  auto r = scatter_max(array({1.0, 1.0}), array({0, 0, 1}), array({nan, 5.0, 0.5}, {3, 1}), 0);
  auto v = r.to_vector<double>();
  EXPECT_TRUE(std::isnan(v[0]));  // NaN propagates and stays
  EXPECT_EQ(v[1], 1.0);
  r = scatter_min(array({nan, 2.0}), array({0, 1}), array({-1.0, nan}, {2, 1}), 0);
  v = r.to_vector<double>();
  EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]));
  // Complex: lexicographic (real, then imaginary).
  std::vector<complex64_t> cz{{1, 5}, {2, 0}};
  array c(cz.data(), {2});
  std::vector<complex64_t> cu{{1, 6}, {2, -1}};
  auto cm = scatter_max(c, array({0, 1}), array(cu.data(), {2, 1}), 0).to_vector<complex64_t>();
  EXPECT_EQ(cm[0], complex64_t(1, 6));
  EXPECT_EQ(cm[1], complex64_t(2, 0));
}

TEST(Scatter, LargeWindowsParallelMatchesLoop) {
  // Duplicated row indices with wide windows: threads split the window.
  const int rows = 8, cols = 4096, n = 64;
  std::mt19937 rng(11);
  std::vector<int> idx(n);
  for (auto& i : idx) i = int(rng() % rows);
  std::vector<float> upd(size_t(n) * cols);
  for (size_t i = 0; i < upd.size(); ++i) upd[i] = float(int(rng() % 7) - 3);
  array u(upd, {n, 1, cols});
  auto got = scatter_add(zeros({rows, cols}), array(idx, {n}), u, 0).to_vector<float>();
  std::vector<float> expect(size_t(rows) * cols, 0.f);
  for (int p = 0; p < n; ++p) {
    for (int j = 0; j < cols; ++j) expect[size_t(idx[p]) * cols + j] += upd[size_t(p) * cols + j];
  }
  EXPECT_EQ(got, expect);
  // Non-contiguous updates: a transposed matrix with a unit axis inserted.
  std::vector<float> upd_t(upd.size());
  for (int p = 0; p < n; ++p) {
    for (int j = 0; j < cols; ++j) upd_t[size_t(j) * n + p] = upd[size_t(p) * cols + j];
  }
  array ut = expand_dims(transpose(array(upd_t, {cols, n})), 1);
  ut.eval();
  ASSERT_FALSE(ut.flags().row_contiguous);
  EXPECT_EQ(scatter_add(zeros({rows, cols}), array(idx, {n}), ut, 0).to_vector<float>(), expect);
  auto got_max = scatter_max(full({rows, cols}, -100.0f), array(idx, {n}), u, 0).to_vector<float>();
  std::vector<float> emax(size_t(rows) * cols, -100.f);
  for (int p = 0; p < n; ++p) {
    for (int j = 0; j < cols; ++j) {
      float& e = emax[size_t(idx[p]) * cols + j];
      e = std::max(e, upd[size_t(p) * cols + j]);
    }
  }
  EXPECT_EQ(got_max, emax);
}

TEST(Scatter, Errors) {
  array a = zeros({3, 4});
  EXPECT_THROW(scatter(a, array({0}), zeros({1, 4}), 0), std::invalid_argument);         // rank
  EXPECT_THROW(scatter(a, array({0, 1}), zeros({1, 1, 4}), 0), std::invalid_argument);   // idx shape
  EXPECT_THROW(scatter(a, array({0}), zeros({1, 4, 4}), 0), std::invalid_argument);      // window
  EXPECT_THROW(scatter_add(a, array({0.0f}), zeros({1, 1, 4}), 0), std::invalid_argument);
  EXPECT_THROW(scatter_max(a, array({0}), zeros({1, 1, 4}), 2), std::invalid_argument);
  EXPECT_THROW(scatter_min(a, {array({0}), array({0})}, zeros({1, 1, 1}), {1, 1}), std::invalid_argument);
  EXPECT_THROW(scatter_prod(a, {array({0})}, zeros({1, 1, 1}), {0, 1}), std::invalid_argument);
  try {
    scatter(a, array({0}), zeros({1, 4}), 0);
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[scatter]", 0), 0u);
  }
}
