// Gradient rules of the fast primitives RMSNorm and RoPE and of the
// dynamic-start slices DynamicSlice and DynamicSliceUpdate, through the
// transforms (grad_util.h): vjp against central differences, jvp against vjp
// by the inner-product identity, and each against an independent reference:
// RMSNorm's against the same formula written in float64 ops, RoPE's against
// the inverse rotation (rope is orthogonal, so its vjp is rope with the
// angles negated), the slices' against the window placed by hand at the
// start that the kernels clamp to. (Their refusal of start indices computed
// from the input is in test_grad_coverage.cpp's partial refusals.)
//
// Precision of the fast ones: they take float64 inputs and give float64
// outputs, but both the kernels and the fallback the rules differentiate
// compute in float32 (fast.h: "accumulated in float32"). Their checks use
// float32-sized tolerances: a central-difference step of 1e-3 (an output
// rounded to float32 is off by ~6e-8 |f|, ~3e-5 after dividing by 2h) and
// rtol 1e-3; jvp against vjp, both float32 computations, to 1e-5. The
// dynamic slices move values without arithmetic, so theirs are float64-tight.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/grad_util.h"
#include "core/util.h"
#include "core/vmap_util.h"
#include "uma/core/fast.h"
#include "uma/core/primitive.h"
#include "uma/core/utils.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::expect_same;
using test::inner_product;
using test::randn;
using GradFast = test::SeededGradTest;

namespace {

constexpr double kFastStep = 1e-3, kFastRtol = 1e-3, kFastJtol = 1e-5;

// rms_norm in float64 ops: x * rsqrt(mean(x^2) + eps) * w.
array rms_norm_f64(const array& x, const std::optional<array>& w, float eps) {
  array y = multiply(x, rsqrt(add(mean(square(x), -1, true), array(double(eps)))));
  return w ? multiply(y, *w) : y;
}

}  // namespace

// ------------------------------------------------------------ RMSNorm

TEST_F(GradFast, RMSNormInXAgainstDifferencesAndFloat64Formula) {
  // With and without weight; an eps small against mean(x^2) and one that is
  // not (its term in the gradient then shows); rows of 1 and of odd length.
  for (float eps : {1e-5f, 0.5f}) {
    for (Shape sh : std::vector<Shape>{{2, 3, 8}, {5, 1}, {3, 7}}) {
      // |x| >= 0.5: a row of one value near 0 is a step of width ~sqrt(eps),
      // which no finite-difference step resolves.
      array x = multiply(test::randu(sh, 0.5, 2.0), sign(randn(sh))), w = test::randu({sh.back()}, 0.5, 1.5);
      for (bool with_w : {true, false}) {
        SCOPED_TRACE("eps " + std::to_string(eps) + " shape " + shape_str(sh) + (with_w ? " weight" : " no weight"));
        std::optional<array> wo = with_w ? std::optional<array>(w) : std::nullopt;
        auto f = [&](const array& a) { return fast::rms_norm(a, wo, eps); };
        auto ref = [&](const array& a) { return rms_norm_f64(a, wo, eps); };
        check_grad(f, x, kFastRtol, kFastStep, kFastJtol);
        // The reference's own rule, in float64 and tight, then the fast
        // rule against it for the same cotangent.
        check_grad(ref, x);
        array c = randn(sh);
        expect_same(uma::vjp(f, x, c).second, uma::vjp(test::UnaryFn(ref), x, c).second, 1e-5, 1e-5, "vjp vs float64");
        array d = randn(sh);
        expect_same(uma::jvp(f, x, d).second, uma::jvp(test::UnaryFn(ref), x, d).second, 1e-5, 1e-5, "jvp vs float64");
      }
    }
  }
}

TEST_F(GradFast, RMSNormInWeightAndInBoth) {
  array x = randn({4, 6}), w = test::randu({6}, 0.5, 1.5);
  // In the weight alone: linear, so any step; the reference's vjp is
  // sum over rows of c * x * rsqrt(mean(x^2) + eps).
  auto fw = [&](const array& a) { return fast::rms_norm(x, a, 1e-5f); };
  check_grad(fw, w, kFastRtol, 1.0, kFastJtol);
  array c = randn({4, 6});
  array want = sum(multiply(c, rms_norm_f64(x, std::nullopt, 1e-5f)), 0);
  expect_same(uma::vjp(fw, w, c).second, want, 1e-5, 1e-5, "weight vjp by hand");
  // In both at once: <vjp, (dx, dw)> against central differences of
  // f(x + h dx, w + h dw), jvp against vjp.
  ArrayFn f2 = [](const std::vector<array>& xs) { return std::vector<array>{fast::rms_norm(xs[0], xs[1], 1e-5f)}; };
  test::check_grad_n(f2, {x, w}, kFastRtol, kFastStep, kFastJtol);
  // A float32 weight with float64 x: the op casts it to the promoted type,
  // and the weight's gradient comes back in its own dtype.
  array w32 = astype(w, float32);
  auto g32 = uma::vjp([&](const array& a) { return fast::rms_norm(x, a, 1e-5f); }, w32, c).second;
  EXPECT_EQ(g32.dtype(), float32);
  expect_same(astype(g32, float64), want, 1e-5, 1e-5, "float32 weight");
}

TEST_F(GradFast, RMSNormSecondOrder) {
  // The rule differentiates the fallback with ops, so it differentiates
  // again: the vjp of the vjp, and the Hessian-vector product (jvp of grad)
  // against central differences of the gradient and against the float64
  // formula's. (grad_util's check_hvp holds symmetry to 1e-9, a float64
  // bound; these are float32 computations.)
  array x = randn({3, 5}), w = test::randu({5}, 0.5, 1.5);
  test::check_vjp_of_vjp([&](const array& a) { return fast::rms_norm(a, w, 0.1f); }, x, 1e-5);
  auto loss = [&](const array& a) { return sum(sin(fast::rms_norm(a, w, 0.1f))); };
  auto loss64 = [&](const array& a) { return sum(sin(rms_norm_f64(a, w, 0.1f))); };
  auto g = uma::grad(test::UnaryFn(loss));
  array d = randn(x.shape()), e = randn(x.shape());
  array hd = uma::jvp(g, x, d).second;
  double fd = test::fd_directional(g, x, d, e, kFastStep);
  EXPECT_NEAR(inner_product(e, hd), fd, kFastRtol * (1 + std::abs(fd))) << "Hessian-vector product against differences";
  array hd64 = uma::jvp(uma::grad(test::UnaryFn(loss64)), x, d).second;
  expect_same(hd, hd64, 1e-4, 1e-4, "Hessian-vector product against the float64 formula");
  array he = uma::vjp(g, x, e).second;  // reverse over reverse: H e, H symmetric
  EXPECT_NEAR(inner_product(he, d), inner_product(e, hd), 1e-5 * (1 + std::abs(fd))) << "Hessian symmetry";
}

TEST_F(GradFast, RMSNormHalfInputsKeepTheirDtype) {
  array x = randn({3, 8}), w = test::randu({8}, 0.5, 1.5), c = randn({3, 8});
  array want = uma::vjp(test::UnaryFn([&](const array& a) { return rms_norm_f64(a, w, 1e-5f); }), x, c).second;
  for (Dtype t : {float32, float16, bfloat16}) {
    array xt = astype(x, t), wt = astype(w, t);
    auto g = uma::vjp([&](const array& a) { return fast::rms_norm(a, wt, 1e-5f); }, xt, astype(c, t)).second;
    EXPECT_EQ(g.dtype(), t) << dtype_name(t);
    // Inputs and cotangent rounded to t, the result rounded once more.
    double tol = t == float32 ? 1e-5 : t == float16 ? 2e-2 : 1e-1;
    expect_same(astype(g, float64), want, tol, tol, dtype_name(t));
  }
}

// ------------------------------------------------------------ RoPE

namespace {

struct RopeCase {
  std::string what;
  Shape shape;
  int dims;
  bool traditional;
  float scale;
  std::optional<array> offset;  // absent: the int offset 3
  std::optional<array> freqs;   // absent: base 10000
};

std::vector<RopeCase> rope_cases() {
  return {
      {"halves, all dims", {1, 2, 5, 8}, 8, false, 1.f, std::nullopt, std::nullopt},
      {"interleaved, all dims", {1, 2, 5, 8}, 8, true, 1.f, std::nullopt, std::nullopt},
      {"halves, first 4 of 10 dims", {2, 3, 10}, 4, false, 0.5f, std::nullopt, std::nullopt},
      {"interleaved, first 6 of 10 dims", {2, 3, 10}, 6, true, 2.f, std::nullopt, std::nullopt},
      {"2-d input", {6, 4}, 4, false, 1.f, std::nullopt, std::nullopt},
      {"per-batch offsets", {3, 2, 4, 6}, 6, false, 1.f, array({0, 7, 2}), std::nullopt},
      {"per-batch offsets, interleaved", {3, 2, 4, 6}, 4, true, 1.f, array({5, 0, 11}), std::nullopt},
      {"freqs", {1, 2, 5, 8}, 8, false, 1.f, std::nullopt, array({1.0f, 3.0f, 9.0f, 27.0f})},
      {"freqs, interleaved, scaled", {1, 1, 5, 8}, 4, true, 0.25f, array(4), array({2.0f, 5.0f})},
  };
}

array rope_of(const RopeCase& k, const array& x, float scale) {
  std::optional<float> base = k.freqs ? std::nullopt : std::optional<float>(10000.f);
  array off = k.offset ? *k.offset : array(3);
  return fast::rope(x, k.dims, k.traditional, base, scale, off, k.freqs);
}

}  // namespace

TEST_F(GradFast, RoPEInXAgainstDifferencesAndTheInverseRotation) {
  for (auto& k : rope_cases()) {
    SCOPED_TRACE(k.what);
    array x = randn(k.shape);
    auto f = [&](const array& a) { return rope_of(k, a, k.scale); };
    check_grad(f, x, kFastRtol, kFastStep, kFastJtol);
    // rope is a rotation by theta per pair (the features past dims kept):
    // its vjp is the rotation by -theta, which is rope with scale negated
    // (same cos, sin negated), computed by the forward kernel.
    array c = randn(k.shape);
    expect_same(uma::vjp(f, x, c).second, rope_of(k, c, -k.scale), 1e-5, 1e-5, "vjp is the inverse rotation");
    // and, linear in x, its jvp is rope of the tangent.
    array d = randn(k.shape);
    expect_same(uma::jvp(f, x, d).second, rope_of(k, d, k.scale), 1e-5, 1e-5, "jvp is rope of the tangent");
  }
}

TEST_F(GradFast, RoPEInFreqs) {
  // The frequencies are differentiable (theta = pos * scale / freqs): the
  // rule differentiates the fallback in them too.
  for (bool trad : {false, true}) {
    SCOPED_TRACE(trad ? "interleaved" : "halves");
    array x = randn({2, 1, 4, 8});
    // Angles p / f with p <= 4.5 and f in [2, 6]: the third derivative in f
    // stays under ~5, so a step of 3e-3 keeps truncation (~1e-5 per output)
    // and float32 rounding (~1e-5 per output) well under the tolerance.
    array fr = test::randu({4}, 2.0, 6.0);
    auto f = [&](const array& q) { return fast::rope(x, 8, trad, std::nullopt, 0.5f, array({1, 6}), q); };
    array g = check_grad(f, fr, kFastRtol, 3e-3, kFastJtol);
    EXPECT_GT(std::abs(inner_product(g, g)), 1e-3) << "a gradient that vanishes would pass the checks above";
    // By hand for one position and pair: x1 c - x2 s with theta = p / f has
    // d/df = (x1 s + x2 c) * p / f^2.
    array c = zeros({2, 1, 4, 8}, float64);
    // cotangent 1 on output (batch 1, t 2, feature 0): position 6 + 2 = 8,
    // pair (0, 4) in halves or (0, 1) interleaved, frequency 0.
    c = slice_update(c, ones({1, 1, 1, 1}, float64), {1, 0, 2, 0}, {2, 1, 3, 1});
    auto gv = uma::vjp(test::UnaryFn(f), fr, c).second.to_vector<double>();
    auto xv = x.to_vector<double>();
    double f0 = fr.to_vector<double>()[0], p = 8 * 0.5, th = p / f0;
    size_t row = size_t((1 * 4 + 2) * 8);
    double x1 = xv[row], x2 = xv[row + (trad ? 1 : 4)];
    EXPECT_NEAR(gv[0], (x1 * std::sin(th) + x2 * std::cos(th)) * p / (f0 * f0), 1e-4);
    for (int i = 1; i < 4; ++i) EXPECT_EQ(gv[i], 0.0) << "frequency " << i << " does not reach that output";
  }
}

TEST_F(GradFast, RoPEHalfInputsKeepTheirDtype) {
  array x = randn({1, 2, 3, 8}), c = randn({1, 2, 3, 8});
  RopeCase k{"", {1, 2, 3, 8}, 8, false, 1.f, std::nullopt, std::nullopt};
  array want = rope_of(k, c, -1.f);
  for (Dtype t : {float32, float16, bfloat16}) {
    auto g = uma::vjp([&](const array& a) { return rope_of(k, a, 1.f); }, astype(x, t), astype(c, t)).second;
    EXPECT_EQ(g.dtype(), t) << dtype_name(t);
    double tol = t == float32 ? 1e-5 : t == float16 ? 2e-2 : 1e-1;
    expect_same(astype(g, float64), want, tol, tol, dtype_name(t));
  }
}

// ------------------------------------------------------------ DynamicSlice(Update)

namespace {

// The start the kernels use: negative counts from the end, then clamped so
// the window of size w fits in n.
int clamped(int v, int n, int w) {
  if (v < 0) v += n;
  return std::clamp(v, 0, std::max(n - w, 0));
}

// The static [start, start + size) box per axis of a window of `size` at the
// dynamic `start` (entries per `axes`; other axes from 0).
std::pair<Shape, Shape> window_box(const Shape& shape, const std::vector<int>& start, const std::vector<int>& axes,
                                   const Shape& size) {
  Shape lo(shape.size(), 0), hi = size;
  for (size_t k = 0; k < axes.size(); ++k) {
    int ax = axes[k];
    lo[ax] = clamped(start[k], shape[ax], size[ax]);
    hi[ax] = lo[ax] + size[ax];
  }
  return {lo, hi};
}

struct SliceCase {
  std::string what;
  Shape shape;
  std::vector<int> start, axes;
  Shape size;
  bool scalar_start = false;  // start as a 0-d array (one axis)
};

std::vector<SliceCase> slice_cases() {
  return {
      {"inside", {4, 5}, {1, 2}, {0, 1}, {2, 3}},
      {"negative starts count from the end", {4, 5}, {-3, -2}, {0, 1}, {2, 2}},
      {"starts past the end are clamped", {4, 5}, {9, 4}, {0, 1}, {3, 3}},
      {"starts before the start are clamped", {4, 5}, {-20, -9}, {0, 1}, {2, 4}},
      {"one dynamic axis, the other window from 0", {3, 4, 5}, {2}, {2}, {2, 3, 2}},
      {"axes out of order", {3, 4, 5}, {3, 1}, {2, 0}, {2, 4, 2}},
      {"the whole axis, 0-d start", {4, 5}, {3}, {1}, {4, 5}, true},
  };
}

array start_of(const SliceCase& k) {
  if (k.scalar_start) return array(k.start[0]);
  return array(k.start, {int(k.start.size())});
}

}  // namespace

TEST_F(GradFast, DynamicSliceAgainstDifferencesAndTheWindowByHand) {
  for (auto& k : slice_cases()) {
    SCOPED_TRACE(k.what);
    array x = randn(k.shape), st = start_of(k);
    // A smooth function of the window, so the checks see more than a copy.
    auto f = [&](const array& a) { return sin(dynamic_slice(a, st, k.axes, k.size)); };
    check_grad(f, x);
    test::check_vjp_of_vjp(f, x);
    // The plain window: vjp places the cotangent at the clamped window in
    // zeros, jvp reads the tangent's window.
    auto [lo, hi] = window_box(k.shape, k.start, k.axes, k.size);
    auto g = [&](const array& a) { return dynamic_slice(a, st, k.axes, k.size); };
    array c = randn(k.size), d = randn(k.shape);
    array want_v = slice_update(zeros(k.shape, float64), c, lo, hi);
    expect_same(uma::vjp(test::UnaryFn(g), x, c).second, want_v, 0, 0, "vjp by hand");
    expect_same(uma::jvp(test::UnaryFn(g), x, d).second, slice(d, lo, hi), 0, 0, "jvp by hand");
  }
}

TEST_F(GradFast, DynamicSliceUpdateInSourceUpdateAndBoth) {
  for (auto& k : slice_cases()) {
    SCOPED_TRACE(k.what);
    array src = randn(k.shape), upd = randn(k.size), st = start_of(k);
    // In the source alone, the update alone, and both (through a product,
    // so each appears in a nonlinear term).
    auto fs = [&](const array& a) { return multiply(a, dynamic_slice_update(a, upd, st, k.axes)); };
    auto fu = [&](const array& u) { return exp(dynamic_slice_update(src, u, st, k.axes)); };
    check_grad(fs, src);
    check_grad(fu, upd);
    test::check_vjp_of_vjp(fs, src);
    ArrayFn fb = [&](const std::vector<array>& xs) {
      return std::vector<array>{square(dynamic_slice_update(xs[0], xs[1], st, k.axes))};
    };
    test::check_grad_n(fb, {src, upd}, 1e-7, 1e-5, 1e-10);
    // By hand, for the plain update: the source's cotangent is c with the
    // clamped window zeroed, the update's is c's window.
    auto [lo, hi] = window_box(k.shape, k.start, k.axes, k.size);
    ArrayFn plain = [&](const std::vector<array>& xs) {
      return std::vector<array>{dynamic_slice_update(xs[0], xs[1], st, k.axes)};
    };
    array c = randn(k.shape);
    auto gp = uma::vjp(plain, {src, upd}, {c}).second;
    expect_same(gp[0], slice_update(c, zeros(k.size, float64), lo, hi), 0, 0, "source vjp by hand");
    expect_same(gp[1], slice(c, lo, hi), 0, 0, "update vjp by hand");
  }
}

TEST_F(GradFast, DynamicSliceHessianAndCastUpdate) {
  // Second derivatives through both primitives in one scalar function.
  array x = randn({4, 6}), st = array({-1, 2});
  auto f = [&](const array& a) {
    array w = dynamic_slice(a, st, {0, 1}, {2, 3});
    return sum(multiply(tanh(dynamic_slice_update(a, square(w), array({1, 0}), {0, 1})), a));
  };
  test::check_hvp(f, x);
  // A float32 update into a float64 source: the op casts the update, and its
  // cotangent comes back as float32.
  array u32 = astype(randn({2, 3}), float32);
  auto upd = [&](const array& u) { return dynamic_slice_update(x, u, st, {0, 1}); };
  auto gu = uma::vjp(upd, u32, ones({4, 6}, float64)).second;
  EXPECT_EQ(gu.dtype(), float32);
  test::expect_close(gu, std::vector<double>(6, 1.0), 0, 0);
}
