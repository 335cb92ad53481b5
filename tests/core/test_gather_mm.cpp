// gather_mm and segmented_mm against float64 loops written here: every pair
// (or segment) of the result is the product of the matrices its indices (or
// bounds) pick. Index broadcasting and defaults, 1-D operands, strided and
// broadcast operands, the sorted fast path (runs of one rhs index), every
// float dtype; gradients against finite differences; vmap against the loop;
// errors for bad arguments and out-of-range indices.
#include <gtest/gtest.h>

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

std::vector<double> values(const array& a) { return astype(a, float64).to_vector<double>(); }
std::vector<int64_t> ints(const array& a) { return astype(a, int64).to_vector<int64_t>(); }

// The matrices of x (..., R, C) as row-major float64 blocks.
struct Mats {
  std::vector<double> v;
  int64_t R, C;
  const double* at(int64_t i) const { return v.data() + i * R * C; }
};
Mats mats(const array& x) { return {values(x), x.shape(-2), x.shape(-1)}; }

// out (M, N) += a (M, K) @ b (K, N), all row-major.
void mm_add(const double* a, const double* b, double* out, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) out[i * N + j] += a[i * K + k] * b[k * N + j];
}

// gather_mm's definition: I = broadcast(lhs, rhs), out[i] = a[lhs[i]] @ b[rhs[i]].
std::vector<double> gather_ref(const array& a, const array& b, const array& lhs, const array& rhs) {
  Mats A = mats(a), B = mats(b);
  Shape I = broadcast_shapes(lhs.shape(), rhs.shape());
  auto l = ints(broadcast_to(lhs, I)), r = ints(broadcast_to(rhs, I));
  std::vector<double> out(l.size() * size_t(A.R * B.C), 0.0);
  for (size_t i = 0; i < l.size(); ++i) mm_add(A.at(l[i]), B.at(r[i]), out.data() + i * A.R * B.C, A.R, A.C, B.C);
  return out;
}

array iota(int n) { return arange(0.0, double(n), 1.0, uint32); }

}  // namespace

TEST(GatherMM, EachPairIsTheProductOfItsMatrices) {
  struct Case {
    Shape batch_a;
    std::optional<array> lhs;
    Shape batch_b;
    std::optional<array> rhs;
  };
  std::vector<Case> cases{
      {{1}, array({0}), {3}, array({2, 1})},
      {{1}, std::nullopt, {3}, array({2, 1})},
      {{2}, std::nullopt, {3}, array({2, 1})},
      {{3}, array({0, 2}), {1}, array({0})},
      {{5}, astype(array({0, 2}), int64), {3}, astype(array({2, 1}), uint8)},
      {{4, 2}, array({7, 6, 5, 4, 1, 2}, {3, 2}), {4, 1}, array({2, 0, 1}, {3, 1})},
      {{2, 3}, array(4), {3}, std::nullopt},  // a scalar index broadcast to B's (3,)
  };
  for (auto [M, N, K] : {std::tuple{5, 4, 6}, std::tuple{3, 1, 7}}) {
    for (auto& c : cases) {
      SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N) + " batch_a " + shape_str(c.batch_a));
      Shape sa = c.batch_a, sb = c.batch_b;
      sa.insert(sa.end(), {M, K});
      sb.insert(sb.end(), {K, N});
      array a = randn(sa, float32), b = randn(sb, float32);
      array y = gather_mm(a, b, c.lhs, c.rhs);
      auto count = [](const Shape& s) {
        int n = 1;
        for (auto d : s) n *= d;
        return n;
      };
      array lhs = c.lhs ? *c.lhs : reshape(iota(count(c.batch_a)), c.batch_a);
      array rhs = c.rhs ? *c.rhs : reshape(iota(count(c.batch_b)), c.batch_b);
      Shape want = broadcast_shapes(lhs.shape(), rhs.shape());
      want.insert(want.end(), {M, N});
      ASSERT_EQ(y.shape(), want);
      EXPECT_EQ(y.dtype(), float32);
      expect_close(y, gather_ref(a, b, lhs, rhs), 1e-5, 1e-5);
    }
  }
}

TEST(GatherMM, EveryFloatDtypePromotes) {
  array a = randn({3, 4, 16}, float32), b = randn({2, 16, 5}, float32);
  array lhs = array({2, 0, 1, 1}), rhs = array({1, 1, 0, 1});
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    SCOPED_TRACE(dtype_name(t));
    array at = astype(a, t), bt = astype(b, t);
    array y = gather_mm(at, bt, lhs, rhs);
    EXPECT_EQ(y.dtype(), t);
    double tol = t == float64 ? 1e-12 : t == float32 ? 1e-5 : 8 * rtol_for(t);
    expect_close(y, gather_ref(at, bt, lhs, rhs), tol, tol * 4);
  }
  EXPECT_EQ(gather_mm(astype(a, float16), b, lhs, rhs).dtype(), float32);
  EXPECT_EQ(gather_mm(astype(a, bfloat16), astype(b, float16), lhs, rhs).dtype(), float32);
}

TEST(GatherMM, StridedAndBroadcastOperands) {
  // MLX's test: a (5, 1) broadcast to (5, 4), b broadcast and swapped.
  array a0 = randn({5, 1, 8, 8}, float32), b0 = randn({1, 3, 8, 8}, float32);
  array a = broadcast_to(a0, {5, 4, 8, 8});
  array b = swapaxes(broadcast_to(b0, {2, 3, 8, 8}), 1, 0);
  array lhs = array({0, 13, 12}), rhs = array({0, 3, 5});
  expect_close(gather_mm(a, b, lhs, rhs), gather_ref(a, b, lhs, rhs), 1e-5, 1e-5);
  // Transposed matrices (x @ W.T through a view) and a sliced a.
  array w = randn({3, 6, 8}, float32);
  array x = slice(randn({5, 2, 9}, float32), {0, 0, 1}, {5, 2, 9});
  array lx = array({3, 1, 4}), rw = array({0, 2, 2});
  expect_close(gather_mm(x, swapaxes(w, -1, -2), lx, rw), gather_ref(x, swapaxes(w, -1, -2), lx, rw), 1e-5, 1e-5);
}

TEST(GatherMM, VectorOperandsLoseTheirInsertedDimension) {
  array v = randn({6}, float32), b = randn({3, 6, 4}, float32);
  array y = gather_mm(v, b, std::nullopt, array({2, 0}));
  ASSERT_EQ(y.shape(), (Shape{2, 4}));
  expect_close(y, gather_ref(reshape(v, {1, 6}), b, array(0), array({2, 0})), 1e-5, 1e-5);
  array a = randn({2, 3, 6}, float32), u = randn({6}, float32);
  array z = gather_mm(a, u, array({1, 1, 0}), std::nullopt);
  ASSERT_EQ(z.shape(), (Shape{3, 3}));
  expect_close(z, gather_ref(a, reshape(u, {6, 1}), array({1, 1, 0}), array(0)), 1e-5, 1e-5);
}

TEST(GatherMM, WithoutIndicesItIsMatmul) {
  array a = randn({2, 3, 4}, float32), b = randn({4, 5}, float32);
  expect_close(gather_mm(a, b), values(matmul(a, b)), 0, 0);
}

TEST(GatherMM, RunsOfOneRhsIndex) {
  // The mixture-of-experts layout: one row per token, experts sorted, as
  // one product per run; M > 1 runs over a contiguous a; runs over a
  // transposed a (not one matrix: a product per pair); runs that are not
  // sorted, with and without the sorted flag.
  array experts = randn({4, 32, 24}, float32);
  array rhs = array({0, 0, 0, 1, 3, 3, 3, 3, 3, 2, 2, 0});
  for (auto a : {randn({12, 1, 32}, float32), randn({12, 3, 32}, float32),
                 swapaxes(randn({12, 32, 3}, float32), -1, -2), broadcast_to(randn({1, 2, 32}, float32), {12, 2, 32})}) {
    SCOPED_TRACE(shape_str(a.shape()));
    auto want = gather_ref(a, experts, iota(12), rhs);
    expect_close(gather_mm(a, experts, std::nullopt, rhs), want, 1e-5, 1e-5);
    expect_close(gather_mm(a, experts, std::nullopt, rhs, true), want, 1e-5, 1e-5);
  }
  // Runs through explicit lhs indices: consecutive, repeated and reversed.
  array a = randn({6, 2, 32}, float32);
  for (auto lhs : {array({0, 1, 2, 3, 4, 5}), array({1, 1, 1, 2, 2, 2}), array({5, 4, 3, 2, 1, 0})}) {
    array r = array({1, 1, 1, 1, 0, 0});
    expect_close(gather_mm(a, experts, lhs, r), gather_ref(a, experts, lhs, r), 1e-5, 1e-5);
  }
  // bfloat16 runs through the half kernels.
  array ab = astype(randn({12, 1, 32}, float32), bfloat16), eb = astype(experts, bfloat16);
  expect_close(gather_mm(ab, eb, std::nullopt, rhs, true), gather_ref(ab, eb, iota(12), rhs), 2e-2, 5e-2);
}

TEST(GatherMM, GradientsInFloat64) {
  array a = randn({4, 2, 3, 5}), b = randn({4, 1, 5, 4});
  array lhs = array({7, 6, 4, 1, 0, 2, 7, 7}, {4, 2}), rhs = array({2, 0, 1, 2}, {4, 1});
  check_grad([&](const array& x) { return gather_mm(x, b, lhs, rhs); }, a);
  check_grad([&](const array& x) { return gather_mm(a, x, lhs, rhs); }, b);
  // Sorted and unsorted rhs with the default lhs, the flag given or not,
  // and broadcast index arrays.
  array x = randn({6, 2, 5}), w = randn({3, 5, 4});
  for (auto r : {array({0, 0, 1, 2, 2, 2}), array({2, 0, 1, 0, 2, 1})}) {
    for (bool sorted : {false, true}) {
      check_grad([&](const array& v) { return gather_mm(v, w, std::nullopt, r, sorted); }, x);
      check_grad([&](const array& v) { return gather_mm(x, v, std::nullopt, r, sorted); }, w);
    }
  }
  array xb = randn({1, 2, 5});
  check_grad([&](const array& v) { return gather_mm(xb, v, std::nullopt, array({1, 1, 0})); }, w);
  check_grad([&](const array& v) { return gather_mm(v, w, std::nullopt, array({1, 1, 0})); }, xb);
  // 1-D operands, and the rules of the rules (through segmented_mm's).
  check_grad([&](const array& v) { return gather_mm(v, w, std::nullopt, array({2, 0})); }, randn({5}));
  check_vjp_of_vjp([&](const array& v) { return gather_mm(x, v, std::nullopt, array({0, 0, 1, 2, 2, 1})); }, w);
  check_vjp_of_vjp([&](const array& v) { return gather_mm(v, w, array({1, 1, 0}), array({0, 2, 2})); }, x);
}

TEST(GatherMM, IndicesAreNotDifferentiable) {
  array a = ones({4, 1, 2, 2}), b = ones({4, 1, 2, 2});
  array w = array({3.0, 1.0, 2.0, 0.0}), cot = ones({1, 2, 2, 2}, float32);
  auto f = [&](const array& v) {
    array idx = reshape(slice(argsort(v), {0}, {2}), {1, 2});
    return gather_mm(a, b, idx, idx);
  };
  EXPECT_EQ(error_of([&] { uma::vjp(f, w, cot); }),
            "[GatherMM] is not differentiable with respect to its indices; wrap it in stop_gradient");
  auto stopped = [&](const array& v) {
    array idx = stop_gradient(reshape(slice(argsort(v), {0}, {2}), {1, 2}));
    return gather_mm(a, b, idx, idx);
  };
  expect_close(uma::vjp(stopped, w, cot).second, {0, 0, 0, 0});
}

TEST(GatherMM, VmapOverOperandsAndIndices) {
  array a = randn({3, 4, 2, 5}, float32), b = randn({3, 2, 5, 6}, float32);
  array lhs = astype(array({3, 0, 1, 2, 2, 1}, {3, 2}), int32), rhs = astype(array({1, 0, 0, 1, 1, 1}, {3, 2}), uint8);
  auto f = [](const std::vector<array>& xs) { return std::vector<array>{gather_mm(xs[0], xs[1], xs[2], xs[3])}; };
  array a1 = slice(a, {0, 0, 0, 0}, {1, 4, 2, 5}), b1 = slice(b, {0, 0, 0, 0}, {1, 2, 5, 6});
  array a0 = squeeze(a1, 0), b0 = squeeze(b1, 0), l0 = array({0, 3}), r0 = array({1, 0});
  expect_vmap(f, {a, b0, l0, r0}, {0, -1, -1, -1}, {}, 1e-5, 1e-5, "a");
  expect_vmap(f, {a0, b, l0, r0}, {-1, 0, -1, -1}, {}, 1e-5, 1e-5, "b");
  expect_vmap(f, {a0, b0, lhs, rhs}, {-1, -1, 0, 0}, {}, 1e-5, 1e-5, "indices");
  expect_vmap(f, {a, b, lhs, rhs}, {0, 0, 0, 0}, {}, 1e-5, 1e-5, "all");
  expect_vmap(f, {moveaxis(a, 0, 2), b, transpose(lhs), rhs}, {2, 0, 1, 0}, {1}, 1e-5, 1e-5, "moved axes");
  expect_vmap(f, {a, b0, lhs, r0}, {0, -1, 0, -1}, {}, 1e-5, 1e-5, "a and lhs");
}

TEST(GatherMM, ErrorsNameTheArgument) {
  array a = ones({3, 2, 4}), b = ones({2, 4, 5});
  EXPECT_EQ(error_of([&] { gather_mm(array(1.f), b, array({0})); }),
            "[gather_mm] a and b need at least one dimension, got shapes () and (2,4,5)");
  EXPECT_EQ(error_of([&] { gather_mm(a, ones({2, 3, 5}), array({0})); }),
            "[gather_mm] the last dimension of a (3,2,4) must equal the second to last of b (2,3,5)");
  EXPECT_EQ(error_of([&] { gather_mm(astype(a, int32), astype(b, int32), array({0})); }),
            "[gather_mm] only real floating point types multiply, but int32 and int32 give int32");
  EXPECT_EQ(error_of([&] { gather_mm(astype(a, complex64), b, array({0})); }),
            "[gather_mm] only real floating point types multiply, but complex64 and float32 give complex64");
  EXPECT_EQ(error_of([&] { gather_mm(a, b, array({0.f})); }),
            "[gather_mm] lhs_indices must have an integer dtype, got float32");
  EXPECT_EQ(error_of([&] { gather_mm(a, b, std::nullopt, array({true})); }),
            "[gather_mm] rhs_indices must have an integer dtype, got bool");
  EXPECT_EQ(error_of([&] { gather_mm(a, b, array({0, 1, 2}), array({0, 1})); }),
            "[gather_mm] lhs_indices (3) and rhs_indices (2) do not broadcast together");
  // Out of range: when computed, naming the index and its position.
  EXPECT_EQ(error_of([&] { gather_mm(a, b, array({0, 3}), array({1, 1})).eval(); }),
            "[gather_mm] lhs_indices holds 3 (flat position 1), out of range for the 3 matrices of a");
  EXPECT_EQ(error_of([&] { gather_mm(a, b, array({0, 1}), array({-1, 1})).eval(); }),
            "[gather_mm] rhs_indices holds -1 (flat position 0), out of range for the 2 matrices of b");
}

// ------------------------------------------------------------ segmented_mm

namespace {

// out[s] = a[:, k0:k1] @ b[k0:k1, :], zero when k1 <= k0.
std::vector<double> segmented_ref(const array& a, const array& b, const array& segments) {
  auto A = values(a), B = values(b);
  auto seg = ints(segments);
  const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  std::vector<double> out(seg.size() / 2 * size_t(M * N), 0.0);
  for (size_t s = 0; s < seg.size() / 2; ++s) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = seg[2 * s]; k < seg[2 * s + 1]; ++k)
        for (int64_t j = 0; j < N; ++j) out[s * size_t(M * N) + size_t(i * N + j)] += A[size_t(i * K + k)] * B[size_t(k * N + j)];
  }
  return out;
}

}  // namespace

TEST(SegmentedMM, EachSegmentIsItsSliceOfK) {
  for (int K : {1, 10, 300}) {
    array seg = array({0, 0, 0, K / 2, K / 2, K, 0, K, K / 3, K / 3 + 1, K, 0}, {6, 2});
    for (int layout = 0; layout < 4; ++layout) {
      array a = layout & 1 ? transpose(randn({K, 7}, float32)) : randn({7, K}, float32);
      array b = layout & 2 ? transpose(randn({5, K}, float32)) : randn({K, 5}, float32);
      SCOPED_TRACE("K=" + std::to_string(K) + " layout " + std::to_string(layout));
      array y = segmented_mm(a, b, seg);
      ASSERT_EQ(y.shape(), (Shape{6, 7, 5}));
      expect_close(y, segmented_ref(a, b, seg), 1e-5, 1e-4);
    }
  }
  // Segments of any shape (..., 2) and integer dtype.
  array a = randn({3, 8}, float32), b = randn({8, 2}, float32);
  array seg = astype(array({0, 2, 2, 5, 5, 8, 1, 7}, {2, 2, 2}), uint8);
  array y = segmented_mm(a, b, seg);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3, 2}));
  expect_close(y, segmented_ref(a, b, seg), 1e-5, 1e-5);
}

TEST(SegmentedMM, EveryFloatDtype) {
  array a = randn({4, 64}, float32), b = randn({64, 3}, float32);
  array seg = array({0, 16, 16, 64, 8, 40}, {3, 2});
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    array at = astype(a, t), bt = astype(b, t);
    array y = segmented_mm(at, bt, seg);
    EXPECT_EQ(y.dtype(), t);
    double tol = t == float64 ? 1e-12 : t == float32 ? 1e-5 : 8 * rtol_for(t);
    expect_close(y, segmented_ref(at, bt, seg), tol, 8 * tol);
  }
  EXPECT_EQ(segmented_mm(astype(a, bfloat16), b, seg).dtype(), float32);
}

TEST(SegmentedMM, GradientsInFloat64) {
  array a = randn({3, 9}), b = randn({9, 4});
  array seg = array({0, 4, 4, 9, 2, 7, 5, 5, 6, 3}, {5, 2});  // overlapping, empty and reversed
  check_grad([&](const array& x) { return segmented_mm(x, b, seg); }, a);
  check_grad([&](const array& x) { return segmented_mm(a, x, seg); }, b);
  check_vjp_of_vjp([&](const array& x) { return segmented_mm(a, x, seg); }, b);
  check_vjp_of_vjp([&](const array& x) { return segmented_mm(x, b, seg); }, a);
}

TEST(SegmentedMM, VmapOverOperandsAndSegments) {
  array a = randn({3, 4, 6}, float32), b = randn({3, 6, 2}, float32);
  array seg = array({0, 3, 3, 6, 1, 5, 0, 6, 2, 2, 4, 6, 0, 1, 1, 6, 2, 4, 0, 0, 6, 6, 0, 6}, {3, 4, 2});
  array a0 = randn({4, 6}, float32), b0 = randn({6, 2}, float32), s0 = array({0, 2, 2, 6}, {2, 2});
  auto f = [](const std::vector<array>& xs) { return std::vector<array>{segmented_mm(xs[0], xs[1], xs[2])}; };
  expect_vmap(f, {a, b0, s0}, {0, -1, -1}, {}, 1e-5, 1e-5, "a");
  expect_vmap(f, {a0, b, s0}, {-1, 0, -1}, {}, 1e-5, 1e-5, "b");
  expect_vmap(f, {a0, b0, seg}, {-1, -1, 0}, {}, 1e-5, 1e-5, "segments");
  expect_vmap(f, {a, b, seg}, {0, 0, 0}, {}, 1e-5, 1e-5, "all");
  expect_vmap(f, {moveaxis(a, 0, 2), moveaxis(b, 0, 1), moveaxis(seg, 0, 1)}, {2, 1, 1}, {2}, 1e-5, 1e-5, "moved");
  // A bound out of range stays an error under vmap.
  array bad = array({0, 3, 3, 7, 1, 5, 0, 6, 2, 2, 4, 6, 0, 1, 1, 6, 2, 4, 0, 0, 6, 6, 0, 6}, {3, 4, 2});
  EXPECT_NE(error_of([&] { vmap(f, {0, 0, 0})({a, b, bad})[0].eval(); }).find("[segmented_mm] segments holds"),
            std::string::npos);
}

TEST(SegmentedMM, ErrorsNameTheArgument) {
  array a = ones({3, 8}), b = ones({8, 2}), seg = array({0, 4}, {1, 2});
  EXPECT_EQ(error_of([&] { segmented_mm(ones({2, 3, 8}), b, seg); }),
            "[segmented_mm] a and b must be matrices (batched products are not supported), got shapes (2,3,8) and "
            "(8,2)");
  EXPECT_EQ(error_of([&] { segmented_mm(a, ones({7, 2}), seg); }),
            "[segmented_mm] the last dimension of a (3,8) must equal the first of b (7,2)");
  EXPECT_EQ(error_of([&] { segmented_mm(a, b, array({0, 4, 8})); }),
            "[segmented_mm] segments must have shape (..., 2) of (start, end) pairs, got (3)");
  EXPECT_EQ(error_of([&] { segmented_mm(a, b, array({0.f, 4.f}, {1, 2})); }),
            "[segmented_mm] segments must have an integer dtype, got float32");
  EXPECT_EQ(error_of([&] { segmented_mm(astype(a, int32), astype(b, uint8), seg); }).substr(0, 14), "[segmented_mm]");
  EXPECT_EQ(error_of([&] { segmented_mm(a, b, array({0, 4, 4, 9}, {2, 2})).eval(); }),
            "[segmented_mm] segments holds 9 (flat position 3), outside [0, 8] for the K = 8 columns of a");
  EXPECT_EQ(error_of([&] { segmented_mm(a, b, array({-1, 4}, {1, 2})).eval(); }),
            "[segmented_mm] segments holds -1 (flat position 0), outside [0, 8] for the K = 8 columns of a");
}
