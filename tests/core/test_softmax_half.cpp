// Softmax and logsumexp of float16/bfloat16 (and float32) rows with large
// logits, against float64 over the exactly rounded inputs. exp(x) overflows
// float32 past 88.7, so a kernel that forgets to subtract the row maximum
// gives inf/NaN here. Half rows run the row kernels of the tier in use,
// widened to float32 in registers (simd/impl.h). Rows of 1..1000 cover the
// 16- and 8-wide blocks and the masked tails; axis != last and strided
// inputs cover the copy to row-major.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/reduction_ref.h"
#include "core/util.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::test;

namespace {

// n values in [center - spread, center + spread).
std::vector<double> logits(size_t n, float center, float spread, uint32_t seed) {
  return random_values(n, center - spread, center + spread, seed);
}

// Softmax and logsumexp of each row (last axis) of the row-major values.
void reference(const std::vector<double>& x, size_t n, std::vector<double>& sm,
               std::vector<double>& lse) {
  size_t rows = x.size() / n;
  sm.assign(x.size(), 0);
  lse.assign(rows, 0);
  for (size_t r = 0; r < rows; ++r) {
    const double* xr = &x[r * n];
    double m = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
    double s = 0;
    for (size_t j = 0; j < n; ++j) s += std::exp(xr[j] - m);
    for (size_t j = 0; j < n; ++j) sm[r * n + j] = std::exp(xr[j] - m) / s;
    lse[r] = m + std::log(s);
  }
}

void expect_near_all(array got, const std::vector<double>& want, Dtype dt, double atol,
                     const char* what) {
  EXPECT_EQ(got.dtype(), dt) << what;
  auto g = astype(got, float64).to_vector<double>();
  ASSERT_EQ(g.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < g.size() && bad < 5; ++i) {
    bool ok = std::abs(g[i] - want[i]) <= atol + rtol_for(dt) * std::abs(want[i]);
    if (!ok) ++bad;
    EXPECT_TRUE(ok) << what << " at " << i << ": got " << g[i] << " want " << want[i];
  }
}

struct Range {
  Dtype dt;
  float center, spread;
};

// float16 reaches 65504 (spacing 32 up there), bfloat16 float32's range
// with 8 bits of mantissa: centres where exp(x) alone overflows float32.
const std::vector<Range> kRanges = {
    {float16, 20.f, 8.f},      {float16, 100.f, 10.f},     {float16, 1000.f, 30.f},
    {float16, 60000.f, 500.f}, {float16, -60000.f, 500.f}, {bfloat16, 60.f, 8.f},
    {bfloat16, 300.f, 40.f},   {bfloat16, 1000.f, 100.f},  {bfloat16, -1000.f, 100.f},
    {float32, 100.f, 10.f},    {float32, 1000.f, 20.f},
};

}  // namespace

TEST(SoftmaxHalf, LargeLogitsLastAxis) {
  uint32_t seed = 1;
  for (const auto& rg : kRanges) {
    for (int n : {1, 7, 8, 15, 16, 17, 33, 100, 1000}) {
      SCOPED_TRACE(std::string(dtype_name(rg.dt)) + " center " + std::to_string(rg.center) + " n " +
                   std::to_string(n));
      const int rows = 3;
      auto v = logits(size_t(rows) * n, rg.center, rg.spread, ++seed);
      array x = astype(array(v.data(), {rows, n}), rg.dt);
      std::vector<double> sm, lse;
      reference(astype(x, float64).to_vector<double>(), size_t(n), sm, lse);
      for (bool precise : {false, true})
        expect_near_all(softmax(x, -1, precise), sm, rg.dt, 1e-6, "softmax");
      expect_near_all(logsumexp(x, -1), lse, rg.dt, 1e-6, "logsumexp");
      // The probabilities still sum to one (within the dtype's rounding).
      auto row_sums = astype(sum(astype(softmax(x, -1), float32), -1), float64).to_vector<double>();
      for (double s : row_sums) EXPECT_NEAR(s, 1.0, n * rtol_for(rg.dt));
    }
  }
}

TEST(SoftmaxHalf, LargeLogitsOtherAxesAndStridedInputs) {
  uint32_t seed = 100;
  for (const auto& rg : kRanges) {
    SCOPED_TRACE(std::string(dtype_name(rg.dt)) + " center " + std::to_string(rg.center));
    const int R = 4, N = 37;
    auto v = logits(size_t(R) * N, rg.center, rg.spread, ++seed);
    // base: (N, R); softmax over axis 0 reduces the N values of each column.
    array base = astype(array(v.data(), {N, R}), rg.dt);
    array t = transpose(base, {1, 0});  // (R, N) view with strides (1, R)
    std::vector<double> sm, lse;
    reference(astype(t, float64).to_vector<double>(), N, sm, lse);
    for (bool precise : {false, true}) {
      expect_near_all(softmax(t, -1, precise), sm, rg.dt, 1e-6, "transposed input, last axis");
      expect_near_all(transpose(softmax(base, 0, precise), {1, 0}), sm, rg.dt, 1e-6, "axis 0");
    }
    expect_near_all(reshape(logsumexp(base, 0), {R}), lse, rg.dt, 1e-6, "logsumexp axis 0");
    expect_near_all(logsumexp(t, -1), lse, rg.dt, 1e-6, "logsumexp transposed");
    // Every other column of a (R, 2N) array: a strided last axis.
    auto w = logits(size_t(R) * 2 * N, rg.center, rg.spread, ++seed);
    array wide = astype(array(w.data(), {R, 2 * N}), rg.dt);
    array cols = slice(wide, {0, 1}, {R, 2 * N}, {1, 2});
    reference(astype(cols, float64).to_vector<double>(), N, sm, lse);
    expect_near_all(softmax(cols, -1), sm, rg.dt, 1e-6, "strided last axis");
    expect_near_all(logsumexp(cols, -1), lse, rg.dt, 1e-6, "logsumexp strided");
  }
}
