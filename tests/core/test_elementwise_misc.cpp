// where, clip, isclose, operators and weak scalars, the creation ops of the
// family, primitive identity, buffer donation, and the SIMD kernels' ulp
// accuracy against double-precision <cmath>.
#include <gtest/gtest.h>

#include <cstring>

#include "core/elementwise_util.h"
#include "uma/backend/cpu/simd/kernels.h"
#include "uma/core/primitives/elementwise.h"

using namespace uma;
using namespace uma::test;
namespace simd = uma::cpu::simd;

TEST(ElementwiseWhere, BroadcastPromoteLayouts) {
  array c = reshape(array({true, false, true}), {3, 1});
  array x = reshape(arange(4), {1, 4});
  array w = where(c, x, array(-1.5f));
  EXPECT_EQ(w.dtype(), float32);
  EXPECT_EQ(w.shape(), (Shape{3, 4}));
  expect_close(w, {0, 1, 2, 3, -1.5, -1.5, -1.5, -1.5, 0, 1, 2, 3});
  // Non-bool conditions are cast to bool; every dtype is selected exactly.
  for (Dtype t : all_real_dtypes()) {
    SCOPED_TRACE(dtype_name(t));
    array a = spread(t, 0, 9, 10), b = spread(t, 9, 0, 10);
    array cond = astype(array({0, 1, 2, 0, 0, 3, 0, 1, 1, 0}), int32);
    auto av = a.to_vector<double>(), bv = b.to_vector<double>();
    std::vector<double> e(10);
    auto cv = cond.to_vector<int>();
    for (int i = 0; i < 10; ++i) e[i] = cv[i] ? av[i] : bv[i];
    expect_close(where(cond, a, b), e, 0, 0);
  }
  // Transposed and sliced operands.
  array m = reshape(astype(arange(12), float32), {3, 4});
  array mt = transpose(m);
  array ct = greater(mt, array(5.0f));
  auto r = where(ct, mt, negative(mt)).to_vector<float>();
  auto mv = mt.to_vector<float>();
  for (size_t i = 0; i < mv.size(); ++i) EXPECT_EQ(r[i], mv[i] > 5 ? mv[i] : -mv[i]);
  array big = astype(arange(1 << 18), float32);
  auto bw = where(less(big, array(1000.0f)), big, array(0.0f)).to_vector<float>();
  EXPECT_EQ(bw[999], 999.0f);
  EXPECT_EQ(bw[1000], 0.0f);
  EXPECT_EQ(where(zeros({0}, bool_), zeros({0}), array(1.0f)).shape(), (Shape{0}));
  EXPECT_THROW(where(zeros({2}, bool_), zeros({3}), zeros({2})), std::invalid_argument);
}

TEST(ElementwiseClip, Bounds) {
  array a({-3.0f, 0.5f, 7.0f, NAN});
  expect_close(clip(a, array(-1.0f), array(2.0f)), {-1, 0.5, 2, NAN});
  expect_close(clip(a, std::nullopt, array(0.0f)), {-3, 0, 0, NAN});
  expect_close(clip(a, array(0.0f), std::nullopt), {0, 0.5, 7, NAN});
  EXPECT_EQ(clip(array({1, 5, 9}), array(2), array(6)).to_vector<int>(), (std::vector<int>{2, 5, 6}));
  EXPECT_EQ(clip(array({1, 5}), array(2.5f), std::nullopt).dtype(), float32);
  expect_close(clip(reshape(arange(6.0, float32), {2, 3}), array({1.0f, 2.0f, 3.0f}), array(4.0f)), {1, 2, 3, 3, 4, 4});
  EXPECT_THROW(clip(a, std::nullopt, std::nullopt), std::invalid_argument);
}

TEST(ElementwiseIsClose, Values) {
  array a({1.0f, 1.0f, INFINITY, INFINITY, NAN, 0.0f, 1e-9f});
  array b({1.0f + 1e-6f, 1.1f, INFINITY, -INFINITY, NAN, 1e-9f, 0.0f});
  EXPECT_EQ(isclose(a, b).to_vector<bool>(), (std::vector<bool>{true, false, true, false, false, true, true}));
  EXPECT_EQ(isclose(a, b, 1e-5, 1e-8, true).to_vector<bool>()[4], true);
  EXPECT_EQ(isclose(a, b, 0.2).to_vector<bool>()[1], true);
  EXPECT_EQ(isclose(array({1, 2}), array({1, 3})).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(isclose(zeros({2, 1}), zeros({3})).shape(), (Shape{2, 3}));
}

TEST(ElementwiseOperators, WeakScalars) {
  array f16 = astype(array({1.0f, 2.0f}), float16), bf = astype(array({1.0f}), bfloat16);
  array i8 = array({int8_t(100)}), u8 = array({uint8_t(3)}), i32 = array({5}), b = array({true});
  EXPECT_EQ((bf * 0.5).dtype(), bfloat16);
  EXPECT_EQ((f16 + 1).dtype(), float16);
  EXPECT_EQ((i32 * 0.5).dtype(), float32);
  EXPECT_EQ((i32 * 2).dtype(), int32);
  EXPECT_EQ((i8 + 1).dtype(), int8);
  EXPECT_EQ((i8 + 100).item<int>(), -56);  // wraps in int8 like MLX
  EXPECT_EQ((u8 - 1).item<int>(), 2);
  EXPECT_EQ((b + 1).dtype(), int32);
  EXPECT_EQ((b * 1.5).dtype(), float32);
  EXPECT_EQ((2.0 - f16).dtype(), float16);
  expect_close(2.0 - f16, {1, 0});
  expect_close(1 / astype(array({4.0f}), float16), {0.25});
  EXPECT_EQ(weak_scalar(3, array(1.0)).dtype(), float64);
  EXPECT_EQ(weak_scalar(3, array(complex64_t(1, 0))).dtype(), complex64);
  // Every operator, both scalar sides.
  array x({1, 2, 3, 4});
  EXPECT_EQ((x + 1).to_vector<int>(), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ((10 - x).to_vector<int>(), (std::vector<int>{9, 8, 7, 6}));
  EXPECT_EQ((x * x).to_vector<int>(), (std::vector<int>{1, 4, 9, 16}));
  expect_close(x / 2, {0.5, 1, 1.5, 2});
  EXPECT_EQ((x % 3).to_vector<int>(), (std::vector<int>{1, 2, 0, 1}));
  EXPECT_EQ((x == 2).to_vector<bool>(), (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ((x != 2).to_vector<bool>(), (std::vector<bool>{true, false, true, true}));
  EXPECT_EQ((x < 2).to_vector<bool>(), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ((x <= 2).to_vector<bool>(), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ((2 < x).to_vector<bool>(), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ((x >= 3).to_vector<bool>(), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(((x > 1) && (x < 4)).to_vector<bool>(), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(((x < 2) || (x > 3)).to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ((x & 1).to_vector<int>(), (std::vector<int>{1, 0, 1, 0}));
  EXPECT_EQ((x | 8).to_vector<int>(), (std::vector<int>{9, 10, 11, 12}));
  EXPECT_EQ((x ^ 1).to_vector<int>(), (std::vector<int>{0, 3, 2, 5}));
  EXPECT_EQ((x << 2).to_vector<int>(), (std::vector<int>{4, 8, 12, 16}));
  EXPECT_EQ((x >> 1).to_vector<int>(), (std::vector<int>{0, 1, 1, 2}));
  EXPECT_EQ((1 << x).to_vector<int>(), (std::vector<int>{2, 4, 8, 16}));
  EXPECT_EQ((-x).to_vector<int>(), (std::vector<int>{-1, -2, -3, -4}));
  EXPECT_EQ((~x).to_vector<int>(), (std::vector<int>{-2, -3, -4, -5}));
  EXPECT_EQ((!(x > 2)).to_vector<bool>(), (std::vector<bool>{true, true, false, false}));
  EXPECT_THROW(astype(x, float32) & 1, std::invalid_argument);
}

TEST(ElementwiseCreation, LinspaceEyeTri) {
  expect_close(linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1});
  expect_close(linspace(-1, 1, 3, float64), {-1, 0, 1}, 0, 0);
  EXPECT_EQ(linspace(0, 10, 4, int32).to_vector<int>(), (std::vector<int>{0, 3, 6, 10}));
  EXPECT_EQ(linspace(2, 3, 1).to_vector<float>(), std::vector<float>{2});
  EXPECT_EQ(linspace(2, 3, 0).shape(), (Shape{0}));
  EXPECT_EQ(linspace(0, 1).size(), 50u);
  auto l = linspace(0.1, 0.7, 7).to_vector<float>();
  EXPECT_EQ(l.back(), 0.7f);
  EXPECT_THROW(linspace(0, 1, -1), std::invalid_argument);

  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(eye(2, 3, 1, int32).to_vector<int>(), (std::vector<int>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(eye(3, 2, -1).to_vector<float>(), (std::vector<float>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(identity(2, bfloat16).dtype(), bfloat16);
  EXPECT_EQ(identity(2).to_vector<float>(), (std::vector<float>{1, 0, 0, 1}));
  EXPECT_EQ(eye(0).shape(), (Shape{0, 0}));
  EXPECT_THROW(eye(-1), std::invalid_argument);

  EXPECT_EQ(tri(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(tri(2, 3, 1, bool_).to_vector<bool>(), (std::vector<bool>{true, true, false, true, true, true}));
  EXPECT_EQ(tri(3, 2, -1, int32).to_vector<int>(), (std::vector<int>{0, 0, 1, 0, 1, 1}));
  EXPECT_THROW(tri(-2), std::invalid_argument);

  array m = reshape(arange(1, 13), {2, 2, 3});  // a batch of two 2x3 matrices
  EXPECT_EQ(tril(m).to_vector<int>(), (std::vector<int>{1, 0, 0, 4, 5, 0, 7, 0, 0, 10, 11, 0}));
  EXPECT_EQ(triu(m).to_vector<int>(), (std::vector<int>{1, 2, 3, 0, 5, 6, 7, 8, 9, 0, 11, 12}));
  EXPECT_EQ(tril(m, -1).to_vector<int>(), (std::vector<int>{0, 0, 0, 4, 0, 0, 0, 0, 0, 10, 0, 0}));
  EXPECT_EQ(triu(m, 1).to_vector<int>(), (std::vector<int>{0, 2, 3, 0, 0, 6, 0, 8, 9, 0, 0, 12}));
  EXPECT_EQ(tril(transpose(reshape(arange(4.0, float32), {2, 2}))).to_vector<float>(),
            (std::vector<float>{0, 0, 1, 3}));
  EXPECT_THROW(tril(arange(3)), std::invalid_argument);
  EXPECT_THROW(triu(array(1)), std::invalid_argument);
}

TEST(ElementwisePrimitives, NamesAndEquivalence) {
  Stream s = to_stream({});
  Add a1(s), a2(s);
  Subtract s1(s);
  Equal e1(s), e2(s, true);
  EXPECT_STREQ(a1.name(), "Add");
  EXPECT_STREQ(Exp(s).name(), "Exp");
  EXPECT_STREQ(Select(s).name(), "Select");
  EXPECT_TRUE(a1.is_equivalent(a2));
  EXPECT_FALSE(a1.is_equivalent(s1));
  EXPECT_FALSE(e1.is_equivalent(e2));
  EXPECT_TRUE(e1.is_equivalent(Equal(s)));
  array z = add(array({1.0f}), array({2.0f}));
  EXPECT_STREQ(z.primitive().name(), "Add");
  EXPECT_EQ(z.primitive().output_shapes(z.inputs())[0], (Shape{1}));
}

// A chain of 10 ops on 1 GiB with x held by the caller: every step after the
// first writes into its input's buffer, so x plus one buffer are live.
TEST(ElementwiseDonation, ChainPeakMemory) {
  const int n = 1 << 28;  // 1 GiB of float32
  array x = full({n}, 0.5f);
  x.eval();
  reset_peak_memory();
  array y = exp(x);
  y = y * 2.0;
  y = y + 1.0;
  y = sqrt(y);
  y = negative(y);
  y = abs(y);
  y = maximum(y, array(1.0f));
  y = y - 0.5;
  y = square(y);
  y = minimum(y, array(100.0f));
  y.eval();
  size_t peak = get_peak_memory();
  EXPECT_LT(peak, size_t(2.2 * (1 << 30))) << peak;
  double e = std::pow(std::sqrt(std::exp(0.5) * 2 + 1) - 0.5, 2);
  EXPECT_NEAR(y.data<float>()[n - 1], e, 1e-5);
  EXPECT_NEAR(y.data<float>()[12345], e, 1e-5);
}

TEST(ElementwiseDonation, OnlyWhenUnshared) {
  array x = astype(arange(1000), float32);
  x.eval();
  array y = add(x, array(1.0f));
  y.eval();
  EXPECT_NE(y.data<float>(), x.data<float>());  // x is held: not donated
  array z = add(astype(arange(1000), float32), array(1.0f));
  z.eval();
  EXPECT_EQ(z.to_vector<float>()[999], 1000.0f);
}

// ------------------------------------------------------------ SIMD accuracy
namespace {

// |got - ref| in float32 ulps at ref (subnormal spacing below FLT_MIN).
double ulp_error(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : 1e9;
  if (std::isinf(ref) || std::isinf(got)) {
    // Beyond FLT_MAX the rounded reference is inf.
    float r = float(ref);
    return got == r ? 0 : 1e9;
  }
  double a = std::abs(ref);
  int e = a < 1.1754943508222875e-38 ? -126 : std::ilogb(a);
  return std::abs(double(got) - ref) / std::ldexp(1.0, e - 23);
}

// Max ulp error of f over a sweep of bit patterns (all signs and
// exponents, subnormals, inf and nan) plus a dense range.
template <typename Ref>
double max_ulp(simd::UnaryFn f, Ref ref, float lo, float hi, float* worst) {
  std::vector<float> x;
  for (uint64_t u = 0; u < (1ull << 32); u += 4093) {
    uint32_t b = uint32_t(u);
    float v;
    std::memcpy(&v, &b, 4);
    x.push_back(v);
  }
  for (int i = 0; i <= 200000; ++i) x.push_back(lo + (hi - lo) * float(i) / 200000);
  for (float v : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 88.72f, 88.73f, -87.33f, -103.9f}) {
    x.push_back(v);
  }
  std::vector<float> y(x.size());
  f(x.data(), y.data(), int64_t(x.size()));
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double e = ulp_error(y[i], ref(double(x[i])));
    if (e > m) {
      m = e;
      *worst = x[i];
    }
  }
  return m;
}

void check_table(const simd::Kernels& k) {
  SCOPED_TRACE(k.isa);
  float w = 0;
  // exp flushes results below FLT_MIN to +0 (x < kLo, simd/math.h); so do
  // sigmoid's tiny results, which are e^x / (1 + e^x).
  const double kLo = -87.33654022216797;
  auto sig = [&](double v) {
    if (v < kLo) return 0.0;
    return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
  };
  auto exp_ref = [&](double v) { return v < kLo ? 0.0 : std::exp(v); };
  double e;
  e = max_ulp(k.exp[simd::f32], exp_ref, -104, 89, &w);
  EXPECT_LE(e, 1.5) << "exp at " << w;
  std::printf("[          ] %s exp max %.2f ulp\n", k.isa, e);
  e = max_ulp(k.log[simd::f32], [](double v) { return std::log(v); }, 0, 10, &w);
  EXPECT_LE(e, 1.5) << "log at " << w;
  std::printf("[          ] %s log max %.2f ulp\n", k.isa, e);
  e = max_ulp(k.tanh[simd::f32], [](double v) { return std::tanh(v); }, -10, 10, &w);
  EXPECT_LE(e, 2.5) << "tanh at " << w;
  std::printf("[          ] %s tanh max %.2f ulp\n", k.isa, e);
  e = max_ulp(k.sigmoid[simd::f32], sig, -100, 20, &w);
  EXPECT_LE(e, 2.5) << "sigmoid at " << w;
  std::printf("[          ] %s sigmoid max %.2f ulp\n", k.isa, e);
  // Half conversions round to nearest even and keep NaN.
  std::vector<float> v = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 65520.0f, NAN, -0.0f, 1e-8f, 3.0f};
  std::vector<uint16_t> h(v.size());
  std::vector<float> back(v.size());
  k.f32_to_bf16(v.data(), h.data(), int64_t(v.size()));
  k.bf16_to_f32(h.data(), back.data(), int64_t(v.size()));
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 1.0f + 4.0f / 256);
  EXPECT_TRUE(std::isnan(back[3]));
  EXPECT_TRUE(std::signbit(back[4]));
  EXPECT_EQ(back[6], 3.0f);
  k.f32_to_f16(v.data(), h.data(), int64_t(v.size()));
  k.f16_to_f32(h.data(), back.data(), int64_t(v.size()));
  EXPECT_EQ(back[2], INFINITY);
  EXPECT_TRUE(std::isnan(back[3]));
  EXPECT_EQ(back[6], 3.0f);
}

}  // namespace

TEST(ElementwiseSimd, UlpAccuracyEveryTable) {
  check_table(simd::avx2_kernels());
  if (auto* k = simd::avx512_kernels()) {
    check_table(*k);
  } else {
    std::printf("[          ] no AVX-512 on this CPU: only the AVX2 table was checked\n");
  }
}

// Outputs past 4 MiB per call are streamed past the cache from an aligned
// point on: misaligned starts and tails must still be exact.
TEST(ElementwiseSimd, StreamingStoresMisaligned) {
  const int64_t n = (int64_t(1) << 21) + 5;  // 8 MiB of float32
  std::vector<float> a(n + 8), b(n + 8), y(n + 8, -1.0f);
  for (int64_t i = 0; i < n + 8; ++i) {
    a[i] = float(i % 1000) * 0.5f;
    b[i] = float(i % 7) - 3.0f;
  }
  std::vector<const simd::Kernels*> tables = {&simd::avx2_kernels()};
  if (auto* k = simd::avx512_kernels()) tables.push_back(k);
  for (auto* k : tables) {
    SCOPED_TRACE(k->isa);
    for (int shift : {0, 1, 3, 7}) {
      k->add[simd::f32](a.data() + 1, b.data() + 2, y.data() + shift, n, simd::Mode::vv);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[shift + i], a[1 + i] + b[2 + i]) << i;
      k->multiply[simd::f32](a.data(), b.data(), y.data() + shift, n, simd::Mode::sv);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[shift + i], a[0] * b[i]) << i;
      k->subtract[simd::f32](a.data() + 3, b.data(), y.data() + shift, n, simd::Mode::vs);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[shift + i], a[3 + i] - b[0]) << i;
      std::vector<float> small(1000);
      k->exp[simd::f32](a.data() + shift, y.data() + shift, n);
      k->exp[simd::f32](a.data() + shift, small.data(), 1000);  // the cached path
      for (int i = 0; i < 1000; ++i) ASSERT_EQ(y[shift + i], small[i]) << i;
    }
  }
  // Past the end of the output nothing was written.
  std::vector<float> z(n + 16, 7.0f);
  simd::kernels().add[simd::f32](a.data(), b.data(), z.data() + 1, n, simd::Mode::vv);
  EXPECT_EQ(z[0], 7.0f);
  for (int i = 1; i < 16; ++i) EXPECT_EQ(z[n + i], 7.0f) << i;
}

// The half-format kernels convert in registers; they must match converting
// to float32, running the float32 kernel and rounding back, bit for bit.
TEST(ElementwiseSimd, HalfKernelsMatchFloat32Path) {
  const int64_t n = 1003;
  std::vector<float> fa(n + 1), fb(n + 1);
  for (int64_t i = 0; i <= n; ++i) {
    fa[i] = std::sin(float(i)) * 20.0f;
    fb[i] = std::cos(float(i) * 0.7f) * 3.0f + (i % 5 == 0 ? NAN : 0.0f);
  }
  std::vector<const simd::Kernels*> tables = {&simd::avx2_kernels()};
  if (auto* k = simd::avx512_kernels()) tables.push_back(k);
  for (auto* k : tables) {
    for (simd::Format fmt : {simd::f16, simd::bf16}) {
      SCOPED_TRACE(std::string(k->isa) + (fmt == simd::f16 ? " f16" : " bf16"));
      auto from = fmt == simd::f16 ? k->f32_to_f16 : k->f32_to_bf16;
      auto to = fmt == simd::f16 ? k->f16_to_f32 : k->bf16_to_f32;
      std::vector<uint16_t> ha(n + 1), hb(n + 1), got(n + 1), want(n + 1);
      from(fa.data(), ha.data(), n + 1);
      from(fb.data(), hb.data(), n + 1);
      std::vector<float> xa(n + 1), xb(n + 1), r(n + 1);
      to(ha.data(), xa.data(), n + 1);
      to(hb.data(), xb.data(), n + 1);
      auto same = [&](const char* what) {
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], want[i]) << what << " at " << i;
      };
      for (auto op : {k->exp, k->log, k->tanh, k->sigmoid}) {
        op[fmt](ha.data() + 1, got.data(), n);
        op[simd::f32](xa.data() + 1, r.data(), n);
        from(r.data(), want.data(), n);
        same("unary");
      }
      for (auto op : {k->add, k->subtract, k->multiply, k->divide, k->maximum, k->minimum}) {
        for (auto mode : {simd::Mode::vv, simd::Mode::sv, simd::Mode::vs}) {
          op[fmt](ha.data() + 1, hb.data(), got.data(), n, mode);
          op[simd::f32](xa.data() + 1, xb.data(), r.data(), n, mode);
          from(r.data(), want.data(), n);
          same("binary");
        }
      }
    }
  }
}
