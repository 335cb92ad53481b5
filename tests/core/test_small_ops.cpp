// The small composed ops (slice_update_add/prod/max/min, unstack,
// count_nonzero, windows, searchsorted, median, positive, logical_xor,
// trunc, masked_scatter, diff, to_fp8/from_fp8, vecdot) against NumPy goldens
// made by tests/fixtures/small_ops/make_goldens.py, direct loops, finite
// differences and vmap.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error_util.h"
#include "core/golden_util.h"
#include "core/grad_util.h"
#include "core/util.h"
#include "core/vmap_util.h"
#include "uma/uma.h"

using namespace uma;

namespace {

test::Golden golden(const std::string& name) { return test::load_golden("small_ops", name); }

}  // namespace

TEST(SmallOps, SliceUpdateModes) {
  array src = reshape(astype(arange(12), float32), {3, 4});
  array upd = array({10.f, 20.f});
  auto sv = src.to_vector<float>();
  // Rows 0 and 2, columns 1 and 3 (strided), update broadcast over rows.
  auto expect_mode = [&](array out, auto combine) {
    std::vector<double> e(sv.begin(), sv.end());
    for (int r : {0, 2}) {
      for (int k = 0; k < 2; ++k) e[r * 4 + 1 + 2 * k] = combine(e[r * 4 + 1 + 2 * k], k ? 20.0 : 10.0);
    }
    EXPECT_EQ(out.dtype(), float32);
    test::expect_close(out, e, 0, 0);
  };
  expect_mode(slice_update_add(src, upd, {0, 1}, {3, 4}, {2, 2}), [](double a, double b) { return a + b; });
  expect_mode(slice_update_prod(src, upd, {0, 1}, {3, 4}, {2, 2}), [](double a, double b) { return a * b; });
  expect_mode(slice_update_max(src, array(6.f), {0, 1}, {3, 4}, {2, 2}), [](double a, double) { return std::max(a, 6.0); });
  expect_mode(slice_update_min(src, array(6.f), {0, 1}, {3, 4}, {2, 2}), [](double a, double) { return std::min(a, 6.0); });
  // Default strides, negative bounds, update cast to src's dtype.
  array isrc = arange(6);
  array out = slice_update_add(isrc, array(2.7f), {-3}, {6});
  EXPECT_EQ(out.dtype(), int32);
  test::expect_close(out, {0, 1, 2, 5, 6, 7}, 0, 0);
  EXPECT_NE(test::error_of([&] { slice_update_add(src, array({1.f, 2.f, 3.f}), {0, 0}, {3, 4}); }).find("[slice_update_add]"),
            std::string::npos);
}

TEST(SmallOps, SliceUpdateGradAndVmap) {
  array upd0 = test::randn({2, 2});
  array src0 = test::randn({3, 4});
  test::check_grad([&](const array& u) { return slice_update_prod(src0, u, {0, 1}, {3, 4}, {2, 2}); }, upd0);
  test::check_grad([&](const array& x) { return slice_update_add(x, upd0, {1, 0}, {3, 2}); }, src0);
  test::expect_vmap(test::lift([](const array& x, const array& u) { return slice_update_max(x, u, {0, 1}, {3, 3}); }),
                    {test::vrand({2, 3, 4}, 1), test::vrand({2, 3, 2}, 2)}, {0, 0});
}

TEST(SmallOps, Unstack) {
  array a = reshape(arange(24), {2, 3, 4});
  auto parts = unstack(a, 1);
  ASSERT_EQ(parts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(parts[i].shape(), (Shape{2, 4}));
    std::vector<double> e;
    for (int x = 0; x < 2; ++x)
      for (int z = 0; z < 4; ++z) e.push_back(x * 12 + i * 4 + z);
    test::expect_close(parts[i], e, 0, 0);
  }
  EXPECT_EQ(unstack(a).size(), 2u);
  EXPECT_EQ(unstack(zeros({0, 3})).size(), 0u);
  EXPECT_NE(test::error_of([&] { unstack(a, 3); }).find("[unstack]"), std::string::npos);
}

TEST(SmallOps, CountNonzero) {
  auto g = golden("count_nonzero_all");
  array c = g.in[0];
  g.check(count_nonzero(c));
  EXPECT_EQ(count_nonzero(c).dtype(), int32);
  g = golden("count_nonzero_axis1");
  g.check(count_nonzero(c, 1));
  EXPECT_EQ(count_nonzero(c, 1, true).shape(), (Shape{3, 1}));
  array nan = array({std::numeric_limits<float>::quiet_NaN(), 0.f, -0.f});
  EXPECT_EQ(count_nonzero(nan).item<int32_t>(), 1);
}

TEST(SmallOps, Windows) {
  for (int M : {1, 2, 5, 12}) {
    auto m = std::to_string(M);
    golden("hanning_" + m).check(hanning(M), 1e-6);
    golden("hamming_" + m).check(hamming(M), 1e-6);
    golden("bartlett_" + m).check(bartlett(M), 1e-6);
    golden("blackman_" + m).check(blackman(M), 1e-6);
    EXPECT_EQ(hanning(M).dtype(), float32);
  }
  EXPECT_EQ(hamming(0).shape(), (Shape{0}));
  EXPECT_EQ(blackman(-3).size(), 0u);
}

TEST(SmallOps, Median) {
  auto g = golden("median_all");
  array a = g.in[0];
  g.check(median(astype(a, float64)));
  (golden("median_axis1")).check(median(astype(a, float64), 1));
  (golden("median_axes02_keep")).check(median(astype(a, float64), {0, 2}, true));
  (golden("median_even_last")).check(median(slice(astype(a, float64), {0, 0, 0}, {3, 4, 4}), -1));
  g = golden("median_int_axis0");
  array mi = median(g.in[0], 0);
  EXPECT_EQ(mi.dtype(), float32);
  g.check(mi);
  float nanf = std::numeric_limits<float>::quiet_NaN();
  test::expect_close(median(array({1.f, nanf, 3.f, 2.f, 5.f, 0.f}, {2, 3}), 1), {nanf, 2.f});
  EXPECT_NE(test::error_of([&] { median(zeros({2, 0}), 1); }).find("[median]"), std::string::npos);
  EXPECT_NE(test::error_of([&] { median(a, {0, 0}); }).find("[median]"), std::string::npos);
  // Distinct values: the gradient picks the middle one(s).
  test::check_grad([](const array& x) { return median(x, 1); }, test::randn({3, 6}));
  test::check_grad([](const array& x) { return median(x, {0, 2}); }, test::randn({3, 2, 3}));
}

TEST(SmallOps, SearchSorted) {
  for (std::string side : {"left", "right"}) {
    auto g = golden("searchsorted_" + side);
    array out = searchsorted(g.in[0], g.in[1], side);
    EXPECT_EQ(out.dtype(), uint32);
    g.check(out);
    g = golden("searchsorted_int_" + side);
    g.check(searchsorted(g.in[0], g.in[1], side));
  }
  float nanf = std::numeric_limits<float>::quiet_NaN();
  array seq = array({1.f, 2.f, 2.f, nanf});
  test::expect_close(searchsorted(seq, array({nanf, 2.f, 0.f, 9.f})), {3, 1, 0, 3}, 0, 0);
  test::expect_close(searchsorted(seq, array({nanf, 2.f, 0.f, 9.f}), "right"), {4, 3, 0, 3}, 0, 0);
  test::expect_close(searchsorted(zeros({0}), array({1.f, 2.f})), {0, 0}, 0, 0);
  // Against a direct loop on every length up to 17 (all search depths).
  for (int n = 1; n <= 17; ++n) {
    array s = arange(0, 2 * n, 2);
    array v = arange(-1, 2 * n + 1);
    auto got = searchsorted(s, v, "right").to_vector<uint32_t>();
    for (int i = 0; i < int(got.size()); ++i) {
      int v = i - 1;  // elements of s (0, 2, ..., 2n - 2) at most v
      EXPECT_EQ(int(got[i]), v < 0 ? 0 : std::min(v / 2 + 1, n)) << n << " " << i;
    }
  }
  EXPECT_NE(test::error_of([&] { searchsorted(seq, seq, "middle"); }).find("[searchsorted]"), std::string::npos);
  EXPECT_NE(test::error_of([&] { searchsorted(zeros({2, 2}), seq); }).find("1-D"), std::string::npos);
  test::expect_vmap(test::lift([](const array& s, const array& v) { return searchsorted(s, v); }),
                    {sort(test::vrand({3, 7}, 3), 1), test::vrand({3, 5}, 4)}, {0, 0});
}

TEST(SmallOps, PositiveTruncLogicalXor) {
  array x = array({-1.5f, 2.f});
  EXPECT_TRUE(array_equal(positive(x), x).item<bool>());
  auto g = golden("trunc");
  g.check(trunc(g.in[0]));
  EXPECT_TRUE(std::signbit(trunc(array(-0.5f)).item<float>()));
  EXPECT_EQ(trunc(arange(3)).dtype(), int32);
  EXPECT_NE(test::error_of([] { trunc(astype(array(1.f), complex64)); }).find("[trunc]"), std::string::npos);
  g = golden("logical_xor");
  array out = logical_xor(astype(g.in[0], int32), astype(g.in[1], float32));
  EXPECT_EQ(out.dtype(), bool_);
  g.check(out);
}

TEST(SmallOps, MaskedScatter) {
  // MLX's python tests.
  test::expect_close(masked_scatter(array({1.f, 2.f, 3.f}), array({true, false, true}), array({5.f, 6.f})),
                     {5, 2, 6}, 0, 0);
  array c = array({0.f, 0.f, 0.f, 1.f, 1.f, 1.f}, {2, 3});
  test::expect_close(masked_scatter(c, array({true, false}), array({2.f, 3.f, 4.f})), {2, 3, 4, 1, 1, 1}, 0, 0);
  test::expect_close(masked_scatter(c, array({true, false}), array(2.f)), {2, 2, 2, 1, 1, 1}, 0, 0);
  array d = array({7.f, 8.f, 9.f, 10.f}, {2, 2});
  test::expect_close(masked_scatter(d, zeros({2, 2}, bool_), array({1.f})), {7, 8, 9, 10}, 0, 0);
  array target = slice(arange(10.0, float32), {1}, {10}, {2});
  array mask = slice(array({false, true, false, false, true, false, false, true, false, false}), {1}, {10}, {2});
  array src = slice(arange(-4.0, 0.0, float32), {0}, {4}, {2});
  test::expect_close(masked_scatter(target, mask, src), {-4, 3, 5, -2, 9}, 0, 0);
  // A full mask against a loop, and the gradient to a and value.
  array a = test::randn({3, 4});
  array m = array({true, false, true, true, false, false, true, false, true, true, false, true}, {3, 4});
  array v = test::randn({8});
  auto av = a.to_vector<double>(), vv = v.to_vector<double>();
  auto mv = m.to_vector<bool>();
  std::vector<double> e;
  for (int i = 0, k = 0; i < 12; ++i) e.push_back(mv[i] ? vv[k++] : av[i]);
  test::expect_close(masked_scatter(a, m, v), e, 0, 0);
  test::check_grad([&](const array& x) { return masked_scatter(x, m, v); }, a);
  test::check_grad([&](const array& x) { return masked_scatter(a, m, x); }, v);
  EXPECT_NE(test::error_of([&] { masked_scatter(a, astype(m, int32), v); }).find("bool"), std::string::npos);
  EXPECT_NE(test::error_of([&] { masked_scatter(a, array({true, false}), v); }).find("[masked_scatter]"),
            std::string::npos);
}

TEST(SmallOps, Diff) {
  auto g = golden("diff_1");
  array a = astype(g.in[0], float64);
  g.check(diff(a));
  (golden("diff_2_axis0")).check(diff(a, 2, 0));
  (golden("diff_3")).check(diff(a, 3, -1));
  (golden("diff_big_n")).check(diff(a, 8, 1));
  EXPECT_EQ(diff(a, 0).shape(), a.shape());
  EXPECT_NE(test::error_of([&] { diff(a, -1); }).find("[diff]"), std::string::npos);
  EXPECT_NE(test::error_of([&] { diff(a, 1, 2); }).find("[diff]"), std::string::npos);
}

TEST(SmallOps, Vecdot) {
  auto g = golden("vecdot_last");
  array a = astype(g.in[0], float64), b = astype(g.in[1], float64);
  g.check(vecdot(a, b));
  (golden("vecdot_axis1")).check(vecdot(a, b, 1));
  EXPECT_NE(test::error_of([&] { vecdot(a, slice(b, {0, 0, 0}, {2, 3, 3})); }).find("[vecdot]"), std::string::npos);
  EXPECT_NE(test::error_of([&] { vecdot(a, array(1.0)); }).find("[vecdot]"), std::string::npos);
  test::expect_vmap(test::lift([](const array& x, const array& y) { return vecdot(x, y); }),
                    {test::vrand({2, 3, 4}, 5), test::vrand({2, 3, 4}, 6)}, {1, 1}, {}, 1e-6, 1e-6);
}

TEST(SmallOps, Fp8) {
  auto g = golden("to_fp8");
  for (Dtype t : {float32, float64}) {
    array out = to_fp8(astype(g.in[0], t));
    EXPECT_EQ(out.dtype(), uint8);
    g.check(out);
  }
  float inf = std::numeric_limits<float>::infinity(), nanf = std::numeric_limits<float>::quiet_NaN();
  test::expect_close(to_fp8(array({inf, -inf, nanf, -nanf})), {0x7E, 0xFE, 0x7E, 0xFE}, 0, 0);
  // Every byte decodes to the value that encodes back to it (0x7F/0xFF: 480,
  // which saturates to 0x7E/0xFE, as MLX).
  array bytes = astype(arange(256), uint8);
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    array f = from_fp8(bytes, t);
    EXPECT_EQ(f.dtype(), t);
    auto back = to_fp8(f).to_vector<uint8_t>();
    for (int b = 0; b < 256; ++b) {
      int e = (b & 0x7F) == 0x7F ? (b & 0x80) | 0x7E : b;
      EXPECT_EQ(int(back[b]), e) << "byte " << b;
    }
  }
  auto f = from_fp8(bytes, float32).to_vector<float>();
  EXPECT_EQ(f[0x7E], 448.f);
  EXPECT_EQ(f[0x7F], 480.f);
  EXPECT_EQ(f[0x01], std::ldexp(1.f, -9));
  EXPECT_EQ(f[0xB8], -1.f);
  EXPECT_NE(test::error_of([] { to_fp8(arange(3)); }).find("[to_fp8]"), std::string::npos);
  EXPECT_NE(test::error_of([] { from_fp8(arange(3), float32); }).find("[from_fp8]"), std::string::npos);
  EXPECT_NE(test::error_of([&] { from_fp8(bytes, int32); }).find("[from_fp8]"), std::string::npos);
  test::expect_vmap(test::lift([](const array& x) { return to_fp8(x); }), {test::vrand({3, 5}, 7, -500, 500)}, {1});
}
