// The one float32 exp of the CPU backend (simd/math.h, exp_v) and the
// softmax / logsumexp rows built on it (simd/impl.h), at every SIMD table
// this CPU runs and through the public ops at the tier in use (the suite is
// rerun at each lower tier, tests/tier_guard.cpp):
//   - edges: underflow (results below FLT_MIN flush to +0), overflow (+inf),
//     NaN, +-inf, subnormal inputs;
//   - accuracy against float64 std::exp over a dense sweep (bound in ulps);
//   - softmax's exp(x - max) equals the elementwise exp of the same float32
//     values bit for bit, across the underflow boundary.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "uma/backend/cpu/simd/kernels.h"
#include "uma/uma.h"

using namespace uma;
namespace simd = uma::cpu::simd;

namespace {

// exp_v's documented range (simd/math.h): the least float with e^x >= FLT_MIN
// and the least float whose e^x rounds to +inf.
constexpr float kLo = -87.33654022216797f;
constexpr float kHi = 88.72283935546875f;
// The measured worst case over every float in [kLo, kHi) is 1.0103 ulp.
constexpr double kExpMaxUlp = 1.011;
constexpr float kInf = std::numeric_limits<float>::infinity();

uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

std::vector<const simd::Kernels*> tables() {
  std::vector<const simd::Kernels*> t = {&simd::avx2_kernels()};
  if (auto* k = simd::avx512_kernels()) t.push_back(k);
  return t;
}

std::vector<float> run_exp(const simd::Kernels& k, const std::vector<float>& x) {
  std::vector<float> y(x.size());
  k.exp[simd::f32](x.data(), y.data(), int64_t(x.size()));
  return y;
}

// |got - e^x| in float32 ulps of e^x, e^x in float64 and a normal float.
double ulp_error(float got, float x) {
  double ref = std::exp(double(x));
  return std::abs(double(got) - ref) / std::ldexp(1.0, std::ilogb(ref) - 23);
}

// The floats on both sides of each edge, and the special values.
struct Edge {
  float x;
  float want;  // NaN: any NaN
};

std::vector<Edge> edges() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  return {
      {0.0f, 1.0f},
      {-0.0f, 1.0f},
      {1e-45f, 1.0f},      // subnormal inputs: e^x rounds to 1
      {-1e-45f, 1.0f},
      {-1e-40f, 1.0f},
      {FLT_MIN, 1.0f},
      {-kInf, 0.0f},
      {kInf, kInf},
      {nan, nan},
      {-nan, nan},
      {std::nextafter(kLo, -kInf), 0.0f},  // e^x just below FLT_MIN: flushed
      {-87.5f, 0.0f},
      {-88.0f, 0.0f},
      {-100.0f, 0.0f},     // e^x would be the subnormal 3.7e-44
      {-103.9f, 0.0f},
      {-104.0f, 0.0f},
      {-1e30f, 0.0f},
      {-FLT_MAX, 0.0f},
      {kHi, kInf},         // e^x = FLT_MAX (1 + 3e-7): rounds to +inf
      {88.8f, kInf},
      {89.0f, kInf},
      {1e30f, kInf},
      {FLT_MAX, kInf},
  };
}

void expect_edge(float got, const Edge& e) {
  if (std::isnan(e.want)) {
    EXPECT_TRUE(std::isnan(got)) << "exp(" << e.x << ") = " << got;
  } else {
    EXPECT_EQ(bits(got), bits(e.want)) << "exp(" << e.x << ") = " << got << ", want " << e.want;  // +0, not -0
  }
}

}  // namespace

TEST(SimdExp, EdgesEveryTable) {
  for (auto* k : tables()) {
    SCOPED_TRACE(k->isa);
    std::vector<float> x;
    for (auto& e : edges()) x.push_back(e.x);
    // Each value alone too: a one-element call goes through the tail path.
    std::vector<float> y = run_exp(*k, x);
    for (size_t i = 0; i < x.size(); ++i) {
      expect_edge(y[i], edges()[i]);
      expect_edge(run_exp(*k, {x[i]})[0], edges()[i]);
    }
    // The range ends: normal results at kLo, finite just below kHi.
    float at_lo = run_exp(*k, {kLo})[0];
    EXPECT_GE(at_lo, FLT_MIN);
    EXPECT_LE(ulp_error(at_lo, kLo), kExpMaxUlp);
    float below_hi = std::nextafter(kHi, 0.0f);
    float top = run_exp(*k, {below_hi})[0];
    EXPECT_TRUE(std::isfinite(top));
    EXPECT_LE(ulp_error(top, below_hi), kExpMaxUlp);
    // Every float from the flush point down to where e^x rounds to 0 in
    // float32 (-103.97), stepping through the bit patterns: all +0.
    std::vector<float> sub;
    for (uint32_t u = bits(std::nextafter(kLo, -kInf)); u <= bits(-104.0f); u += 97) {
      float v;
      std::memcpy(&v, &u, 4);
      sub.push_back(v);
    }
    std::vector<float> ys = run_exp(*k, sub);
    for (size_t i = 0; i < sub.size(); ++i) ASSERT_EQ(bits(ys[i]), 0u) << "exp(" << sub[i] << ")";
  }
}

// The public op at the tier in use, float32 and the half formats (which
// compute in float32 and round).
TEST(SimdExp, EdgesPublicOp) {
  std::vector<float> x;
  for (auto& e : edges()) x.push_back(e.x);
  array a(x.data(), {int32_t(x.size())}, float32);
  auto y = exp(a).to_vector<float>();
  for (size_t i = 0; i < x.size(); ++i) expect_edge(y[i], edges()[i]);
  for (Dtype t : {float16, bfloat16}) {
    SCOPED_TRACE(dtype_name(t));
    auto h = exp(astype(array({-kInf, kInf, std::numeric_limits<float>::quiet_NaN(), 0.0f, -100.0f, 12.0f}), t))
                 .to_vector<float>();
    EXPECT_EQ(h[0], 0.0f);
    EXPECT_EQ(h[1], kInf);
    EXPECT_TRUE(std::isnan(h[2]));
    EXPECT_EQ(h[3], 1.0f);
    EXPECT_EQ(bits(h[4]), 0u);
    // e^12 = 162754.8: past float16's 65504, within bfloat16's range.
    if (t == float16) {
      EXPECT_EQ(h[5], kInf);
    } else {
      EXPECT_NEAR(h[5], 162754.8, 162754.8 / 256);
    }
  }
}

// Ulp error against float64 std::exp on a dense sweep of bit patterns over
// the whole normal-result range (every 13th float: ~1.7e8 values), plus the
// worst case found by the exhaustive run (simd/math.h).
TEST(SimdExp, UlpBoundDenseSweep) {
  for (auto* k : tables()) {
    SCOPED_TRACE(k->isa);
    double worst = 0;
    float worst_x = 0;
    std::vector<float> x, y;
    x.reserve(1 << 20);
    auto flush = [&] {
      y.resize(x.size());
      k->exp[simd::f32](x.data(), y.data(), int64_t(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        double e = ulp_error(y[i], x[i]);
        if (!(e <= worst)) {  // NaN counts as worst
          worst = e;
          worst_x = x[i];
        }
      }
      x.clear();
    };
    // Negative floats from -0 down to kLo, then positive from +0 up to kHi.
    for (auto [from, to] : {std::pair{bits(-0.0f), bits(kLo)}, std::pair{bits(0.0f), bits(kHi) - 1}}) {
      for (uint64_t u = from; u <= to; u += 13) {
        float v;
        uint32_t b = uint32_t(u);
        std::memcpy(&v, &b, 4);
        x.push_back(v);
        if (x.size() == (1 << 20)) flush();
      }
    }
    x.push_back(-5.87788439f);
    flush();
    std::printf("[          ] %s exp: max %.4f ulp against float64 (bound %.3f)\n", k->isa, worst, kExpMaxUlp);
    EXPECT_LE(worst, kExpMaxUlp) << "at x = " << worst_x;
    EXPECT_GT(worst, 1.0);  // the sweep reaches the known worst case
  }
}

// softmax and logsumexp take exp(x - max) from the same exp_v: the values
// softmax exponentiates equal exp of the float32 differences, bit for bit,
// including across the flush point and at -inf.
TEST(SimdExp, SoftmaxExpBitEqualsElementwiseExp) {
  std::mt19937 rng(20240901);
  std::uniform_real_distribution<float> wide(-130.0f, 20.0f);
  for (auto* k : tables()) {
    SCOPED_TRACE(k->isa);
    for (int64_t n : {1, 7, 8, 15, 16, 17, 31, 33, 129, 1000}) {
      std::vector<float> x(n);
      for (auto& v : x) v = wide(rng);
      if (n > 3) x[2] = -kInf;
      if (n > 5) x[4] = x[0] + kLo;  // exactly at the edge relative to x[0]
      float m = -kInf;
      for (float v : x) m = std::max(m, v);
      std::vector<float> e(n, -1.0f), d(n);
      double s = k->exp_shift_sum_f32(x.data(), m, e.data(), n);
      for (int64_t j = 0; j < n; ++j) d[j] = x[j] - m;
      std::vector<float> want = run_exp(*k, d);
      double want_sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_EQ(bits(e[j]), bits(want[j])) << "n " << n << " j " << j << " x - max = " << d[j];
        want_sum += want[j];
      }
      EXPECT_NEAR(s, want_sum, 1e-6 * want_sum);
      // Without an output the sum is the same.
      EXPECT_EQ(k->exp_shift_sum_f32(x.data(), m, nullptr, n), s);
    }
  }
}

// Through the public ops: a row whose maximum is 0 and whose other entries
// are all below e^-25 sums to exactly 1 in float32, so softmax returns its
// exponentials unscaled, and they must equal exp() of the same values.
TEST(SimdExp, SoftmaxEqualsExpPublicOps) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> tiny(-110.0f, -25.0f);
  for (Dtype t : {float32, float16, bfloat16}) {
    SCOPED_TRACE(dtype_name(t));
    for (int n : {2, 9, 33, 129, 1000}) {
      std::vector<float> x(n);
      for (auto& v : x) v = tiny(rng);
      x[n / 2] = 0.0f;
      if (n > 3) x[1] = -kInf;
      if (n > 8) x[3] = kLo, x[5] = std::nextafter(kLo, -kInf), x[7] = -87.0f;
      array a = astype(array(x.data(), {1, n}, float32), t);
      auto sm = astype(softmax(a, -1), float32).to_vector<float>();
      auto ex = astype(exp(a), float32).to_vector<float>();
      for (int j = 0; j < n; ++j) ASSERT_EQ(bits(sm[j]), bits(ex[j])) << "n " << n << " j " << j << " x " << x[j];
    }
  }
}

// Softmax / logsumexp edge rows, float32 and half formats, against the
// definitions in float64 (with results below FLT_MIN flushed).
TEST(SimdExp, SoftmaxEdges) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Dtype t : {float32, float16, bfloat16}) {
    SCOPED_TRACE(dtype_name(t));
    auto sm = [&](std::vector<float> v) {
      return astype(softmax(astype(array(v.data(), {int32_t(v.size())}, float32), t), -1), float32)
          .to_vector<float>();
    };
    auto lse = [&](std::vector<float> v) {
      return astype(logsumexp(astype(array(v.data(), {int32_t(v.size())}, float32), t), -1), float32).item<float>();
    };
    // Underflow: e^-88 and e^-100 are below FLT_MIN: exactly 0, not subnormal.
    auto u = sm({0.0f, -88.0f, -100.0f, -kInf, -1e30f});
    EXPECT_EQ(u, (std::vector<float>{1.0f, 0.0f, 0.0f, 0.0f, 0.0f}));
    for (float v : u) EXPECT_FALSE(std::signbit(v));
    // Large logits: only differences matter, nothing overflows.
    auto big = sm({60000.0f, 60000.0f});
    EXPECT_EQ(big, (std::vector<float>{0.5f, 0.5f}));
    // NaN anywhere: the whole row is NaN.
    for (float v : sm({1.0f, nan, 2.0f})) EXPECT_TRUE(std::isnan(v));
    // +inf: inf - inf is NaN, as in the float64 definition.
    for (float v : sm({kInf, 0.0f})) EXPECT_TRUE(std::isnan(v));
    // All -inf: -inf - (-inf) is NaN, as in the float64 definition.
    for (float v : sm({-kInf, -kInf})) EXPECT_TRUE(std::isnan(v));
    // One element: exactly 1.
    EXPECT_EQ(sm({-3.0f}), (std::vector<float>{1.0f}));
    EXPECT_EQ(lse({-kInf, -kInf}), -kInf);
    EXPECT_EQ(lse({kInf, 0.0f}), kInf);
    EXPECT_TRUE(std::isnan(lse({0.0f, nan})));
    EXPECT_EQ(lse({0.0f, -100.0f}), 0.0f);  // e^-100 flushed: log(1) exactly
    EXPECT_NEAR(lse({1000.0f, 1000.0f}), 1000.0 + std::log(2.0), t == float32 ? 1e-4 : 8.0);
  }
}

// Softmax of random rows of odd lengths against float64, float32 inputs. The
// error bound: x - max is rounded to float32 first (half an ulp of |x - max|,
// which exp turns into a relative error of |x - max| 2^-24), then 2e-6
// relative for exp's ~1 ulp, the sum, the reciprocal and the product, plus
// FLT_MIN absolute (the flush).
TEST(SimdExp, SoftmaxAgainstFloat64) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-100.0f, 10.0f);
  for (int n : {1, 7, 33, 129, 4097}) {
    std::vector<float> x(size_t(3) * n);
    for (auto& v : x) v = dist(rng);
    auto got = softmax(array(x.data(), {3, n}, float32), -1).to_vector<float>();
    for (int r = 0; r < 3; ++r) {
      double m = -INFINITY, s = 0;
      for (int j = 0; j < n; ++j) m = std::max(m, double(x[r * n + j]));
      for (int j = 0; j < n; ++j) s += std::exp(double(x[r * n + j]) - m);
      for (int j = 0; j < n; ++j) {
        double d = double(x[r * n + j]) - m;
        double want = std::exp(d) / s;
        double tol = want * (2e-6 + std::abs(d) * std::ldexp(1.0, -24)) + FLT_MIN;
        ASSERT_NEAR(got[r * n + j], want, tol) << "n " << n << " r " << r << " j " << j;
      }
    }
  }
}
