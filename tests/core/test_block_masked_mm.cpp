// block_masked_mm against a float64 loop written here: out = ((a * L) @
// (b * R)) * O with each mask entry spread over its block, a false boolean
// entry zeroing its block (inf and NaN there too) and a numeric one
// multiplying it. Edge blocks, block sizes 32 and 64, batch broadcasting,
// 1-D and transposed operands, mixed mask dtypes, every float dtype;
// gradients for the operands and the float masks; vmap; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/error_util.h"
#include "core/grad_util.h"
#include "core/util.h"
#include "core/vmap_util.h"
#include "uma/core/utils.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::test;

namespace {

using Mask = std::optional<array>;

std::vector<double> values(const array& a) { return astype(a, float64).to_vector<double>(); }

// A mask broadcast to (batch..., rows, cols), as float64 values; `zeroes`
// when false entries zero their block (a boolean mask).
struct HostMask {
  std::vector<double> v;
  int64_t rows = 0, cols = 0;
  bool zeroes = false;
  double at(int64_t i, int64_t r, int64_t c) const { return v[size_t((i * rows + r) * cols + c)]; }
  double apply(int64_t i, int64_t r, int64_t c, double x) const {
    if (v.empty()) return x;
    double m = at(i, r, c);
    return zeroes ? (m != 0 ? x : 0.0) : x * m;
  }
};

HostMask host_mask(const Mask& m, Shape batch, int64_t rows, int64_t cols, bool zeroes) {
  if (!m) return {};
  batch.insert(batch.end(), {int32_t(rows), int32_t(cols)});
  return {values(broadcast_to(*m, batch)), rows, cols, zeroes};
}

// The definition, for 2-D or batched operands.
std::vector<double> reference(const array& a, const array& b, int bs, const Mask& O, const Mask& L, const Mask& R) {
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2), Shape(b.shape().begin(), b.shape().end() - 2));
  const int64_t M = a.shape(-2), K = a.shape(-1), N = b.shape(-1);
  auto blocks = [&](int64_t n) { return (n + bs - 1) / bs; };
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {int32_t(M), int32_t(K)});
  sb.insert(sb.end(), {int32_t(K), int32_t(N)});
  auto A = values(broadcast_to(a, sa)), B = values(broadcast_to(b, sb));
  bool operand_bool = (!L || L->dtype() == bool_) && (!R || R->dtype() == bool_);
  HostMask o = host_mask(O, batch, blocks(M), blocks(N), O && O->dtype() == bool_);
  HostMask l = host_mask(L ? L : (R ? Mask(array(true)) : std::nullopt), batch, blocks(M), blocks(K), operand_bool);
  HostMask r = host_mask(R ? R : (L ? Mask(array(true)) : std::nullopt), batch, blocks(K), blocks(N), operand_bool);
  int64_t nb = 1;
  for (auto d : batch) nb *= d;
  std::vector<double> out(size_t(nb * M * N));
  std::vector<double> am(size_t(M * K)), bm(size_t(K * N));
  for (int64_t i = 0; i < nb; ++i) {
    for (int64_t x = 0; x < M; ++x)
      for (int64_t k = 0; k < K; ++k) am[size_t(x * K + k)] = l.apply(i, x / bs, k / bs, A[size_t((i * M + x) * K + k)]);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t y = 0; y < N; ++y) bm[size_t(k * N + y)] = r.apply(i, k / bs, y / bs, B[size_t((i * K + k) * N + y)]);
    for (int64_t x = 0; x < M; ++x) {
      for (int64_t y = 0; y < N; ++y) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += am[size_t(x * K + k)] * bm[size_t(k * N + y)];
        out[size_t((i * M + x) * N + y)] = o.apply(i, x / bs, y / bs, s);
      }
    }
  }
  return out;
}

// {bool mask, float mask} of a grid: about half the entries off (false / 0).
std::pair<array, array> masks(Shape shape, Dtype t = float32) {
  array f = randn(shape, float32);
  array keep = greater(f, array(0.f));
  return {keep, astype(where(keep, f, array(0.f)), t)};
}

}  // namespace

TEST(BlockMaskedMM, MatchesTheDefinition) {
  struct Case {
    int M, N, K, bs;
    Shape batch_a, batch_b;
  };
  for (const Case& c : {Case{16, 16, 16, 32, {}, {}}, Case{64, 64, 16, 32, {}, {}}, Case{70, 40, 100, 32, {}, {}},
                        Case{33, 65, 64, 64, {}, {}}, Case{1, 64, 64, 32, {}, {}}, Case{64, 1, 40, 64, {}, {}},
                        Case{40, 36, 33, 32, {1, 2}, {2, 2}}, Case{1, 40, 70, 32, {2}, {}}}) {
    SCOPED_TRACE("M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
                 " bs=" + std::to_string(c.bs) + " batch " + shape_str(c.batch_a) + " " + shape_str(c.batch_b));
    Shape sa = c.batch_a, sb = c.batch_b, bo = broadcast_shapes(c.batch_a, c.batch_b);
    sa.insert(sa.end(), {c.M, c.K});
    sb.insert(sb.end(), {c.K, c.N});
    array a = randn(sa, float32), b = randn(sb, float32);
    auto g = [&](Shape batch, int r, int q) {
      batch.insert(batch.end(), {(r + c.bs - 1) / c.bs, (q + c.bs - 1) / c.bs});
      return masks(batch);
    };
    auto [lb, lf] = g(c.batch_a, c.M, c.K);
    auto [rb, rf] = g(c.batch_b, c.K, c.N);
    auto [ob, of] = g(bo, c.M, c.N);
    struct Combo {
      Mask o, l, r;
    };
    for (const Combo& m : {Combo{ob, lb, rb}, Combo{ob, {}, {}}, Combo{{}, lb, rb}, Combo{of, lf, rf},
                           Combo{{}, lf, rf}, Combo{of, {}, {}}, Combo{{}, lf, {}}, Combo{{}, {}, rb},
                           Combo{ob, lf, rb}}) {
      array y = block_masked_mm(a, b, c.bs, m.o, m.l, m.r);
      Shape want = bo;
      want.insert(want.end(), {c.M, c.N});
      ASSERT_EQ(y.shape(), want);
      EXPECT_EQ(y.dtype(), float32);
      expect_close(y, reference(a, b, c.bs, m.o, m.l, m.r), 1e-5, 1e-4);
    }
  }
}

TEST(BlockMaskedMM, TransposedAndVectorOperands) {
  // MLX's test: a.T with transposed masks, a mixed float lhs / bool rhs pair.
  array a = randn({128, 256}, float32), b = randn({128, 1}, float32), d = randn({1, 256}, float32);
  auto [ab, af] = masks({4, 8});
  array bmask = ones({4, 1}, bool_), dmask = ones({1, 8}, bool_);
  auto [cb, cf] = masks({8, 1});
  auto [eb, ef] = masks({1, 4});
  array at = transpose(a);
  expect_close(block_masked_mm(at, b, 32, cf, transpose(af), bmask), reference(at, b, 32, cf, transpose(af), bmask),
               1e-5, 1e-4);
  expect_close(block_masked_mm(d, at, 32, ef, dmask, transpose(af)), reference(d, at, 32, ef, dmask, transpose(af)),
               1e-5, 1e-4);
  // 1-D operands: a (K) is a row, b (K) a column; their masks lack that dim.
  array v = randn({70}, float32), w = randn({70, 40}, float32);
  auto [vb, vf] = masks({3});
  auto [wb, wf] = masks({3, 2});
  auto [ob, of] = masks({2});
  array y = block_masked_mm(v, w, 32, ob, vf, wb);
  ASSERT_EQ(y.shape(), (Shape{40}));
  expect_close(y, reference(reshape(v, {1, 70}), w, 32, reshape(ob, {1, 2}), reshape(vf, {1, 3}), wb), 1e-5, 1e-4);
  array u = randn({70}, float32);
  array z = block_masked_mm(v, u, 32, std::nullopt, vb, reshape(vb, {3}));
  ASSERT_EQ(z.shape(), Shape{});
  expect_close(z, reference(reshape(v, {1, 70}), reshape(u, {70, 1}), 32, {}, reshape(vb, {1, 3}), reshape(vb, {3, 1})),
               1e-5, 1e-4);
}

TEST(BlockMaskedMM, BooleanMasksZeroInfAndNaNFloatMasksMultiply) {
  // a's first block row holds inf and NaN.
  array a = where(less(arange(64 * 40), array(40)), array(INFINITY), array(1.f));
  a = reshape(where(equal(arange(64 * 40), array(7)), array(NAN), a), {64, 40});
  array b = ones({40, 32});
  array off = array({false, true}, {2, 1});
  auto y = values(block_masked_mm(a, b, 32, std::nullopt, off, ones({2, 1}, bool_)));
  EXPECT_EQ(y[0], 0.0);       // the masked block row: exactly zero
  EXPECT_EQ(y[32 * 32], 40.0);  // second block row: 40 ones
  auto z = values(block_masked_mm(a, b, 32, std::nullopt, array({0.f, 1.f}, {2, 1}), ones({2, 1})));
  EXPECT_TRUE(std::isnan(z[0]));  // inf * 0 = NaN
  // An output mask zeroes a block whose product is NaN (bool), or multiplies it.
  auto o = values(block_masked_mm(a, b, 32, array({false, true}, {2, 1})));
  EXPECT_EQ(o[0], 0.0);
  auto of = values(block_masked_mm(a, b, 32, array({0.f, 1.f}, {2, 1})));
  EXPECT_TRUE(std::isnan(of[0]));
}

TEST(BlockMaskedMM, EveryFloatDtype) {
  array a = randn({2, 40, 70}, float32), b = randn({70, 36}, float32);
  auto [lb, lf] = masks({2, 2, 3});
  auto [rb, rf] = masks({3, 2});
  auto [ob, of] = masks({2, 2});
  for (Dtype t : {float32, float64, float16, bfloat16}) {
    SCOPED_TRACE(dtype_name(t));
    array at = astype(a, t), bt = astype(b, t);
    double tol = t == float64 ? 1e-12 : t == float32 ? 1e-5 : 8 * rtol_for(t);
    for (bool fl : {false, true}) {
      Mask o = fl ? Mask(astype(of, t)) : Mask(ob), l = fl ? Mask(astype(lf, t)) : Mask(lb),
           r = fl ? Mask(astype(rf, t)) : Mask(rb);
      array y = block_masked_mm(at, bt, 32, o, l, r);
      EXPECT_EQ(y.dtype(), t);
      // Masked operands are rounded to t before the product, as the kernel does.
      expect_close(y, reference(at, bt, 32, o, l, r), tol, 10 * tol);
    }
  }
}

TEST(BlockMaskedMM, WithoutMasksItIsMatmul) {
  array a = randn({3, 40, 33}, float32), b = randn({33, 5}, float32);
  expect_close(block_masked_mm(a, b, 16), values(matmul(a, b)), 0, 0);  // no block-size check either (as MLX)
}

TEST(BlockMaskedMM, GradientsInFloat64) {
  array a = randn({2, 40, 36}), b = randn({36, 33});
  auto [ob, of] = masks({2, 2, 2}, float64);
  auto [lb, lf] = masks({2, 2, 2}, float64);
  auto [rb, rf] = masks({2, 2}, float64);
  // Random float masks (no zero entries) so every entry matters.
  of = randn({2, 2, 2}), lf = randn({2, 2, 2}), rf = randn({2, 2});
  check_grad([&](const array& x) { return block_masked_mm(x, b, 32, ob, lb, rb); }, a);
  check_grad([&](const array& x) { return block_masked_mm(a, x, 32, ob, lb, rb); }, b);
  check_grad([&](const array& x) { return block_masked_mm(x, b, 32, of, lf, rf); }, a);
  check_grad([&](const array& x) { return block_masked_mm(a, x, 32, of, std::nullopt, std::nullopt); }, b);
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, x, lf, rf); }, of);
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, x); }, of);
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, of, x, rf); }, lf);
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, ob, lf, x); }, rf);
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, std::nullopt, x, rf); }, lf);
  // A mask broadcast over the batch gets the sum over it.
  check_grad([&](const array& x) { return block_masked_mm(a, b, 32, of, lf, x); }, randn({1, 2}));
  check_vjp_of_vjp([&](const array& x) { return block_masked_mm(x, b, 32, of, lf, rf); }, a);
  check_vjp_of_vjp([&](const array& x) { return block_masked_mm(a, b, 32, of, x, rf); }, lf);
  // Boolean masks have no gradient.
  auto f = [&](const array& x) { return block_masked_mm(a, b, 32, greater(x, array(0.0))); };
  EXPECT_EQ(error_of([&] { uma::vjp(f, of, ones({2, 40, 33}, float64)); }),
            "[BlockMaskedMM] is not differentiable with respect to the boolean mask_out; wrap it in stop_gradient");
}

TEST(BlockMaskedMM, VmapOverOperandsAndMasks) {
  array a = randn({3, 40, 36}, float32), b = randn({3, 36, 33}, float32);
  auto [ob, of] = masks({3, 2, 2});
  auto [lb, lf] = masks({3, 2, 2});
  auto [rb, rf] = masks({3, 2, 2});
  array a0 = randn({40, 36}, float32), b0 = randn({36, 33}, float32);
  auto f = [](const std::vector<array>& xs) {
    return std::vector<array>{block_masked_mm(xs[0], xs[1], 32, xs[2], xs[3], xs[4])};
  };
  array o0 = squeeze(slice(of, {0, 0, 0}, {1, 2, 2}), 0), l0 = squeeze(slice(lb, {0, 0, 0}, {1, 2, 2}), 0);
  array r0 = squeeze(slice(rb, {0, 0, 0}, {1, 2, 2}), 0);
  expect_vmap(f, {a, b0, o0, l0, r0}, {0, -1, -1, -1, -1}, {}, 1e-5, 1e-4, "a");
  expect_vmap(f, {a0, b, o0, l0, r0}, {-1, 0, -1, -1, -1}, {}, 1e-5, 1e-4, "b");
  expect_vmap(f, {a0, b0, of, l0, r0}, {-1, -1, 0, -1, -1}, {}, 1e-5, 1e-4, "out mask");
  expect_vmap(f, {a0, b0, o0, lb, rb}, {-1, -1, -1, 0, 0}, {}, 1e-5, 1e-4, "operand masks");
  expect_vmap(f, {moveaxis(a, 0, 2), b, of, moveaxis(lf, 0, 1), rf}, {2, 0, 0, 1, 0}, {1}, 1e-5, 1e-4, "all");
  auto g = [](const std::vector<array>& xs) { return std::vector<array>{block_masked_mm(xs[0], xs[1], 32, xs[2])}; };
  expect_vmap(g, {a, b0, ob}, {0, -1, 0}, {}, 1e-5, 1e-4, "out mask only");
}

TEST(BlockMaskedMM, ErrorsNameTheArgument) {
  array a = ones({40, 36}), b = ones({36, 33});
  EXPECT_EQ(error_of([&] { block_masked_mm(a, b, 16, ones({2, 2}, bool_)); }),
            "[block_masked_mm] block_size must be 32 or 64, got 16");
  EXPECT_EQ(error_of([&] { block_masked_mm(a, ones({35, 33}), 32, ones({2, 2}, bool_)); }),
            "[block_masked_mm] the last dimension of a (40,36) must equal the second to last of b (35,33)");
  EXPECT_EQ(error_of([&] { block_masked_mm(a, b, 32, ones({3, 2}, bool_)); }),
            "[block_masked_mm] mask_out of shape (3,2) does not broadcast to its block grid (2,2) (blocks of 32 for "
            "M=40, N=33, K=36)");
  EXPECT_EQ(error_of([&] { block_masked_mm(a, b, 32, std::nullopt, ones({2, 1}), ones({3, 2})); }),
            "[block_masked_mm] mask_rhs of shape (3,2) does not broadcast to its block grid (2,2) (blocks of 32 for "
            "M=40, N=33, K=36)");
  EXPECT_EQ(error_of([&] { block_masked_mm(a, b, 32, ones({2, 2}, complex64)); }),
            "[block_masked_mm] mask_out must be boolean or real, got complex64");
  EXPECT_EQ(error_of([&] { block_masked_mm(astype(a, int32), astype(b, int32), 32, ones({2, 2}, bool_)); }).substr(0, 17),
            "[block_masked_mm]");
  EXPECT_EQ(error_of([&] { block_masked_mm(array(1.f), b, 32, ones({2, 2}, bool_)); }).substr(0, 17),
            "[block_masked_mm]");
}
