// quantized_matmul against dequantize-then-matmul for every bits x group size
// x transpose x odd shape x dtype, within the bound stated in
// backend/cpu/quantized_matmul.cpp; each kernel path against the reference;
// batched weights, the vjp/jvp for x, and the argument checks.
#include <gtest/gtest.h>

#include "core/quantized_util.h"
#include "core/util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/core/primitive.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

struct Case {
  int bits, gs;
  bool transpose;
  int M, N, K;  // x (M, K); the float matrix is (N, K) when transposed, else (K, N)
  Dtype t;
};

std::string describe(const Case& c) {
  return std::string(dtype_name(c.t)) + " bits=" + std::to_string(c.bits) + " group=" + std::to_string(c.gs) +
         (c.transpose ? " x@W.T" : " x@W") + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
         " K=" + std::to_string(c.K);
}

// Restores the automatic path when a test that forced one ends.
struct PathGuard {
  explicit PathGuard(cpu::QmmPath p) { cpu::set_qmm_path(p); }
  ~PathGuard() { cpu::set_qmm_path(cpu::QmmPath::automatic); }
};

// Checks quantized_matmul on a float32-arithmetic path (reference by default)
// against matmul(x, dequantize(w)) with the bound 2u|y| + (3u + 2K 2^-24) E,
// E = sum_k |x_k| (|s q_k| + |b|).
void check_case(const Case& c, uint32_t seed, cpu::QmmPath path = cpu::QmmPath::reference) {
  SCOPED_TRACE(describe(c) + " path " + std::to_string(int(path)));
  PathGuard guard(path);
  const int rows = c.transpose ? c.N : c.K, cols = c.transpose ? c.K : c.N;
  auto wv = values_in(c.t, size_t(rows) * cols, seed, 0.2f);
  auto xv = values_in(c.t, size_t(c.M) * c.K, seed + 1);
  array w = astype(array(wv, {rows, cols}), c.t), x = astype(array(xv, {c.M, c.K}), c.t);
  auto q = quantize(w, c.gs, c.bits);
  array wd = dequantize(q[0], q[1], q[2], c.gs, c.bits);
  array want = matmul(x, c.transpose ? transpose(wd) : wd);
  array got = quantized_matmul(x, q[0], q[1], q[2], c.transpose, c.gs, c.bits);
  ASSERT_EQ(got.shape(), want.shape());
  ASSERT_EQ(got.dtype(), c.t);

  auto words = q[0].to_vector<uint32_t>();
  auto s = q[1].to_vector<float>(), b = q[2].to_vector<float>();
  auto g = got.to_vector<double>(), r = want.to_vector<double>();
  const double u = unit_roundoff(c.t), acc = 2.0 * c.K / (1 << 24);
  int bad = 0;
  for (int m = 0; m < c.M; ++m) {
    for (int n = 0; n < c.N; ++n) {
      double E = 0;
      for (int k = 0; k < c.K; ++k) {
        size_t i = c.transpose ? size_t(n) * c.K + k : size_t(k) * c.N + n;
        size_t grp = i / c.gs;
        E += std::fabs(xv[m * c.K + k]) * (std::fabs(s[grp] * double(code_at(words, i, c.bits))) + std::fabs(b[grp]));
      }
      double y = r[m * c.N + n], d = std::fabs(g[m * c.N + n] - y);
      double bound = 2 * u * std::fabs(y) + (3 * u + acc) * E + 1e-30;
      if (!(d <= bound) && bad++ < 5) ADD_FAILURE() << "y[" << m << "," << n << "] " << g[m * c.N + n] << " vs " << y;
    }
  }
  EXPECT_EQ(bad, 0);
}

}  // namespace

TEST(QuantizedMatmul, EveryBitsGroupTransposeAndOddShape) {
  uint32_t seed = 1;
  for (Dtype t : {float32, bfloat16, float16}) {
    for (int bits : {2, 3, 4, 5, 6, 8}) {
      for (int gs : {32, 64, 128}) {
        for (bool tr : {true, false}) {
          for (int M : {1, 3, 17}) {
            // The quantized axis is a multiple of the group; the other is odd.
            int K = tr ? 2 * gs + (gs == 32 ? 32 : 0) : 13;
            int N = tr ? 13 : gs;
            if (t != float32 && M == 3) continue;  // keeps the half-type sweep short
            check_case({bits, gs, tr, M, N, K, t}, seed);
            seed += 2;
          }
        }
      }
    }
  }
}

TEST(QuantizedMatmul, LargerShapesOnTheFloatPaths) {
  // 4- and 8-bit on the float32 row kernel and sgemm panels, K with a
  // trailing half block of 64 for groups of 32.
  uint32_t seed = 500;
  for (auto path : {cpu::QmmPath::rows_avx2, cpu::QmmPath::dequant_sgemm}) {
    for (int bits : {4, 8}) {
      for (int gs : {32, 64, 128}) {
        for (int M : {1, 5, 40}) {
          check_case({bits, gs, true, M, 67, 4 * 128 + (gs == 32 ? 32 : 0), float32}, seed, path);
          seed += 2;
        }
      }
    }
  }
  check_case({4, 64, true, 2, 300, 1024, bfloat16}, 900, cpu::QmmPath::rows_avx2);
}

// Every float32 path that can run a problem gives the reference's result to
// float32 accumulation-order error (the same float32 weights s q + b); the
// int8 path has its own test below.
TEST(QuantizedMatmul, PathsAgreeWithTheReference) {
  uint32_t seed = 77;
  for (int bits : {2, 3, 4, 6, 8}) {
    for (int gs : {32, 64, 128}) {
      for (int M : {1, 4, 9}) {
        const int N = 37, K = 3 * 128 + (gs == 32 ? 32 : 0);
        SCOPED_TRACE("bits=" + std::to_string(bits) + " group=" + std::to_string(gs) + " M=" + std::to_string(M));
        array w = array(normal_values(size_t(N) * K, seed), {N, K});
        array x = array(normal_values(size_t(M) * K, seed + 1), {M, K});
        seed += 2;
        auto q = quantize(w, gs, bits);
        std::vector<float> ref;
        {
          PathGuard g(cpu::QmmPath::reference);
          ref = quantized_matmul(x, q[0], q[1], q[2], true, gs, bits).to_vector<float>();
        }
        for (auto path : {cpu::QmmPath::rows_avx2, cpu::QmmPath::dequant_sgemm}) {
          PathGuard g(path);
          auto got = quantized_matmul(x, q[0], q[1], q[2], true, gs, bits).to_vector<float>();
          double scale = 0;
          for (float v : ref) scale = std::max(scale, double(std::fabs(v)));
          for (size_t i = 0; i < ref.size(); ++i) {
            ASSERT_NEAR(got[i], ref[i], 1e-5 * (1 + scale)) << "path " << int(path) << " at " << i;
          }
        }
      }
    }
  }
}

// The integer path against its own arithmetic done independently in double:
// x rounded per group to xq = rint(x * (1/dx)), dx = max|x| / Q (float32, as
// the kernels) with Q = 127 for 4-bit W (int8) and 32767 for 8-bit W
// (int16), then y = sum_g s_g dx_g sum_k q_k xq_k + sum_g b_g xsum_g. What is
// left is float32 rounding (the integer sums are exact); the model's
// distance to the exact product is the rounding of x, at most dx / 2 per
// element, which the second check bounds.
TEST(QuantizedMatmul, Int8PathIsItsIntegerModel) {
  // Both integer kernels where the machine has AVX-512 VNNI, else AVX2's.
  for (bool vnni : {false, true}) {
    if (vnni && !cpu::cpu_features().has_avx512_bf16()) continue;
    cpu::set_qmm_vnni(vnni);
    SCOPED_TRACE(vnni ? "VNNI kernel" : "AVX2 kernel");
    uint32_t seed = 300;
    for (int bits : {4, 8}) {
      const float Q = bits == 8 ? 32767.f : 127.f;
      for (int gs : {32, 64, 128}) {
        // K past the last whole block of 128 by 0, 32, 64 and 96 (each kernel's tails).
        for (int extra : {0, 32, 64, 96}) {
          if (extra % gs) continue;
          for (int M : {1, 2, 3, 5, 9}) {
            // N past two chunks of 64 rows for some M, so threads share the rows.
            const int N = M == 1 || M == 9 ? 139 : 11, K = 3 * 128 + extra, G = K / gs;
            SCOPED_TRACE("bits=" + std::to_string(bits) + " group=" + std::to_string(gs) + " M=" + std::to_string(M) +
                         " K=" + std::to_string(K));
            auto wv = normal_values(size_t(N) * K, seed, 0.3f), xv = normal_values(size_t(M) * K, seed + 1);
            xv[5] = 0.f;  // an exact zero and a larger value in the first group
            xv[7] = 9.f;
            seed += 2;
            array w = array(wv, {N, K}), x = array(xv, {M, K});
            auto q = quantize(w, gs, bits);
            std::vector<float> got;
            {
              PathGuard g(cpu::QmmPath::int8);
              got = quantized_matmul(x, q[0], q[1], q[2], true, gs, bits).to_vector<float>();
            }
            auto words = q[0].to_vector<uint32_t>();
            auto s = q[1].to_vector<float>(), b = q[2].to_vector<float>();
            for (int m = 0; m < M; ++m) {
              for (int n = 0; n < N; ++n) {
                double model = 0, exact = 0, tol = 0, round = 0;
                for (int g = 0; g < G; ++g) {
                  const float* xg = xv.data() + size_t(m) * K + size_t(g) * gs;
                  float amax = 0.f;
                  for (int k = 0; k < gs; ++k) amax = std::max(amax, std::fabs(xg[k]));
                  float dx = amax / Q, inv = dx > 0.f ? 1.f / dx : 0.f;
                  double isum = 0, xsum = 0, qsum = 0;
                  const double sg = s[n * G + g], bg = b[n * G + g];
                  for (int k = 0; k < gs; ++k) {
                    double code = code_at(words, size_t(n) * K + size_t(g) * gs + k, bits);
                    isum += code * std::nearbyint(xg[k] * inv);
                    xsum += xg[k];
                    exact += xg[k] * (sg * code + bg);
                    qsum += code;
                    tol += std::fabs(xg[k]) * (std::fabs(sg * code) + std::fabs(bg));
                  }
                  model += sg * dx * isum + bg * xsum;
                  round += std::fabs(sg) * dx * (0.5 + 1e-5) * qsum;
                }
                double y = got[size_t(m) * N + n];
                // float32 products and sums over K terms
                EXPECT_NEAR(y, model, 4.0 * K / (1 << 24) * tol + 1e-6) << "y[" << m << "," << n << "] vs model";
                EXPECT_NEAR(y, exact, round + 4.0 * K / (1 << 24) * tol + 1e-6)
                    << "y[" << m << "," << n << "] vs exact";
              }
            }
          }
        }
      }
    }
  }
  cpu::set_qmm_vnni(false);
}

// bfloat16 prefill on AMX CPUs: W dequantized to bfloat16 panels, AMX tiles,
// one rounding of the result (elsewhere the forced path falls back to the
// reference, which meets the same bound). Bound: x is bfloat16 already,
// each dequantized weight and the result are rounded once to bfloat16
// (2^-9 relative each), so |y - y_f32| <= 2^-8 (sum_k |x_k w_k| + |y|).
TEST(QuantizedMatmul, AmxDequantPathWithinBfloat16Rounding) {
  PathGuard guard(cpu::QmmPath::dequant_amx);
  SCOPED_TRACE(cpu::cpu_features().has_amx() ? "AMX tiles" : "reference fallback");
  uint32_t seed = 900;
  for (int bits : {2, 3, 4, 8}) {
    for (int gs : {32, 64, 128}) {
      const int M = 40, N = 70, K = 384;
      SCOPED_TRACE("bits=" + std::to_string(bits) + " group=" + std::to_string(gs));
      array w = astype(array(normal_values(size_t(N) * K, seed), {N, K}), bfloat16);
      array x = astype(array(normal_values(size_t(M) * K, seed + 1), {M, K}), bfloat16);
      seed += 2;
      auto q = quantize(w, gs, bits);
      array wd = astype(dequantize(q[0], q[1], q[2], gs, bits), float32);
      array got = quantized_matmul(x, q[0], q[1], q[2], true, gs, bits);
      ASSERT_EQ(got.dtype(), bfloat16);
      auto g = astype(got, float32).to_vector<float>();
      auto want = matmul(astype(x, float32), transpose(wd)).to_vector<float>();
      auto mag = matmul(abs(astype(x, float32)), transpose(abs(wd))).to_vector<float>();
      for (size_t i = 0; i < g.size(); ++i) {
        ASSERT_NEAR(g[i], want[i], std::ldexp(double(mag[i]) + std::fabs(want[i]), -8) + 1e-6) << i;
      }
    }
  }
}

TEST(QuantizedMatmul, LeadingDimsAndBatchedWeights) {
  PathGuard exact(cpu::QmmPath::reference);  // shapes here; arithmetic above
  // x with leading dims and a 2-D W: every row of x uses W.
  array w = array(normal_values(20 * 64, 3), {20, 64});
  auto q = quantize(w, 32, 4);
  array wd = dequantize(q[0], q[1], q[2], 32, 4);
  array x = array(normal_values(2 * 3 * 64, 4), {2, 3, 64});
  array y = quantized_matmul(x, q[0], q[1], q[2], true, 32, 4);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 20}));
  expect_close(y, matmul(x, transpose(wd)).to_vector<double>(), 1e-5, 1e-5);
  // 1-D x.
  array v = array(normal_values(64, 5), {64});
  array yv = quantized_matmul(v, q[0], q[1], q[2], true, 32, 4);
  EXPECT_EQ(yv.shape(), (Shape{20}));
  expect_close(yv, matmul(v, transpose(wd)).to_vector<double>(), 1e-5, 1e-5);
  // Batched W (2, 20, 64) broadcast against x (3, 1, 4, 64) -> (3, 2, 4, 20).
  array wb = array(normal_values(2 * 20 * 64, 6), {2, 20, 64});
  auto qb = quantize(wb, 64, 8);
  array wbd = dequantize(qb[0], qb[1], qb[2], 64, 8);
  array xb = array(normal_values(3 * 4 * 64, 7), {3, 1, 4, 64});
  array yb = quantized_matmul(xb, qb[0], qb[1], qb[2], true, 64, 8);
  EXPECT_EQ(yb.shape(), (Shape{3, 2, 4, 20}));
  expect_close(yb, matmul(xb, swapaxes(wbd, -1, -2)).to_vector<double>(), 1e-5, 1e-5);
  // Non-contiguous x (a transposed view).
  array xt = transpose(array(normal_values(64 * 5, 8), {64, 5}));
  expect_close(quantized_matmul(xt, q[0], q[1], q[2], true, 32, 4), matmul(xt, transpose(wd)).to_vector<double>(),
               1e-5, 1e-5);
}

TEST(QuantizedMatmul, GradientOfXIsTheOtherProduct) {
  PathGuard exact(cpu::QmmPath::reference);
  array w = array(normal_values(24 * 64, 9), {24, 64});
  auto q = quantize(w, 64, 4);
  array wd = dequantize(q[0], q[1], q[2], 64, 4);
  array x = array(normal_values(3 * 64, 10), {3, 64});
  array y = quantized_matmul(x, q[0], q[1], q[2], true, 64, 4);
  array cot = array(normal_values(3 * 24, 11), {3, 24});
  auto vjp = y.primitive().vjp(y.inputs(), {cot}, {0}, {y});
  ASSERT_EQ(vjp.size(), 1u);
  EXPECT_EQ(vjp[0].shape(), x.shape());
  expect_close(vjp[0], matmul(cot, wd).to_vector<double>(), 1e-5, 1e-5);
  array tan = array(normal_values(3 * 64, 12), {3, 64});
  auto jvp = y.primitive().jvp(y.inputs(), {tan}, {0});
  expect_close(jvp.at(0), matmul(tan, transpose(wd)).to_vector<double>(), 1e-5, 1e-5);
  EXPECT_THROW(y.primitive().vjp(y.inputs(), {cot}, {1}, {y}), not_implemented);
}

TEST(QuantizedMatmul, PrecisionSettingChoosesTheArithmetic) {
  const int N = 16, K = 256;
  array w = array(normal_values(size_t(N) * K, 41, 0.3f), {N, K});
  array x = array(normal_values(size_t(K), 42), {1, K});
  auto q = quantize(w, 64, 4);
  std::vector<float> ref, int8_path;
  {
    PathGuard g(cpu::QmmPath::reference);
    ref = quantized_matmul(x, q[0], q[1], q[2]).to_vector<float>();
  }
  {
    PathGuard g(cpu::QmmPath::int8);
    int8_path = quantized_matmul(x, q[0], q[1], q[2]).to_vector<float>();
  }
  ASSERT_EQ(quantized_matmul_precision(), QuantizedMatmulPrecision::int8);
  EXPECT_EQ(quantized_matmul(x, q[0], q[1], q[2]).to_vector<float>(), int8_path);
  set_quantized_matmul_precision(QuantizedMatmulPrecision::float32);
  auto exact = quantized_matmul(x, q[0], q[1], q[2]).to_vector<float>();
  set_quantized_matmul_precision(QuantizedMatmulPrecision::int8);
  for (int n = 0; n < N; ++n) EXPECT_NEAR(exact[n], ref[n], 1e-5 * (1 + std::fabs(ref[n])));
  EXPECT_NE(exact, int8_path);  // the rounding of x shows
}

TEST(QuantizedMatmul, ClearErrors) {
  auto q = quantize(zeros({16, 64}), 64, 4);
  array x = zeros({2, 64});
  EXPECT_EQ(error_of([&] { quantized_matmul(zeros({2, 32}), q[0], q[1], q[2], true, 64, 4); }),
            "[quantized_matmul] the last dimension of x (2,32) does not match the quantized matrix (64, 16) that w "
            "(16,8) holds with group_size=64, bits=4 and transpose=true");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], std::nullopt, true, 64, 4); }),
            "[quantized_matmul] biases must be given for affine quantization");
  EXPECT_EQ(error_of([&] { quantized_matmul(astype(x, int32), q[0], q[1], q[2], true, 64, 4); }),
            "[quantized_matmul] x must be float32, float16 or bfloat16, got int32");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], q[2], true, 128, 4); }).substr(0, 52),
            "[quantized_matmul] packed weights (16,8) and scales ");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], q[2], true, 64, 4, "mxfp8"); }),
            "[quantized_matmul] mxfp8 quantization requires group_size 32, got 64");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], q[2], true, 32, 8, "mxfp8"); }),
            "[quantized_matmul] mode 'mxfp8' takes no biases, got biases of shape (16,1)");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], std::nullopt, true, 32, 8, "mxfp8"); }),
            "[quantized_matmul] scales must be uint8 for mode 'mxfp8' (E8M0 bytes), got float32");
  EXPECT_EQ(error_of([&] { quantized_matmul(x, q[0], q[1], q[2], true, 64, 1); }),
            "[quantized_matmul] bits 1 is not supported; the bit widths are 2, 3, 4, 5, 6 and 8");
}
