// Joining, splitting, padding, repeat/tile/roll/flip, atleast_nd, meshgrid:
// hand-computed values, layouts, empty arrays and argument errors.
#include <gtest/gtest.h>

#include <functional>
#include <numeric>

#include "core/manipulation_util.h"
#include "core/util.h"
#include "uma/uma.h"

using namespace uma;
using test::iota;
using test::iv;
using test::V;

TEST(Concatenate, ValuesAxesAndPromotion) {
  array a({1, 2, 3, 4}, {2, 2}), b({5, 6}, {1, 2}), c({7, 8}, {2, 1});
  auto r = concatenate({a, b}, 0);
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(iv(r), (V{1, 2, 3, 4, 5, 6}));
  r = concatenate({a, c}, -1);
  EXPECT_EQ(iv(r), (V{1, 2, 7, 3, 4, 8}));
  // No axis: flattened.
  EXPECT_EQ(iv(concatenate({a, c, array(9)})), (V{1, 2, 3, 4, 7, 8, 9}));
  // Promotion over every input.
  EXPECT_EQ(concatenate({a, astype(b, float16)}, 0).dtype(), float16);
  EXPECT_EQ(concatenate({astype(a, bool_), astype(b, int8)}, 0).dtype(), int8);
  EXPECT_EQ(concatenate({astype(a, uint8), astype(b, int8)}, 0).dtype(), int16);
  auto f = concatenate({a, array({0.5f, 1.5f}, {1, 2})}, 0);
  EXPECT_EQ(f.dtype(), float32);
  test::expect_close(f, {1, 2, 3, 4, 0.5, 1.5});
  // One input: only converted.
  EXPECT_EQ(iv(concatenate({a}, 1)), (V{1, 2, 3, 4}));
}

TEST(Concatenate, NonContiguousEmptyAndParallelPaths) {
  // Transposed and broadcast inputs.
  array a = iota({2, 3});
  auto r = concatenate({transpose(a), broadcast_to(array({9, 8}), {1, 2})}, 0);
  EXPECT_EQ(iv(r), (V{0, 3, 1, 4, 2, 5, 9, 8}));
  // Empty inputs contribute nothing; empty outputs are fine.
  r = concatenate({zeros({0, 3}, int32), a, zeros({0, 3}, int32)}, 0);
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(r), (V{0, 1, 2, 3, 4, 5}));
  r = concatenate({zeros({2, 0}), zeros({2, 0})}, 1);
  EXPECT_EQ(r.shape(), (Shape{2, 0}));
  EXPECT_EQ(r.size(), 0u);
  // Many small inputs (one task per input).
  std::vector<array> cols;
  V expect(3 * 64);
  for (int j = 0; j < 64; ++j) {
    cols.push_back(array({j, 100 + j, 200 + j}, {3, 1}));
    for (int i = 0; i < 3; ++i) expect[i * 64 + j] = 100 * i + j;
  }
  EXPECT_EQ(iv(concatenate(cols, 1)), expect);
  // Few large inputs (each copy parallel over rows), one of them transposed.
  array big = iota({400, 300}), bigt = transpose(iota({300, 400}));
  auto out = concatenate({big, bigt}, 1).to_vector<int>();
  auto bv = iv(big);
  bool ok = true;
  for (int i = 0; i < 400 && ok; ++i) {
    for (int j = 0; j < 300; ++j) ok &= out[i * 600 + j] == bv[i * 300 + j] && out[i * 600 + 300 + j] == j * 400 + i;
  }
  EXPECT_TRUE(ok);
}

TEST(Concatenate, Errors) {
  array a = zeros({2, 3}), b = zeros({2, 4});
  EXPECT_THROW(concatenate(std::vector<array>{}, 0), std::invalid_argument);
  EXPECT_THROW(concatenate({a, b}, 0), std::invalid_argument);  // (2,3) vs (2,4) off-axis
  EXPECT_NO_THROW(concatenate({a, b}, 1));
  EXPECT_THROW(concatenate({a, zeros({2, 3, 1})}, 0), std::invalid_argument);  // ndim
  EXPECT_THROW(concatenate({a, a}, 2), std::invalid_argument);
  EXPECT_THROW(concatenate({a, a}, -3), std::invalid_argument);
  EXPECT_THROW(concatenate({array(1), array(2)}, 0), std::invalid_argument);  // 0-d
  try {
    concatenate({a, b}, 0);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[concatenate]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("(2,4)"), std::string::npos);
  }
}

TEST(Stack, AxesScalarsAndErrors) {
  array a({1, 2, 3}), b({4, 5, 6});
  EXPECT_EQ(stack({a, b}).shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(stack({a, b})), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(iv(stack({a, b}, 1)), (V{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(iv(stack({a, b}, -1)), (V{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(iv(stack({array(1), array(2), array(3)})), (V{1, 2, 3}));
  EXPECT_THROW(stack({a, array({1, 2})}), std::invalid_argument);
  EXPECT_THROW(stack(std::vector<array>{}), std::invalid_argument);
  EXPECT_THROW(stack({a, b}, 2), std::invalid_argument);
}

TEST(Split, EqualPartsIndicesAndViews) {
  array a = iota({6, 2});
  auto parts = split(a, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(iv(parts[1]), (V{4, 5, 6, 7}));
  parts[1].eval();
  EXPECT_EQ(parts[1].data<int>(), a.data<int>() + 4);  // a view
  parts = split(a, 2, -1);
  EXPECT_EQ(iv(parts[1]), (V{1, 3, 5, 7, 9, 11}));
  // Split points with NumPy slice semantics: negative, out of range, decreasing.
  array v = arange(10);
  parts = split(v, Shape{3, -3, 20, 5});
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(iv(parts[0]), (V{0, 1, 2}));
  EXPECT_EQ(iv(parts[1]), (V{3, 4, 5, 6}));
  EXPECT_EQ(iv(parts[2]), (V{7, 8, 9}));
  EXPECT_EQ(parts[3].size(), 0u);  // [20:5]
  EXPECT_EQ(iv(parts[4]), (V{5, 6, 7, 8, 9}));
  EXPECT_EQ(split(zeros({0, 2}), 2).size(), 2u);
  EXPECT_THROW(split(v, 3), std::invalid_argument);
  EXPECT_THROW(split(v, 0), std::invalid_argument);
  EXPECT_THROW(split(v, 2, 1), std::invalid_argument);
}

TEST(Pad, ConstantValuesAxesAndLayouts) {
  array a({1, 2, 3, 4}, {2, 2});
  auto p = pad(a, 1);
  EXPECT_EQ(p.shape(), (Shape{4, 4}));
  EXPECT_EQ(iv(p), (V{0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0}));
  p = pad(a, {{0, 1}, {2, 0}}, array(9));
  EXPECT_EQ(iv(p), (V{9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9}));
  // Chosen axes; the pad value is cast to a's dtype.
  p = pad(astype(a, float32), {1}, {1}, {1}, array(2.5));
  EXPECT_EQ(p.dtype(), float32);
  test::expect_close(p, {2.5, 1, 2, 2.5, 2.5, 3, 4, 2.5});
  EXPECT_EQ(pad(a, {-1}, {1}, {0}, array(7)).shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(pad(a, std::pair<int, int>{0, 1}, array(5))), (V{1, 2, 5, 3, 4, 5, 5, 5, 5}));
  // Transposed input.
  EXPECT_EQ(iv(pad(transpose(a), {{1, 0}, {0, 0}})), (V{0, 0, 1, 3, 2, 4}));
  // Empty input: all padding.
  p = pad(zeros({0, 2}, int32), 1, array(3));
  EXPECT_EQ(p.shape(), (Shape{2, 4}));
  EXPECT_EQ(iv(p), (V{3, 3, 3, 3, 3, 3, 3, 3}));
  // Zero widths give the input back; a 0-d array has nothing to pad.
  EXPECT_TRUE(pad(a, 0).is_same(a));
  EXPECT_EQ(pad(array(4), 2).shape(), Shape{});
}

TEST(Pad, EdgeAndErrors) {
  array a({1, 2, 3, 4, 5, 6}, {2, 3});
  auto p = pad(a, {{1, 1}, {2, 1}}, array(0), "edge");
  EXPECT_EQ(p.shape(), (Shape{4, 6}));
  EXPECT_EQ(iv(p), (V{1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6}));
  EXPECT_THROW(pad(zeros({0, 2}), 1, array(0), "edge"), std::invalid_argument);
  EXPECT_THROW(pad(a, {{1, -1}, {0, 0}}), std::invalid_argument);
  EXPECT_THROW(pad(a, {{1, 1}}), std::invalid_argument);  // one pair for 2 dims
  EXPECT_THROW(pad(a, std::vector<int>{0, 1}, Shape{1}, Shape{1}), std::invalid_argument);
  EXPECT_THROW(pad(a, std::vector<int>{0, 0}, Shape{1, 1}, Shape{1, 1}), std::invalid_argument);  // repeated axis
  EXPECT_THROW(pad(a, std::vector<int>{2}, Shape{1}, Shape{1}), std::invalid_argument);
  EXPECT_THROW(pad(a, 1, array({1, 2})), std::invalid_argument);
  EXPECT_THROW(pad(a, 1, array(0), "reflect"), std::invalid_argument);
}

TEST(RepeatTile, ValuesEmptyAndErrors) {
  array a({1, 2, 3});
  EXPECT_EQ(iv(repeat(a, 2)), (V{1, 1, 2, 2, 3, 3}));
  array m({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(iv(repeat(m, 2, 0)), (V{1, 2, 1, 2, 3, 4, 3, 4}));
  EXPECT_EQ(iv(repeat(m, 2, -1)), (V{1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_EQ(iv(repeat(transpose(m), 2)), (V{1, 1, 3, 3, 2, 2, 4, 4}));
  EXPECT_EQ(repeat(m, 0, 1).shape(), (Shape{2, 0}));
  EXPECT_EQ(iv(repeat(array(7), 3)), (V{7, 7, 7}));
  EXPECT_THROW(repeat(a, -1), std::invalid_argument);
  EXPECT_THROW(repeat(a, 2, 1), std::invalid_argument);

  EXPECT_EQ(iv(tile(array({1, 2}), {3})), (V{1, 2, 1, 2, 1, 2}));
  auto t = tile(array({1, 2}), {2, 2});
  EXPECT_EQ(t.shape(), (Shape{2, 4}));
  EXPECT_EQ(iv(t), (V{1, 2, 1, 2, 1, 2, 1, 2}));
  EXPECT_EQ(iv(tile(m, {2})), (V{1, 2, 1, 2, 3, 4, 3, 4}));
  EXPECT_EQ(tile(m, {0, 1}).shape(), (Shape{0, 2}));
  EXPECT_EQ(tile(array(5), {2, 1}).shape(), (Shape{2, 1}));
  EXPECT_THROW(tile(m, {-1}), std::invalid_argument);
}

TEST(RollFlip, ValuesAndErrors) {
  array v = arange(5);
  EXPECT_EQ(iv(roll(v, 2)), (V{3, 4, 0, 1, 2}));
  EXPECT_EQ(iv(roll(v, -1)), (V{1, 2, 3, 4, 0}));
  EXPECT_EQ(iv(roll(v, 12)), (V{3, 4, 0, 1, 2}));
  EXPECT_EQ(iv(roll(v, 5)), (V{0, 1, 2, 3, 4}));
  array m = iota({2, 3});
  EXPECT_EQ(iv(roll(m, 1)), (V{5, 0, 1, 2, 3, 4}));  // flattened, shape kept
  EXPECT_EQ(roll(m, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(roll(m, 1, 1)), (V{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(iv(roll(m, 1, std::vector<int>{0, 1})), (V{5, 3, 4, 2, 0, 1}));
  EXPECT_EQ(iv(roll(m, Shape{1, -1}, {-1, 0})), (V{5, 3, 4, 2, 0, 1}));
  EXPECT_EQ(roll(zeros({0, 3}), 2, 0).shape(), (Shape{0, 3}));
  EXPECT_THROW(roll(m, Shape{1, 2, 3}, {0, 1}), std::invalid_argument);
  EXPECT_THROW(roll(m, 1, 2), std::invalid_argument);

  EXPECT_EQ(iv(flip(m, {1})), (V{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(iv(flip(m)), (V{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(iv(flip(transpose(m), {-1})), (V{3, 0, 4, 1, 5, 2}));
  EXPECT_THROW(flip(m, {2}), std::invalid_argument);
}

TEST(AtLeast, Shapes) {
  array s(1.0f), v({1, 2}), m = zeros({2, 3}), t = zeros({2, 3, 4});
  EXPECT_EQ(atleast_1d(s).shape(), (Shape{1}));
  EXPECT_EQ(atleast_1d(v).shape(), (Shape{2}));
  EXPECT_EQ(atleast_2d(s).shape(), (Shape{1, 1}));
  EXPECT_EQ(atleast_2d(v).shape(), (Shape{1, 2}));
  EXPECT_EQ(atleast_2d(t).shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(atleast_3d(s).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(atleast_3d(v).shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(atleast_3d(m).shape(), (Shape{2, 3, 1}));
  auto all = atleast_2d(std::vector<array>{s, v, t});
  EXPECT_EQ(all[0].shape(), (Shape{1, 1}));
  EXPECT_EQ(all[2].shape(), (Shape{2, 3, 4}));
}

TEST(Meshgrid, SparseIndexingAndErrors) {
  array x({1, 2, 3}), y({4, 5});
  auto g = meshgrid({x, y});
  EXPECT_EQ(g[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(iv(g[0]), (V{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(iv(g[1]), (V{4, 4, 4, 5, 5, 5}));
  g = meshgrid({x, y}, false, "ij");
  EXPECT_EQ(g[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(iv(g[1]), (V{4, 5, 4, 5, 4, 5}));
  g = meshgrid({x, y}, true);
  EXPECT_EQ(g[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(g[1].shape(), (Shape{2, 1}));
  EXPECT_EQ(meshgrid({x}).at(0).shape(), (Shape{3}));
  EXPECT_THROW(meshgrid({x, y}, false, "yx"), std::invalid_argument);
}

// Materialized transposes (the copy kernel's tiled path when the source is
// contiguous along another axis than the result's last): every element
// against its index arithmetic, for 2-, 4- and 8-byte dtypes (and int8,
// which takes the plain walk), tile remainders along both axes, strided and
// flipped sources and batch axes between the two.
TEST(Copy, TransposesEveryLayout) {
  struct Case {
    Shape shape;
    std::vector<int> perm;
  };
  const std::vector<Case> cases = {{{37, 45}, {1, 0}},
                                   {{8, 8}, {1, 0}},
                                   {{64, 9}, {1, 0}},
                                   {{3, 19, 8, 24}, {3, 1, 0, 2}},
                                   {{2, 11, 13, 16}, {3, 1, 2, 0}},
                                   {{5, 17, 33}, {0, 2, 1}},
                                   {{5, 17, 33}, {2, 0, 1}}};
  for (Dtype t : {float32, bfloat16, float64, int16, int8, uint32}) {
    for (const auto& c : cases) {
      const int n = int(std::accumulate(c.shape.begin(), c.shape.end(), int64_t(1), std::multiplies<>()));
      // Values exact in every dtype: i % 101 (bfloat16 holds integers to 256).
      array src = astype(remainder(arange(n), array(101)), t);
      src = reshape(src, c.shape);
      // Plain, every other row of the first axis, and the last axis flipped.
      for (int variant = 0; variant < 3; ++variant) {
        array v = src;
        if (variant == 1) {
          Shape start(c.shape.size(), 0), stop = c.shape, step(c.shape.size(), 1);
          step[0] = 2;
          v = slice(src, start, stop, step);
        } else if (variant == 2) {
          v = flip(src, {int(c.shape.size()) - 1});
        }
        array out = contiguous(transpose(v, c.perm));
        auto got = astype(out, float64).to_vector<double>();
        const Shape& vs = v.shape();
        Shape os = out.shape();
        for (size_t i = 0; i < got.size(); ++i) {
          // The result's index, then the source's element it reads.
          std::vector<int64_t> idx(os.size());
          size_t r = i;
          for (size_t d = os.size(); d-- > 0;) idx[d] = int64_t(r % size_t(os[d])), r /= size_t(os[d]);
          std::vector<int64_t> vi(vs.size());
          for (size_t d = 0; d < os.size(); ++d) vi[size_t(c.perm[d])] = idx[d];
          if (variant == 1) vi[0] *= 2;
          if (variant == 2) vi.back() = c.shape.back() - 1 - vi.back();
          int64_t flat = 0;
          for (size_t d = 0; d < vi.size(); ++d) flat = flat * c.shape[d] + vi[d];
          ASSERT_EQ(got[i], double(flat % 101)) << dtype_name(t) << " case " << &c - cases.data() << " variant "
                                                << variant << " at " << i;
        }
      }
    }
  }
}
