// hadamard_transform: values against y = scale * (H_m (x) H_p) x computed by
// a direct float64 loop here (H_m from its +/- rows as MLX's tests print
// them, H_p from the Sylvester sign rule), for every supported m, every
// dtype and strided inputs; MLX's size-1 and dtype rules; the gradients
// (the vjp needs H^T: H_20 and H_28 are not symmetric); vmap; errors.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
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

// The matrices MLX's CPU kernel uses (mlx/backend/common/hadamard.h).
const std::vector<std::string> kH12 = {
    "+-++++++++++", "--+-+-+-+-+-", "+++-++----++", "+---+--+-++-", "+++++-++----", "+-+---+--+-+",
    "++--+++-++--", "+--++---+--+", "++----+++-++", "+--+-++---+-", "++++----+++-", "+-+--+-++---"};
const std::vector<std::string> kH20 = {
    "+----+----++--++-++-", "-+----+---+++---+-++", "--+----+---+++-+-+-+", "---+----+---+++++-+-",
    "----+----++--++-++-+", "-+++++-----+--+++--+", "+-+++-+---+-+--+++--", "++-++--+---+-+--+++-",
    "+++-+---+---+-+--+++", "++++-----++--+-+--++", "--++-+-++-+-----++++", "---++-+-++-+---+-+++",
    "+---++-+-+--+--++-++", "++---++-+----+-+++-+", "-++---++-+----+++++-", "-+--+--++-+----+----",
    "+-+-----++-+----+---", "-+-+-+---+--+----+--", "--+-+++------+----+-", "+--+--++------+----+"};
const std::vector<std::string> kH28 = {
    "+------++----++-+--+-+--++--", "-+-----+++-----+-+--+-+--++-", "--+-----+++---+-+-+----+--++",
    "---+-----+++---+-+-+-+--+--+", "----+-----+++---+-+-+++--+--", "-----+-----++++--+-+--++--+-",
    "------++----++-+--+-+--++--+", "--++++-+-------++--+++-+--+-", "---++++-+-----+-++--+-+-+--+",
    "+---+++--+----++-++--+-+-+--", "++---++---+----++-++--+-+-+-", "+++---+----+----++-++--+-+-+",
    "++++--------+-+--++-++--+-+-", "-++++--------+++--++--+--+-+", "-+-++-++--++--+--------++++-",
    "+-+-++--+--++--+--------++++", "-+-+-++--+--++--+----+---+++", "+-+-+-++--+--+---+---++---++",
    "++-+-+-++--+------+--+++---+", "-++-+-+-++--+------+-++++---", "+-++-+---++--+------+-++++--",
    "-++--++-+-++-+++----++------", "+-++--++-+-++-+++-----+-----", "++-++---+-+-++-+++-----+----",
    "-++-++-+-+-+-+--+++-----+---", "--++-++++-+-+----+++-----+--", "+--++-+-++-+-+----+++-----+-",
    "++--++-+-++-+-+----++------+"};

const std::vector<std::string>& rows_of(int m) { return m == 12 ? kH12 : m == 20 ? kH20 : kH28; }

// H(i, j) of the order-n matrix H_m (x) H_p, n = m p.
int h_entry(int m, int64_t p, int64_t i, int64_t j) {
  int s = std::popcount(uint64_t((i % p) & (j % p))) % 2 ? -1 : 1;
  if (m > 1 && rows_of(m)[size_t(i / p)][size_t(j / p)] == '-') s = -s;
  return s;
}

// scale * H x along the last axis of a (rows, n) float64 matrix.
std::vector<double> reference(const std::vector<double>& x, int64_t n, int m, double scale, bool transposed = false) {
  const int64_t p = n / m, rows = int64_t(x.size()) / n;
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += (transposed ? h_entry(m, p, j, i) : h_entry(m, p, i, j)) * x[r * n + j];
      y[r * n + i] = scale * s;
    }
  }
  return y;
}

std::vector<double> values(const array& a) { return astype(a, float64).to_vector<double>(); }

}  // namespace

TEST(Hadamard, TheTestMatricesAreHadamard) {
  for (int m : {12, 20, 28}) {
    const auto& h = rows_of(m);
    ASSERT_EQ(h.size(), size_t(m));
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < m; ++j) {
        int dot = 0;
        for (int k = 0; k < m; ++k) dot += (h[i][k] == '+' ? 1 : -1) * (h[j][k] == '+' ? 1 : -1);
        EXPECT_EQ(dot, i == j ? m : 0) << "m=" << m << " rows " << i << ", " << j;
      }
    }
  }
}

TEST(Hadamard, MatchesTheDirectProductForEveryBlockOrder) {
  for (int m : {1, 12, 20, 28}) {
    for (int k : {0, 1, 2, 3, 4, 5, 7}) {
      const int64_t n = int64_t(m) << k;
      if (n == 1 || (m > 1 && k > 5)) continue;
      SCOPED_TRACE("m=" + std::to_string(m) + " k=" + std::to_string(k));
      array x = randn({3, int32_t(n)}, float32);
      auto xv = values(x);
      const float scale = 0.34f;
      expect_close(hadamard_transform(x, scale), reference(xv, n, m, scale), 1e-5, 2e-5 * std::sqrt(double(n)));
      // The default scale makes it orthonormal.
      expect_close(hadamard_transform(x), reference(xv, n, m, 1.0 / std::sqrt(double(n))), 1e-5, 2e-5);
    }
  }
}

TEST(Hadamard, LargeSizesAgainstTheRecursion) {
  // Too large for the direct loop: H_2p x = [H_p x1 + H_p x2; H_p x1 - H_p x2]
  // (Sylvester), and for n = 12 p each block of y is the sum over k of
  // H_12(j, k) H_p x_k, in float64.
  for (int32_t n : {1 << 12, 1 << 15}) {
    array x = randn({2, n});
    array h1 = hadamard_transform(slice(x, {0, 0}, {2, n / 2}), 1.f);
    array h2 = hadamard_transform(slice(x, {0, n / 2}, {2, n}), 1.f);
    expect_close(hadamard_transform(x, 1.f), values(concatenate({add(h1, h2), subtract(h1, h2)}, 1)), 1e-12, 1e-9);
  }
  const int32_t p = 1 << 10;
  array x = randn({2, 12 * p});
  std::vector<array> blocks;
  for (int k = 0; k < 12; ++k) blocks.push_back(hadamard_transform(slice(x, {0, k * p}, {2, (k + 1) * p}), 1.f));
  std::vector<array> want;
  for (int j = 0; j < 12; ++j) {
    array acc = zeros({2, p}, float64);
    for (int k = 0; k < 12; ++k) acc = kH12[size_t(j)][size_t(k)] == '+' ? add(acc, blocks[size_t(k)]) : subtract(acc, blocks[size_t(k)]);
    want.push_back(acc);
  }
  expect_close(hadamard_transform(x, 1.f), values(concatenate(want, 1)), 1e-12, 1e-9);
}

TEST(Hadamard, EveryFloatDtypeAndStridedInputs) {
  const int64_t n = 40;  // m = 20
  array base = randn({6, int32_t(n)}, float32);
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    SCOPED_TRACE(dtype_name(t));
    array x = astype(base, t);
    array y = hadamard_transform(x, 0.5f);
    EXPECT_EQ(y.dtype(), t);
    // Computed in float32 from the rounded inputs, rounded once.
    double tol = t == float64 || t == float32 ? 1e-5 : 4 * rtol_for(t);
    expect_close(y, reference(values(x), n, 20, 0.5), tol, tol);
  }
  // Every other row, and the transpose of a (n, 3) matrix.
  array rows = slice(base, {0, 0}, {6, int32_t(n)}, {2, 1});
  expect_close(hadamard_transform(rows, 0.5f), reference(values(rows), n, 20, 0.5), 1e-5, 1e-5);
  array cols = transpose(randn({int32_t(n), 3}, float32));
  expect_close(hadamard_transform(cols, 0.5f), reference(values(cols), n, 20, 0.5), 1e-5, 1e-5);
  // Broadcast rows.
  array bc = broadcast_to(slice(base, {0, 0}, {1, int32_t(n)}), {4, int32_t(n)});
  expect_close(hadamard_transform(bc, 0.5f), reference(values(bc), n, 20, 0.5), 1e-5, 1e-5);
}

TEST(Hadamard, DtypeAndSizeOneRulesAsMlx) {
  array i = array({1, 2, 3, 4}, {1, 4});
  array y = hadamard_transform(i, 1.f);
  EXPECT_EQ(y.dtype(), float32);
  expect_close(y, {10, -2, -4, 0});
  EXPECT_EQ(hadamard_transform(astype(i, bool_), 1.f).dtype(), float32);
  // n = 1: a scalar (0-d) or a last axis of 1 multiplies by the scale; with
  // scale 1 the input comes back as it is.
  EXPECT_EQ(hadamard_transform(array(5.f)).item<float>(), 5.f);
  EXPECT_NEAR(hadamard_transform(array(5.f), 0.2f).item<float>(), 1.f, 1e-6);
  array col = randn({8, 8, 1}, float32);
  EXPECT_EQ(hadamard_transform(col).id(), col.id());
  array ci = hadamard_transform(array({3}, {1}), 2.f);
  EXPECT_EQ(ci.dtype(), float32);
  EXPECT_EQ(ci.item<float>(), 6.f);
}

TEST(Hadamard, VjpAndJvpInFloat64) {
  for (int64_t n : {16, 12, 40, 28, 56}) {
    SCOPED_TRACE(n);
    UnaryFn f = [](const array& x) { return hadamard_transform(x, 0.3f); };
    array x = randn({2, int32_t(n)});
    check_grad(f, x);
    // The vjp applies H^T: against the direct loop.
    array c = randn({2, int32_t(n)});
    int m = n % 3 == 0 ? 12 : n % 5 == 0 ? 20 : n % 7 == 0 ? 28 : 1;
    expect_close(uma::vjp(f, x, c).second, reference(values(c), n, m, double(0.3f), true), 1e-12, 1e-12);
    check_vjp_of_vjp(f, x);
  }
}

TEST(Hadamard, VmapOverEachAxis) {
  array x = randn({3, 8, 12}, float32);
  auto f = lift(Fn1([](const array& v) { return hadamard_transform(v, 0.5f); }));
  for (int ax : {0, 1, 2}) {
    expect_vmap(f, {x}, {ax}, {ax}, 1e-6, 1e-6);
    expect_vmap(f, {x}, {ax}, {0}, 1e-6, 1e-6);
  }
  // vmap of vmap.
  auto inner = [](const std::vector<array>& xs) { return vmap(lift(Fn1([](const array& v) { return hadamard_transform(v); })), {1}, {1})(xs); };
  expect_vmap(inner, {x}, {0}, {2}, 1e-6, 1e-6, "vmap of vmap");
}

TEST(Hadamard, ErrorsNameTheProblem) {
  EXPECT_EQ(error_of([] { hadamard_transform(zeros({0})); }),
            "[hadamard_transform] does not take empty arrays, got shape (0)");
  const std::string sizes = "; supported sizes are m * 2^k with m in {1, 12, 20, 28} and k <= 26";
  EXPECT_EQ(error_of([] { hadamard_transform(zeros({2, 36})); }),
            "[hadamard_transform] the last axis of (2,36) has size 36" + sizes);
  EXPECT_EQ(error_of([] { hadamard_transform(zeros({3})); }), "[hadamard_transform] the last axis of (3) has size 3" + sizes);
  EXPECT_EQ(error_of([] { hadamard_transform(zeros({1 << 27})); }),
            "[hadamard_transform] the last axis of (134217728) has size 134217728" + sizes);
  EXPECT_EQ(error_of([] { hadamard_transform(zeros({12 << 27})); }),
            "[hadamard_transform] the last axis of (1610612736) has size 1610612736" + sizes);
}
