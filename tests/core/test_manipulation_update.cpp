// slice_update (static and dynamic, buffer donation), dynamic slices,
// diagonal and diag.
#include <gtest/gtest.h>

#include "core/manipulation_util.h"
#include "core/util.h"
#include "uma/uma.h"

using namespace uma;
using test::iota;
using test::iv;
using test::V;

TEST(SliceUpdate, ValuesStridesBroadcastAndCast) {
  array a = zeros({3, 4}, int32);
  auto r = slice_update(a, array({1, 2, 3, 4}, {1, 4}), {1, 0}, {2, 4});
  EXPECT_EQ(iv(r), (V{0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}));
  EXPECT_EQ(iv(a), V(12, 0));  // functional: a unchanged
  // Strided, negative-strided and broadcast updates.
  r = slice_update(a, array({7, 8}), {0, 0}, {1, 4}, {1, 2});
  EXPECT_EQ(iv(r), (V{7, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  r = slice_update(a, array({1, 2, 3}, {3, 1}), {-1, 3}, {-4, 4}, {-1, 1});
  EXPECT_EQ(iv(r), (V{0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1}));
  r = slice_update(a, array(5), {0, 1}, {3, 3});
  EXPECT_EQ(iv(r), (V{0, 5, 5, 0, 0, 5, 5, 0, 0, 5, 5, 0}));
  // update cast to src's dtype; transposed src and update.
  r = slice_update(zeros({2, 2}, int32), array({1.7f, -2.2f}), {0, 0}, {1, 2});
  EXPECT_EQ(r.dtype(), int32);
  EXPECT_EQ(iv(r), (V{1, -2, 0, 0}));
  r = slice_update(transpose(iota({3, 2})), transpose(array({9, 8}, {1, 2})), {0, 1}, {2, 2});
  EXPECT_EQ(iv(r), (V{0, 9, 4, 1, 8, 5}));
  // Empty slice: src back; 0-d src.
  EXPECT_TRUE(slice_update(a, array(1), {2, 0}, {2, 4}).is_same(a));
  EXPECT_EQ(iv(slice_update(array(3), array(4), {}, {})), (V{4}));
}

TEST(SliceUpdate, Errors) {
  array a = zeros({3, 4});
  EXPECT_THROW(slice_update(a, zeros({2, 4}), {0, 0}, {1, 4}), std::invalid_argument);  // (2,4) into (1,4)
  EXPECT_THROW(slice_update(a, zeros({4}), {0, 0}, {3, 3}), std::invalid_argument);
  EXPECT_THROW(slice_update(a, zeros({1}), {0}, {1}), std::invalid_argument);  // one entry for 2 dims
  EXPECT_THROW(slice_update(a, zeros({1}), {0, 0}, {1, 1}, {1, 0}), std::invalid_argument);  // zero step
}

TEST(SliceUpdate, DonatesTheSourceBuffer) {
  // A 64 MiB cache nobody else holds: writing one row must not copy it.
  const int rows = 4096, cols = 4096;
  array cache = zeros({rows, cols}, float32);
  cache.eval();
  const float* buf = cache.data<float>();
  array row = full({1, cols}, 2.0f);
  row.eval();
  size_t before = get_active_memory();
  reset_peak_memory();
  cache = slice_update(cache, row, {5, 0}, {6, cols});
  cache.eval();
  EXPECT_LT(get_peak_memory() - before, size_t(1) << 20);
  EXPECT_EQ(cache.data<float>(), buf);  // same buffer, written in place
  // Dynamic start: same.
  reset_peak_memory();
  cache = slice_update(cache, row, array({7}), {0});
  cache.eval();
  EXPECT_LT(get_peak_memory() - before, size_t(1) << 20);
  EXPECT_EQ(cache.data<float>(), buf);
  const float* d = cache.data<float>();
  EXPECT_EQ(d[5 * cols + 17], 2.0f);
  EXPECT_EQ(d[7 * cols + cols - 1], 2.0f);
  EXPECT_EQ(d[6 * cols], 0.0f);
  // Someone else holds the source: a copy is made and theirs is untouched.
  array keep = cache;
  array next = slice_update(cache, zeros({1, cols}), {5, 0}, {6, cols});
  EXPECT_EQ(next.to_vector<float>()[5 * cols], 0.0f);
  EXPECT_NE(next.data<float>(), buf);
  EXPECT_EQ(keep.to_vector<float>()[5 * cols], 2.0f);
}

TEST(DynamicSlice, StartsFromArrays) {
  array a = iota({4, 5});
  // Any integer dtype; negative starts count from the end.
  auto r = slice(a, array({1, 2}), {0, 1}, {2, 3});
  EXPECT_EQ(iv(r), (V{7, 8, 9, 12, 13, 14}));
  r = slice(a, astype(array({-1}), int64), {1}, {4, 2});
  EXPECT_EQ(iv(r), (V{3, 4, 8, 9, 13, 14, 18, 19}));  // -1 -> 4, clamped to 3
  r = slice(a, astype(array({9}), uint8), {0}, {2, 5});
  EXPECT_EQ(iv(r), (V{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));  // clamped to 2
  r = dynamic_slice(transpose(a), array(2), {0}, {1, 4});  // 0-d start, transposed a
  EXPECT_EQ(iv(r), (V{2, 7, 12, 17}));
  r.eval();
  EXPECT_EQ(r.data<int>(), a.data<int>() + 2);  // a view
  EXPECT_EQ(slice(a, array({1}), {0}, {0, 5}).shape(), (Shape{0, 5}));

  auto u = slice_update(a, array({-1, -2}, {1, 2}), array({3, -2}), {0, 1});
  EXPECT_EQ(iv(u), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, -1, -2}));
  u = dynamic_slice_update(a, array({9, 9}, {1, 2}), astype(array({0, 10}), int16), {0, 1});
  EXPECT_EQ(iv(u)[3], 9);  // start 10 clamped to 3
  EXPECT_EQ(iv(u)[4], 9);

  EXPECT_THROW(slice(a, array({1.0f}), {0}, {1, 5}), std::invalid_argument);  // float start
  EXPECT_THROW(slice(a, array({1, 2}), {0}, {1, 5}), std::invalid_argument);  // 2 starts, 1 axis
  EXPECT_THROW(slice(a, array({1}), {0}, {1}), std::invalid_argument);        // slice_size rank
  EXPECT_THROW(slice(a, array({1}), {0}, {5, 5}), std::invalid_argument);     // too large
  EXPECT_THROW(slice(a, array({1}), {2}, {1, 5}), std::invalid_argument);     // bad axis
  EXPECT_THROW(slice(a, array({1, 1}), {0, -2}, {1, 5}), std::invalid_argument);  // repeated axis
  EXPECT_THROW(slice_update(a, zeros({5}), array({0}), {0}), std::invalid_argument);     // rank
  EXPECT_THROW(slice_update(a, zeros({5, 1}), array({0}), {0}), std::invalid_argument);  // too large
  EXPECT_THROW(slice_update(a, zeros({1, 1}), array({true}), {0}), std::invalid_argument);
}

TEST(Diagonal, ViewsOffsetsAndErrors) {
  array m = iota({3, 4});
  EXPECT_EQ(iv(diagonal(m)), (V{0, 5, 10}));
  EXPECT_EQ(iv(diagonal(m, 1)), (V{1, 6, 11}));
  EXPECT_EQ(iv(diagonal(m, 2)), (V{2, 7}));
  EXPECT_EQ(iv(diagonal(m, -2)), (V{8}));
  EXPECT_EQ(diagonal(m, 5).shape(), (Shape{0}));
  EXPECT_EQ(diagonal(m, -3).shape(), (Shape{0}));
  EXPECT_EQ(iv(diagonal(m, 0, 1, 0)), (V{0, 5, 10}));
  auto d = diagonal(m, 1);
  d.eval();
  EXPECT_EQ(d.data<int>(), m.data<int>() + 1);  // a view
  EXPECT_EQ(iv(diagonal(transpose(m), 1)), (V{4, 9}));
  array t = iota({2, 3, 3});
  EXPECT_EQ(diagonal(t, 0, 1, 2).shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(diagonal(t, 0, 1, 2)), (V{0, 4, 8, 9, 13, 17}));
  EXPECT_EQ(iv(diagonal(t, 0, -1, 0)), (V{0, 10, 3, 13, 6, 16}));
  EXPECT_EQ(diagonal(zeros({0, 3}), 0).shape(), (Shape{0}));
  EXPECT_THROW(diagonal(array({1, 2})), std::invalid_argument);
  EXPECT_THROW(diagonal(m, 0, 1, 1), std::invalid_argument);
  EXPECT_THROW(diagonal(m, 0, 1, -1), std::invalid_argument);
  EXPECT_THROW(diagonal(m, 0, 0, 2), std::invalid_argument);
}

TEST(Diag, BuildAndExtract) {
  array v({1, 2, 3});
  auto m = diag(v);
  EXPECT_EQ(m.shape(), (Shape{3, 3}));
  EXPECT_EQ(iv(m), (V{1, 0, 0, 0, 2, 0, 0, 0, 3}));
  EXPECT_EQ(iv(diag(v, 1)), (V{0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0}));
  EXPECT_EQ(iv(diag(array({4, 5}), -1)), (V{0, 0, 0, 4, 0, 0, 0, 5, 0}));
  EXPECT_EQ(iv(diag(slice(arange(6), {0}, {6}, {2}))), (V{0, 0, 0, 0, 2, 0, 0, 0, 4}));
  EXPECT_EQ(diag(zeros({0})).shape(), (Shape{0, 0}));
  EXPECT_EQ(diag(zeros({0}), 2).shape(), (Shape{2, 2}));
  EXPECT_EQ(iv(diag(iota({3, 3}), -1)), (V{3, 7}));
  EXPECT_EQ(diag(v).dtype(), int32);
  EXPECT_THROW(diag(zeros({2, 2, 2})), std::invalid_argument);
  EXPECT_THROW(diag(array(1)), std::invalid_argument);
}

TEST(Trace, ValuesDtypesAndErrors) {
  array m = iota({3, 4});
  EXPECT_EQ(trace(m).item<int>(), 0 + 5 + 10);
  EXPECT_EQ(trace(m, 1, 0, 1).item<int>(), 1 + 6 + 11);
  EXPECT_EQ(trace(m, -1, 0, 1).item<int>(), 4 + 9);
  EXPECT_EQ(trace(m, 7, 0, 1).item<int>(), 0);  // empty diagonal
  EXPECT_EQ(trace(m).dtype(), int32);
  auto t = trace(iota({2, 3, 3}), 0, 1, 2);
  EXPECT_EQ(t.shape(), (Shape{2}));
  EXPECT_EQ(iv(t), (V{12, 39}));
  EXPECT_EQ(iv(trace(transpose(iota({2, 3, 3}), {1, 0, 2}), 0, 0, 2)), (V{12, 39}));
  // Kept in a's dtype unless asked (int8 wraps like MLX), or converted.
  array b = full({3, 3}, 100, int8);
  EXPECT_EQ(trace(b).dtype(), int8);
  EXPECT_EQ(trace(b, 0, 0, 1, int32).item<int>(), 300);
  test::expect_close(trace(astype(m, bfloat16)), {15});
  EXPECT_THROW(trace(array({1, 2})), std::invalid_argument);
  EXPECT_THROW(trace(m, 0, 0, 0), std::invalid_argument);
}
