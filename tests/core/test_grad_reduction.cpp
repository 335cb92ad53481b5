// Gradient rules of the reduction family (Reduce, ArgReduce, Scan, Softmax,
// LogSumExp) through the transforms: vjp against finite differences in
// float64 over several axes, keepdims, non-contiguous inputs, reverse and
// exclusive scans; jvp against vjp; dtypes kept. Only the primitive under test
// (and shape primitives) lie on a differentiated path: the elementwise rules
// live on another branch. The GradAfterMerge* suite needs them (second
// derivatives through multiply, exp, ...; mean, var).
#include <gtest/gtest.h>

#include <limits>

#include "core/grad_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::check_vjp_of_vjp;
using test::randn;
using test::UnaryFn;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

// The reductions over an axes list, kept or not, and on a transposed and a
// negatively strided view of x.
void check_reduction(array (*op)(const array&, const std::vector<int>&, bool, StreamOrDevice), const array& x,
                     double rtol = 1e-6) {
  for (std::vector<int> axes : {std::vector<int>{0}, {1}, {-1}, {0, 2}, {0, 1, 2}}) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE(testing::Message() << "axes size " << axes.size() << " first " << axes[0] << " keep " << keep);
      check_grad([&](const array& a) { return op(a, axes, keep, {}); }, x, rtol);
    }
  }
  check_grad([&](const array& a) { return op(transpose(a, {2, 0, 1}), {1}, false, {}); }, x, rtol);
  check_grad([&](const array& a) { return op(slice(a, {1, 2, 3}, {-4, -5, -6}, {-1, -2, -1}), {0, 2}, true, {}); },
             x, rtol);
}

array (*const sum_op)(const array&, const std::vector<int>&, bool, StreamOrDevice) = sum;
array (*const prod_op)(const array&, const std::vector<int>&, bool, StreamOrDevice) = prod;
array (*const max_op)(const array&, const std::vector<int>&, bool, StreamOrDevice) = max;
array (*const min_op)(const array&, const std::vector<int>&, bool, StreamOrDevice) = min;
array (*const lse_op)(const array&, const std::vector<int>&, bool, StreamOrDevice) = logsumexp;

using ScanOp = array (*)(const array&, std::optional<int>, bool, bool, StreamOrDevice);

// Every direction and inclusiveness, on axes 0 and 1, a transposed input and
// the flattened array.
void check_scan(ScanOp op, const array& x, double rtol = 1e-6) {
  for (bool reverse : {false, true}) {
    for (bool inclusive : {true, false}) {
      SCOPED_TRACE(testing::Message() << "reverse " << reverse << " inclusive " << inclusive);
      for (int axis : {0, 1, -1}) check_grad([&](const array& a) { return op(a, axis, reverse, inclusive, {}); }, x, rtol);
      check_grad([&](const array& a) { return op(transpose(a), 1, reverse, inclusive, {}); }, x, rtol);
      check_grad([&](const array& a) { return op(a, std::nullopt, reverse, inclusive, {}); }, x, rtol);
    }
  }
}

}  // namespace

TEST(GradReduction, Sum) {
  array x = randn({3, 4, 5});
  check_reduction(sum_op, x);
  check_vjp_of_vjp([](const array& a) { return sum(a, {0, 2}, false); }, x);
  check_vjp_of_vjp([](const array& a) { return sum(transpose(a), true); }, x);
}

TEST(GradReduction, ProdWithAndWithoutZeros) {
  array x = randn({3, 4, 5});
  check_reduction(prod_op, x);
  // Zeros: one in a group gives the others' product there and zero elsewhere;
  // two zero the whole group. No division, so no NaN.
  auto v = x.to_vector<double>();
  v[0] = 0;           // (0, 0, 0)
  v[1] = 0;           // (0, 0, 1): axis 2 group of (0, 0) has two zeros
  v[20 + 3] = 0;      // (1, 0, 3)
  v[2 * 20 + 7] = 0;  // (2, 1, 2)
  array xz(v, {3, 4, 5});
  check_reduction(prod_op, xz);
  auto [out, g] = uma::vjp([](const array& a) { return prod(a); }, array({2.0, 0.0, 3.0}), array(1.0));
  test::expect_close(g, {0, 6, 0});
  std::tie(out, g) = uma::vjp([](const array& a) { return prod(a); }, array({2.0, 0.0, 0.0}), array(1.0));
  test::expect_close(g, {0, 0, 0});
  std::tie(out, g) = uma::vjp([](const array& a) { return prod(a, 1); }, array({2.0, 5.0, 3.0, 4.0}, {2, 2}),
                              array({1.0, 10.0}));
  test::expect_close(g, {5, 2, 40, 30});
}

TEST(GradReduction, ProdOfComplexConjugates) {
  // As MLX: the cotangent of a holomorphic f is conj(f') times the cotangent.
  std::vector<complex64_t> v{{1, 2}, {3, -1}};
  array z(v, {2});
  auto [out, g] = uma::vjp([](const array& a) { return prod(a); }, z, array(complex64_t(1, 0)));
  auto got = g.to_vector<complex64_t>();
  EXPECT_EQ(got[0], complex64_t(3, 1));   // conj(3 - i)
  EXPECT_EQ(got[1], complex64_t(1, -2));  // conj(1 + 2i)
}

TEST(GradReduction, MaxMinSplitTies) {
  array x = randn({3, 4, 5});
  check_reduction(max_op, x);
  check_reduction(min_op, x);
  // Ties share the cotangent; the jvp is the matching average.
  array t = array({1.0, 3.0, 3.0, -2.0});
  auto [out, g] = uma::vjp([](const array& a) { return max(a); }, t, array(6.0));
  test::expect_close(g, {0, 3, 3, 0});
  auto [jout, tan] = uma::jvp([](const array& a) { return max(a); }, t, array({5.0, 1.0, 2.0, 7.0}));
  EXPECT_DOUBLE_EQ(tan.item<double>(), 1.5);
  std::tie(out, g) = uma::vjp([](const array& a) { return min(a, 0, true); }, array({4.0, -2.0, -2.0, -2.0}),
                              array({3.0}));
  test::expect_close(g, {0, 1, 1, 1});
}

TEST(GradReduction, ZeroDerivativesOfBooleanAndIndexResults) {
  array x = randn({3, 4});
  for (array r : {all(x, 1), any(x, 0, true), argmax(x, 1), argmin(x, 0, true)}) {
    array node = r.has_primitive() && std::string(r.primitive().name()) == "Reshape" ? r.inputs()[0] : r;
    Primitive& p = node.primitive();
    auto g = p.vjp(node.inputs(), {zeros_like(node)}, {0}, {node});
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].shape(), x.shape()) << p.name();
    test::expect_close(g[0], std::vector<double>(12, 0.0));
    auto t = p.jvp(node.inputs(), {x}, {0});
    EXPECT_EQ(t.at(0).shape(), node.shape()) << p.name();
    EXPECT_EQ(t[0].dtype(), node.dtype()) << p.name();
  }
  // An index cut from the trace picks its element's gradient.
  auto [out, g] = uma::vjp(
      [](const array& a) { return take_along_axis(a, stop_gradient(argmax(a, 1, true)), 1); },
      array({1.0, 5.0, 2.0, 7.0, 0.0, 3.0}, {2, 3}), array({1.0, 2.0}, {2, 1}));
  test::expect_close(g, {0, 1, 0, 2, 0, 0});
}

TEST(GradReduction, CumsumEveryDirection) {
  array x = randn({4, 5});
  check_scan(cumsum, x);
  for (bool reverse : {false, true}) {
    for (bool inclusive : {true, false}) {
      check_vjp_of_vjp([&](const array& a) { return cumsum(a, 1, reverse, inclusive); }, x);
    }
  }
}

TEST(GradReduction, CumprodWithZeros) {
  array x = randn({4, 5});
  check_scan(cumprod, x);
  // A zero in a row, two zeros in a row, a zero first and last.
  auto v = x.to_vector<double>();
  v[2] = 0;
  v[5 + 1] = 0;
  v[5 + 3] = 0;
  v[10] = 0;
  v[19] = 0;
  check_scan(cumprod, array(v, {4, 5}));
  // By hand: y = (2, 0, 0, 0); only the first zero's own term survives.
  auto [out, g] = uma::vjp([](const array& a) { return cumprod(a, 0); }, array({2.0, 0.0, 3.0, 4.0}),
                           array({1.0, 1.0, 1.0, 1.0}));
  test::expect_close(g, {1, 2 + 6 + 24, 0, 0});
}

TEST(GradReduction, CummaxCumminRouteToTheRunningExtreme) {
  array x = randn({4, 5});
  check_scan(cummax, x);
  check_scan(cummin, x);
  for (bool reverse : {false, true}) {
    for (bool inclusive : {true, false}) {
      check_vjp_of_vjp([&](const array& a) { return cummax(a, 1, reverse, inclusive); }, x);
    }
  }
  // Ties: the latest element in scan order holds the extreme.
  array t = array({1.0, 3.0, 2.0, 3.0, 0.0});
  auto [out, g] = uma::vjp([](const array& a) { return cummax(a, 0); }, t, array({1.0, 2.0, 4.0, 8.0, 16.0}));
  test::expect_close(g, {1, 6, 0, 24, 0});
  std::tie(out, g) =
      uma::vjp([](const array& a) { return cummax(a, 0, true, false); }, t, array({1.0, 2.0, 4.0, 8.0, 16.0}));
  // Reverse exclusive: position i shows max(t[i+1:]) (index 1 holds the tie
  // of position 0, index 3 positions 1 and 2); the last shows -inf.
  test::expect_close(g, {0, 1, 0, 2 + 4, 8});
  auto [jout, tan] = uma::jvp([](const array& a) { return cummax(a, 0, false, false); }, t,
                              array({1.0, 2.0, 4.0, 8.0, 16.0}));
  test::expect_close(tan, {0, 1, 2, 2, 8});
}

TEST(GradReduction, LogCumSumExpStable) {
  array x = randn({4, 5});
  check_scan(logcumsumexp, x);
  auto v = x.to_vector<double>();
  for (auto& e : v) e = 200 * e;  // far apart: naive exp/log would overflow
  check_scan(logcumsumexp, array(v, {4, 5}), 1e-5);
  v = x.to_vector<double>();
  v[0] = -kInf;
  v[7] = -kInf;
  check_scan(logcumsumexp, array(v, {4, 5}));
}

TEST(GradReduction, SoftmaxAndLogSumExp) {
  array x = randn({3, 4, 5});
  for (std::vector<int> axes : {std::vector<int>{-1}, {0}, {0, 2}, {0, 1, 2}}) {
    for (bool precise : {false, true}) {
      check_grad([&](const array& a) { return softmax(a, axes, precise); }, x);
    }
  }
  check_grad([](const array& a) { return softmax(transpose(a), 1); }, x);
  check_reduction(lse_op, x);
  auto v = x.to_vector<double>();
  for (auto& e : v) e = 1000 + 50 * e;
  check_grad([](const array& a) { return logsumexp(a, 2); }, array(v, {3, 4, 5}));
  check_grad([](const array& a) { return softmax(a, 0); }, array(v, {3, 4, 5}));
}

TEST(GradReduction, DtypesArePreserved) {
  for (Dtype dt : {float32, float16, bfloat16}) {
    array x = astype(array({0.5, -1.0, 2.0, 1.5, 0.25, -0.75}, {2, 3}), dt);
    std::vector<UnaryFn> fns{
        [](const array& a) { return sum(a, 1); },
        [](const array& a) { return prod(a, 0); },
        [](const array& a) { return max(a, 1); },
        [](const array& a) { return min(a); },
        [](const array& a) { return cumsum(a, 1, true); },
        [](const array& a) { return cumprod(a, 0); },
        [](const array& a) { return cummax(a, 1, false, false); },
        [](const array& a) { return logcumsumexp(a, 1); },
        [](const array& a) { return softmax(a, 1); },
        [](const array& a) { return logsumexp(a, 0); },
    };
    for (auto& f : fns) {
      array out = f(x);
      auto [o, g] = uma::vjp(f, x, ones_like(out));
      EXPECT_EQ(g.dtype(), dt) << dtype_name(dt);
      auto [jo, t] = uma::jvp(f, x, ones_like(x));
      EXPECT_EQ(t.dtype(), out.dtype()) << dtype_name(dt);
    }
    EXPECT_EQ(uma::grad([](const array& a) { return sum(a); })(x).dtype(), dt);
  }
}

// ------------------------------------------------------------ after the merge
// These differentiate the rules' elementwise ops (multiply, exp, divide, ...)
// or go through mean / var, so they need the elementwise family's rules.

TEST(GradAfterMergeReduction, SecondDerivatives) {
  array x = randn({3, 4});
  test::check_hvp([](const array& a) { return logsumexp(a); }, x);
  test::check_hvp([](const array& a) { return logsumexp(softmax(a, 1)); }, x);
  test::check_hvp([](const array& a) { return sum(logsumexp(a, 0)); }, x);
  test::check_hvp([](const array& a) { return prod(a); }, x, 1e-5);
  test::check_hvp([](const array& a) { return sum(prod(a, 1)); }, x);
  test::check_hvp([](const array& a) { return sum(cumprod(a, 1, true, false)); }, x);
  test::check_hvp([](const array& a) { return logsumexp(logcumsumexp(a, 0)); }, x);
  test::check_hvp([](const array& a) { return logsumexp(cummax(a, 1)); }, x);
  test::check_hvp([](const array& a) { return logsumexp(max(a, 0)); }, x);
  auto v = x.to_vector<double>();
  v[1] = 0;
  v[5] = 0;
  // One zero per scan (two in one scan miss their cross terms: see reduction_grad.cpp).
  test::check_hvp([](const array& a) { return sum(cumprod(a, 1)); }, array(v, {3, 4}));
  test::check_hvp([](const array& a) { return logsumexp(cumprod(a, 1, true, false)); }, array(v, {3, 4}));
  test::check_hvp([](const array& a) { return prod(a); }, array(v, {3, 4}), 1e-5);
  for (UnaryFn f : std::vector<UnaryFn>{[](const array& a) { return softmax(a, 1); },
                                        [](const array& a) { return logsumexp(a, 0, true); },
                                        [](const array& a) { return prod(a, 1); },
                                        [](const array& a) { return cumprod(a, 0, true); },
                                        [](const array& a) { return logcumsumexp(a, 1, false, false); },
                                        [](const array& a) { return max(a, 1); }}) {
    check_vjp_of_vjp(f, x);
  }
}

TEST(GradAfterMergeReduction, MeanVarStd) {
  array x = randn({3, 4, 5});
  check_grad([](const array& a) { return mean(a, {0, 2}); }, x);
  check_grad([](const array& a) { return var(a, 1, true, 1); }, x);
  check_grad([](const array& a) { return uma::std(transpose(a), {0, 1}); }, x);
  test::check_hvp([](const array& a) { return sum(var(a, 0)); }, x);
  test::check_hvp([](const array& a) { return mean(uma::std(a, 2)); }, x);
  EXPECT_EQ(uma::grad([](const array& a) { return mean(a); })(astype(x, bfloat16)).dtype(), bfloat16);
}
