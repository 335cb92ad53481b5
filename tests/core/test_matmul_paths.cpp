// Every half-precision kernel path (AMX, AVX-512, AVX2, sgemm, naive) called
// directly, against a float64 reference, whatever `automatic` would pick on
// this CPU. Paths the CPU lacks are skipped (and say so).
#include <gtest/gtest.h>

#include <cstring>

#include "core/matmul_util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/gemm.h"

using namespace uma;
using namespace uma::test;
using cpu::GemmPath;
using cpu::HalfKind;

namespace {

uint16_t to_half(HalfKind k, float f) {
  if (k == HalfKind::bf16) return bfloat16_t(f).bits;
  float16_t h = float16_t(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

double from_half(HalfKind k, uint16_t u) {
  if (k == HalfKind::bf16) return float(bfloat16_t::from_bits(u));
  float16_t h;
  std::memcpy(&h, &u, 2);
  return double(float(h));
}

struct Layout {
  const char* name;
  bool a_trans;  // A stored (K, M)
  int b_form;    // 0: B (K, N) rows, 1: W (N, K) rows (x @ W.T), 2: every other column of (K, 2N)
};

// Runs one product on `path` and checks it; returns false if it was skipped.
void run_case(HalfKind kind, GemmPath path, int64_t M, int64_t N, int64_t K, Layout lay, float alpha, float beta,
              uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << (kind == HalfKind::bf16 ? "bf16" : "f16") << " M=" << M << " N=" << N
                                    << " K=" << K << " " << lay.name << " alpha=" << alpha << " beta=" << beta);
  auto av = random_values(size_t(M * K), seed), bv = random_values(size_t(K * N * 2), seed + 1);
  auto cv = random_values(size_t(M * N), seed + 2);
  std::vector<uint16_t> a(av.size()), b(bv.size()), c(cv.size());
  for (size_t i = 0; i < a.size(); ++i) a[i] = to_half(kind, av[i]);
  for (size_t i = 0; i < b.size(); ++i) b[i] = to_half(kind, bv[i]);
  for (size_t i = 0; i < c.size(); ++i) c[i] = to_half(kind, cv[i]);
  cpu::HalfGemm g;
  g.kind = kind, g.M = M, g.N = N, g.K = K, g.alpha = alpha, g.beta = beta;
  g.a = a.data();
  g.a_rs = lay.a_trans ? 1 : K;
  g.a_cs = lay.a_trans ? M : 1;
  g.b = b.data();
  if (lay.b_form == 0) g.b_rs = N, g.b_cs = 1;
  if (lay.b_form == 1) g.b_rs = 1, g.b_cs = K;
  if (lay.b_form == 2) g.b_rs = 2 * N, g.b_cs = 2;
  std::vector<uint16_t> out = c;
  g.c = out.data();
  g.ldc = N;

  std::vector<double> ref(size_t(M * N));
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += from_half(kind, a[i * g.a_rs + k * g.a_cs]) * from_half(kind, b[k * g.b_rs + j * g.b_cs]);
      }
      ref[i * N + j] = alpha * s + (beta != 0.f ? beta * from_half(kind, c[i * N + j]) : 0.0);
    }
  }
  cpu::gemm_half(g, path);
  std::vector<double> got(out.size());
  for (size_t i = 0; i < out.size(); ++i) got[i] = from_half(kind, out[i]);
  expect_matmul_close(got, ref, kind == HalfKind::bf16 ? bfloat16 : float16, K);
}

void check_path(GemmPath path, HalfKind kind) {
  if (!cpu::half_path_available(kind, path)) GTEST_SKIP() << "path not available on this CPU";
  const Layout layouts[] = {{"A@B", false, 0}, {"A@W.T", false, 1}, {"A.T@B", true, 0}, {"A@B[:, ::2]", false, 2}};
  struct Size {
    int64_t M, N, K;
  };
  // Row-kernel sizes (M <= 8), tile-edge sizes around 16/32, K tails.
  const Size sizes[] = {{1, 1, 1},    {1, 7, 33},   {1, 257, 65},  {2, 33, 7},   {3, 65, 64},  {4, 16, 32},
                        {5, 100, 31}, {8, 64, 257}, {9, 33, 33},   {16, 16, 32}, {17, 31, 2},  {33, 65, 96},
                        {65, 7, 257}, {40, 70, 1},  {32, 64, 128}, {7, 129, 40}, {64, 33, 300},
                        // Prefill tiles (6 x 4) and L2 blocks of A rows (gemm_rows_avx512.h): M crosses
                        // several blocks at K = 2050, with row and column tails.
                        {100, 37, 2050}};
  uint64_t seed = 100;
  for (auto s : sizes) {
    for (auto& lay : layouts) {
      run_case(kind, path, s.M, s.N, s.K, lay, 1.f, 0.f, seed);
      seed += 3;
    }
    run_case(kind, path, s.M, s.N, s.K, layouts[1], 0.5f, 2.f, seed);
    seed += 3;
  }
}

}  // namespace

TEST(MatmulPaths, Naive) {
  check_path(GemmPath::naive, HalfKind::bf16);
  check_path(GemmPath::naive, HalfKind::f16);
}
TEST(MatmulPaths, Sgemm) {
  check_path(GemmPath::sgemm, HalfKind::bf16);
  check_path(GemmPath::sgemm, HalfKind::f16);
}
TEST(MatmulPaths, Avx2Bf16) { check_path(GemmPath::avx2, HalfKind::bf16); }
TEST(MatmulPaths, Avx2F16) { check_path(GemmPath::avx2, HalfKind::f16); }
TEST(MatmulPaths, Avx512Bf16) { check_path(GemmPath::avx512, HalfKind::bf16); }
TEST(MatmulPaths, Avx512Bf16Dot) { check_path(GemmPath::avx512_bf16, HalfKind::bf16); }
TEST(MatmulPaths, Avx512Bf16Packed) { check_path(GemmPath::avx512_bf16_packed, HalfKind::bf16); }
TEST(MatmulPaths, Avx512F16) { check_path(GemmPath::avx512, HalfKind::f16); }
TEST(MatmulPaths, AmxBf16) { check_path(GemmPath::amx, HalfKind::bf16); }
TEST(MatmulPaths, AmxF16Split) { check_path(GemmPath::amx, HalfKind::f16); }

TEST(MatmulPaths, AmxLargeBlocksAndGroups) {
  if (!cpu::half_path_available(HalfKind::bf16, GemmPath::amx)) GTEST_SKIP() << "no AMX here";
  // K = 4096: 4 row blocks of 32 per L2 group, so 200 rows cross a group and
  // end in a partial block; both orientations.
  run_case(HalfKind::bf16, GemmPath::amx, 40, 200, 4096, {"A@W.T", false, 1}, 1.f, 0.f, 900);
  run_case(HalfKind::bf16, GemmPath::amx, 200, 40, 4100, {"A@B", false, 0}, 1.f, 0.f, 901);
  run_case(HalfKind::f16, GemmPath::amx, 40, 100, 2050, {"A@W.T", false, 1}, 1.f, 0.f, 902);
}

TEST(MatmulPaths, AmxUnavailableThrows) {
  if (cpu::half_path_available(HalfKind::f16, GemmPath::amx)) GTEST_SKIP() << "AMX is available here";
  cpu::HalfGemm g;
  g.kind = HalfKind::f16, g.M = g.N = g.K = 1;
  uint16_t x = 0;
  g.a = g.b = &x, g.c = &x, g.a_rs = g.a_cs = g.b_rs = g.b_cs = g.ldc = 1;
  EXPECT_THROW(cpu::gemm_half(g, GemmPath::amx), std::invalid_argument);
}

TEST(MatmulPaths, AutomaticChoice) {
  cpu::HalfGemm g;
  g.kind = HalfKind::bf16, g.M = 1, g.N = 64, g.K = 64;
  auto& f = cpu::cpu_features();
  // Decode: the widest row kernel of the tier in use.
  GemmPath rows16 = f.has_avx512() ? GemmPath::avx512 : GemmPath::avx2;
  GemmPath rows = f.has_avx512_bf16() ? GemmPath::avx512_bf16 : rows16;
  EXPECT_EQ(cpu::half_path_for(g), rows);
  g.kind = HalfKind::f16;
  EXPECT_EQ(cpu::half_path_for(g), rows16);
  // Prefill: AMX, else vdpbf16ps tiles for bfloat16, else the AVX-512 row
  // kernels, else sgemm.
  g.M = 512;
  GemmPath wide = f.has_amx() ? GemmPath::amx : f.has_avx512() ? GemmPath::avx512 : GemmPath::sgemm;
  EXPECT_EQ(cpu::half_path_for(g), wide);
  g.kind = HalfKind::bf16;
  EXPECT_EQ(cpu::half_path_for(g), f.has_amx() ? GemmPath::amx
                                   : f.has_avx512_bf16() ? GemmPath::avx512_bf16
                                                         : wide);
  std::printf("[ info ] dispatch here: tier %s (best %s)\n", cpu::tier_name(f.tier), cpu::tier_name(f.best));
}

TEST(MatmulPaths, SplitF16IsExact) {
  // Every float16 bit pattern: hi + lo == x (NaN stays NaN in hi).
  std::vector<uint16_t> x(65536), hi(65536), lo(65536);
  for (int i = 0; i < 65536; ++i) x[i] = uint16_t(i);
  cpu::split_f16(x.data(), 1, 65536, hi.data(), lo.data());
  std::vector<uint16_t> hs(65536), ls(65536);
  cpu::split_f16(x.data() + 1, 1, 65535, hs.data(), ls.data());  // odd start: scalar tail too
  int bad = 0;
  for (int i = 0; i < 65536; ++i) {
    double v = from_half(HalfKind::f16, x[i]);
    double h = from_half(HalfKind::bf16, hi[i]), l = from_half(HalfKind::bf16, lo[i]);
    bool ok = std::isnan(v) ? std::isnan(h) : (std::isinf(v) ? h == v && l == 0 : h + l == v);
    if (i > 0) ok = ok && hs[i - 1] == hi[i] && ls[i - 1] == lo[i];
    if (!ok && bad++ < 5) ADD_FAILURE() << "float16 bits " << i << ": " << v << " != " << h << " + " << l;
  }
  EXPECT_EQ(bad, 0);
}
