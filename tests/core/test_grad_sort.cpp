// Gradient rules of the sorting primitives (Sort, Partition, and the index
// outputs ArgSort, ArgPartition) through the transforms: finite differences,
// jvp against vjp, and the permutation the rules use agreeing with the one
// the kernels applied, ties included.
#include <gtest/gtest.h>

#include <cmath>

#include "core/grad_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::check_vjp_of_vjp;
using test::inner_product;
using test::randn;
using test::UnaryFn;

namespace {

// Values with many ties (small integers as floats).
array tied(const Shape& shape) {
  array r = randn(shape);
  auto v = r.to_vector<double>();
  for (auto& e : v) e = std::round(2 * e);
  return array(v, shape);
}

// f permutes its input along some axis and is positively homogeneous, so
// jvp(f, x, x) == f(x) and <c, f(x)> == <vjp(f, x, c), x> hold exactly iff
// the rules route every element through the permutation the kernel applied.
void check_routes_as_the_kernel(const UnaryFn& f, const array& x) {
  array out = f(x);
  auto [o, t] = uma::jvp(f, x, x);
  test::expect_close(t, out.to_vector<double>(), 0, 0);
  array c = randn(out.shape());
  auto [o2, g] = uma::vjp(f, x, c);
  EXPECT_NEAR(inner_product(g, x), inner_product(c, out), 1e-12 * (1 + std::abs(inner_product(c, out))));
}

}  // namespace

TEST(GradSort, SortAlongEachAxis) {
  array x = randn({4, 5, 3});
  for (int axis : {0, 1, 2, -1}) {
    check_grad([&](const array& a) { return sort(a, axis); }, x);
    check_vjp_of_vjp([&](const array& a) { return sort(a, axis); }, x);
  }
  check_grad([](const array& a) { return sort(a); }, x);  // flattened
  check_grad([](const array& a) { return sort(transpose(a, {1, 2, 0}), 2); }, x);
  check_grad([](const array& a) { return sort(slice(a, {3, 0, 0}, {-5, 5, 3}, {-1, 2, 1}), 0); }, x);
  // By hand: the cotangent of sorted position i goes to the element sorted there.
  auto [out, g] = uma::vjp([](const array& a) { return sort(a); }, array({3.0, 1.0, 2.0}), array({10.0, 20.0, 30.0}));
  test::expect_close(g, {30, 10, 20});
}

TEST(GradSort, PartitionAndTopk) {
  array x = randn({6, 7});
  for (int axis : {0, 1}) {
    for (int kth : {0, 2, -1}) {
      check_grad([&](const array& a) { return partition(a, kth, axis); }, x);
      check_vjp_of_vjp([&](const array& a) { return partition(a, kth, axis); }, x);
    }
  }
  check_grad([](const array& a) { return partition(transpose(a), 3, 1); }, x);
  check_grad([](const array& a) { return topk(a, 3, 1); }, x);
  check_grad([](const array& a) { return topk(a, 2); }, x);  // flattened
}

TEST(GradSort, TiesFollowTheKernelsPermutation) {
  array x = tied({5, 40});
  for (int axis : {0, 1}) {
    check_routes_as_the_kernel([&](const array& a) { return sort(a, axis); }, x);
    for (int kth : {0, 7, 20, -1}) {
      if (axis == 0 && kth > 4) continue;
      check_routes_as_the_kernel([&](const array& a) { return partition(a, kth, axis); }, x);
    }
  }
  check_routes_as_the_kernel([](const array& a) { return topk(a, 9, 1); }, x);
  // NaNs sort last; their cotangents go to NaN elements.
  const double nan = std::nan("");
  array n = array({2.0, nan, 1.0, nan, 0.5});
  auto [out, g] = uma::vjp([](const array& a) { return sort(a); }, n, array({1.0, 2.0, 3.0, 4.0, 5.0}));
  auto gv = g.to_vector<double>();
  EXPECT_EQ(gv[0], 3.0);
  EXPECT_EQ(gv[2], 2.0);
  EXPECT_EQ(gv[4], 1.0);
  EXPECT_EQ(gv[1] + gv[3], 9.0);
}

TEST(GradSort, IndexOutputsHaveZeroDerivatives) {
  array x = randn({3, 4});
  for (array r : {argsort(x, 1), argpartition(x, 1, 0)}) {
    Primitive& p = r.primitive();
    auto g = p.vjp(r.inputs(), {zeros_like(r)}, {0}, {r});
    ASSERT_EQ(g.size(), 1u);
    test::expect_close(g[0], std::vector<double>(12, 0.0));
    auto t = p.jvp(r.inputs(), {x}, {0});
    EXPECT_EQ(t.at(0).shape(), r.shape());
    EXPECT_EQ(t[0].dtype(), uint32);
  }
  // Indices cut from the trace gather like sort.
  auto [out, g] = uma::vjp([](const array& a) { return take_along_axis(a, stop_gradient(argsort(a, 1)), 1); }, x,
                           ones({3, 4}, float64));
  test::expect_close(g, std::vector<double>(12, 1.0));
}

TEST(GradSort, PermutationIsCutFromHigherDerivatives) {
  // sort's vjp depends on x only through argsort(x), which stop_gradient cuts:
  // the vjp map is locally constant in x, and differentiating it in x is zero
  // (without the cut the scatter would be asked for its indices' gradient).
  array x = randn({3, 5}), c = randn({3, 5});
  for (UnaryFn f : std::vector<UnaryFn>{[](const array& a) { return sort(a, 1); },
                                        [](const array& a) { return partition(a, 2, 1); },
                                        [](const array& a) { return cummax(a, 1); }}) {
    UnaryFn h = [&](const array& a) { return uma::vjp(f, a, c).second; };
    auto [o, g] = uma::vjp(h, x, randn({3, 5}));
    test::expect_close(g, std::vector<double>(15, 0.0));
    auto [o2, t] = uma::jvp(h, x, randn({3, 5}));
    test::expect_close(t, std::vector<double>(15, 0.0));
  }
}

TEST(GradSort, DtypesArePreserved) {
  for (Dtype dt : {float32, float16, bfloat16}) {
    array x = randn({3, 4}, dt);
    EXPECT_EQ(uma::grad([](const array& a) { return sum(sort(a, 0)); })(x).dtype(), dt);
    EXPECT_EQ(uma::grad([](const array& a) { return sum(topk(a, 2, 1)); })(x).dtype(), dt);
  }
}

// ------------------------------------------------------------ after the merge

TEST(GradAfterMergeSort, SecondDerivatives) {
  array x = randn({3, 6});
  test::check_hvp([](const array& a) { return logsumexp(sort(a, 1)); }, x);
  test::check_hvp([](const array& a) { return logsumexp(topk(a, 3, 1)); }, x);
  test::check_hvp([](const array& a) { return sum(softmax(partition(a, 1, 0), 0)); }, x);
}
