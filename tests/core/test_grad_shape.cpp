// Gradient rules of the view, copy and creation primitives (Reshape,
// Transpose, Broadcast, AsStrided, Slice, AsType, Copy, Full), through the
// transforms: finite differences, jvp against vjp, and the rules of the rules
// (all of these are linear, so their vjp rules differentiate without the
// elementwise family). No elementwise primitive lies on a differentiated path.
#include <gtest/gtest.h>

#include "core/grad_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::check_vjp_of_vjp;
using test::randn;

namespace {

// Each case checked both ways.
void check_linear(const test::UnaryFn& f, const array& x, double rtol = 1e-6, double jtol = 1e-10) {
  check_grad(f, x, rtol, 1.0, jtol);  // linear: any step is exact
  check_vjp_of_vjp(f, x, jtol);
}

}  // namespace

TEST(GradShape, ReshapeTransposeSqueeze) {
  array x = randn({2, 3, 4});
  check_linear([](const array& a) { return reshape(a, {4, 6}); }, x);
  check_linear([](const array& a) { return transpose(a, {2, 0, 1}); }, x);
  check_linear([](const array& a) { return reshape(transpose(a), {6, 4}); }, x);  // non-contiguous reshape
  check_linear([](const array& a) { return moveaxis(flatten(a, 1, 2), 0, 1); }, x);
  check_linear([](const array& a) { return squeeze(expand_dims(a, {0, 3}), 0); }, x);
}

TEST(GradShape, BroadcastSumsTheCopies) {
  array x = randn({3, 1, 4});
  check_linear([](const array& a) { return broadcast_to(a, {2, 3, 5, 4}); }, x);  // added and stretched axes
  check_linear([](const array& a) { return broadcast_to(transpose(a, {1, 0, 2}), {2, 3, 4}); }, x);
  // By hand: every copy adds its cotangent.
  array v = array({1.0, 2.0});
  auto [out, g] = uma::vjp([](const array& a) { return broadcast_to(a, {3, 2}); }, v, ones({3, 2}, float64));
  test::expect_close(g, {3, 3});
  // Scalars broadcast to everything.
  check_linear([](const array& a) { return broadcast_to(a, {2, 2}); }, array(1.5));
}

TEST(GradShape, SliceForwardBackwardAndStrided) {
  array x = randn({5, 6});
  check_linear([](const array& a) { return slice(a, {1, 0}, {4, 6}); }, x);
  check_linear([](const array& a) { return slice(a, {0, 1}, {5, 6}, {2, 3}); }, x);
  check_linear([](const array& a) { return slice(a, {4, 5}, {-6, -7}, {-2, -1}); }, x);  // negative steps
  check_linear([](const array& a) { return slice(transpose(a), {1, 1}, {5, 4}, {3, 2}); }, x);
  check_linear([](const array& a) { return split(a, 3, 1)[1]; }, x);
  // Unread elements get zero.
  auto [out, g] = uma::vjp([](const array& a) { return slice(a, {1}, {4}, {2}); }, array({1.0, 2.0, 3.0, 4.0}),
                           array({5.0, 6.0}));
  test::expect_close(g, {0, 5, 0, 6});
}

TEST(GradShape, AsStridedAddsOverlaps) {
  array x = randn({3, 4});
  // Overlapping sliding windows: an element read twice gets both cotangents.
  check_linear([](const array& a) { return as_strided(a, {5, 3}, {2, 1}, 1); }, x);
  check_linear([](const array& a) { return as_strided(transpose(a), {2, 3}, {1, 4}, 2); }, x);  // non-contiguous source
  auto [out, g] = uma::vjp([](const array& a) { return as_strided(a, {3, 2}, {1, 1}, 0); },
                           array({1.0, 2.0, 3.0, 4.0}), ones({3, 2}, float64));
  test::expect_close(g, {1, 2, 2, 1});
}

TEST(GradShape, AsTypeCastsBackAndCopyPasses) {
  array x = randn({2, 3});
  check_linear([](const array& a) { return copy(transpose(a)); }, x);
  // Through float32: jvp and vjp round different values.
  check_linear([](const array& a) { return astype(astype(a, float32), float64); }, x, 1e-6, 1e-6);
  // float64 -> float32: the cotangent comes back as float64.
  array c = randn({2, 3}, float32);
  auto [out, g] = uma::vjp([](const array& a) { return astype(a, float32); }, x, c);
  EXPECT_EQ(out.dtype(), float32);
  EXPECT_EQ(g.dtype(), float64);
  test::expect_close(g, astype(c, float64).to_vector<double>(), 0, 0);
  auto [jout, t] = uma::jvp([](const array& a) { return astype(a, float32); }, x, x);
  EXPECT_EQ(t.dtype(), float32);
}

TEST(GradShape, FullSumsItsOutput) {
  // full() of a one-element value: the Full primitive.
  test::UnaryFn f = [](const array& v) { return full({2, 3}, v); };
  check_linear(f, array(0.5));
  check_linear([](const array& v) { return full({4}, v); }, array({0.5}));  // a (1,) value
  auto [out, g] = uma::vjp(f, array(0.5), reshape(astype(arange(6), float64), {2, 3}));
  EXPECT_EQ(g.shape(), Shape{});
  EXPECT_EQ(g.item<double>(), 15.0);
  auto [jout, t] = uma::jvp(f, array(0.5), array(2.0));
  test::expect_close(t, {2, 2, 2, 2, 2, 2});
}

TEST(GradShape, DtypesArePreserved) {
  for (Dtype dt : {float32, float16, bfloat16}) {
    array x = randn({2, 3}, dt);
    auto g = uma::grad([](const array& a) { return sum(broadcast_to(slice(transpose(a), {1, 0}, {3, 2}), {2, 2, 2})); })(x);
    EXPECT_EQ(g.dtype(), dt);
    test::expect_close(g, {0, 2, 2, 0, 2, 2});
  }
}

TEST(GradShape, ViewHasNoRule) {
  array x = randn({2, 4}, float32);
  EXPECT_THROW(uma::vjp([](const array& a) { return view(a, int32); }, x, zeros({2, 4}, int32)), not_implemented);
}
