// Matmul benchmark: uma against OpenBLAS called directly, and uma::bfloat16 /
// float16 products (prefill GEMMs, decode GEMVs over weights) against the
// convert-to-float32 + sgemm baseline and OpenBLAS sbgemm where the library
// has it. Prints markdown tables of medians.
//
//   matmul_bench [--threads N] [--reps R] [--only f32|bf16|llm|paths]
#include <cblas.h>
#include <dlfcn.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

int g_reps = 5;
bool g_baselines = true;  // --no-baseline skips convert+sgemm and sgemm

using bench::random_array;
using bench::seconds;

// Median seconds of `reps` calls after one warm-up.
double median_time(const std::function<void()>& fn, int reps = g_reps) { return bench::median_seconds(reps, fn); }

using sbgemm_fn = void (*)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, float,
                           const uint16_t*, blasint, const uint16_t*, blasint, float, float*, blasint);
// Seconds to read `bytes` once with uma's threads (the decode roofline).
double read_time(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  double t0 = seconds();
  std::vector<long long> sums(64, 0);
  cpu::parallel_for(bytes / 4096, 16, [&](size_t b, size_t e) {
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = b * 4096; i < e * 4096; i += 32) {
      acc = _mm256_add_epi64(acc, _mm256_load_si256(reinterpret_cast<const __m256i*>(c + i)));
    }
    sums[b % 64] += _mm256_extract_epi64(acc, 0);
  });
  return seconds() - t0;
}

sbgemm_fn find_sbgemm() { return reinterpret_cast<sbgemm_fn>(dlsym(RTLD_DEFAULT, "cblas_sbgemm")); }

void bench_f32() {
  const int n = 4096;
  array a = random_array({n, n}, float32, 1), b = random_array({n, n}, float32, 2);
  std::vector<float> c(size_t(n) * n);
  double flops = 2.0 * n * n * n;
  // Interleave the two so drift in clocks or neighbours hits both alike.
  std::vector<double> tb, tu;
  for (int i = 0; i < g_reps + 1; ++i) {
    // The peer: OpenBLAS on its own threads; uma runs it single-threaded per worker.
    openblas_set_num_threads(cpu::num_threads());
    double t0 = seconds();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data<float>(), n, b.data<float>(), n,
                0.f, c.data(), n);
    double t1 = seconds();
    openblas_set_num_threads(1);
    array r = matmul(a, b);
    r.eval();
    double t2 = seconds();
    if (i > 0) tb.push_back(t1 - t0), tu.push_back(t2 - t1);
  }
  std::sort(tb.begin(), tb.end());
  std::sort(tu.begin(), tu.end());
  double mb = tb[tb.size() / 2], mu = tu[tu.size() / 2];
  std::printf("\n### float32 4096^3 (median of %d, interleaved)\n\n", g_reps);
  std::printf("| | ms | GFLOP/s |\n|---|---|---|\n");
  std::printf("| cblas_sgemm direct | %.1f | %.1f |\n", mb * 1e3, flops / mb * 1e-9);
  std::printf("| uma matmul (graph + eval) | %.1f | %.1f |\n", mu * 1e3, flops / mu * 1e-9);
  std::printf("\numa / OpenBLAS throughput: %.1f%%\n", 100.0 * mb / mu);
}

// uma::bfloat16 or float16 product C (M, N) = x (M, K) @ W.T, W stored (N, K), or
// x @ B with B stored (K, N) when !wt.
struct HalfCase {
  int M, N, K;
  bool wt;
};

void bench_half(Dtype t, const std::vector<HalfCase>& cases, const char* title) {
  sbgemm_fn sb = t == uma::bfloat16 ? find_sbgemm() : nullptr;
  std::printf("\n### %s, %s (median of %d)\n\n", title, dtype_name(t), g_reps);
  std::printf(
      "| M | N | K | layout | uma ms | uma GFLOP/s | weights GB/s | read-only GB/s | convert+sgemm ms | sgemm only ms "
      "| %s |\n",
      sb ? "sbgemm ms" : "sbgemm");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto cs : cases) {
    // Enough weight copies to stream from memory (> 256 MiB), not from L3.
    size_t wbytes = size_t(cs.N) * cs.K * 2;
    int copies = int(std::min<size_t>(16, std::max<size_t>(1, (size_t(256) << 20) / wbytes)));
    if (cs.M > 64) copies = 1;
    array x = random_array({cs.M, cs.K}, t, 3);
    std::vector<array> ws;
    for (int i = 0; i < copies; ++i) ws.push_back(random_array(cs.wt ? Shape{cs.N, cs.K} : Shape{cs.K, cs.N}, t, 10 + i));
    int turn = 0;
    auto w_op = [&](const array& w) { return cs.wt ? transpose(w) : w; };
    double tu = median_time([&] {
      array r = matmul(x, w_op(ws[turn++ % copies]));
      r.eval();
    });
    // Baseline: astype both to float32, sgemm, back to the input dtype.
    double tc = !g_baselines ? 0 : median_time([&] {
      array r = astype(matmul(astype(x, float32), astype(w_op(ws[turn++ % copies]), float32)), t);
      r.eval();
    });
    array xf = astype(x, float32), wf = astype(ws[0], float32);
    xf.eval(), wf.eval();
    double ts = !g_baselines ? 0 : median_time([&] {
      array r = matmul(xf, w_op(wf));
      r.eval();
    });
    double tsb = 0;
    if (sb) {
      std::vector<float> c(size_t(cs.M) * cs.N);
      tsb = median_time([&] {
        const array& w = ws[turn++ % copies];
        sb(CblasRowMajor, CblasNoTrans, cs.wt ? CblasTrans : CblasNoTrans, cs.M, cs.N, cs.K, 1.f,
           reinterpret_cast<const uint16_t*>(x.data<bfloat16_t>()), cs.K,
           reinterpret_cast<const uint16_t*>(w.data<bfloat16_t>()), cs.wt ? cs.K : cs.N, 0.f, c.data(), cs.N);
      });
    }
    double tr = median_time([&] { read_time(ws[turn++ % copies].raw_ptr(), wbytes); });
    double flops = 2.0 * cs.M * cs.N * cs.K;
    char sbs[32] = "n/a";
    if (sb) std::snprintf(sbs, sizeof sbs, "%.3f", tsb * 1e3);
    std::printf("| %d | %d | %d | %s | %.3f | %.1f | %.1f | %.1f | %.3f | %.3f | %s |\n", cs.M, cs.N, cs.K,
                cs.wt ? "x @ W.T" : "x @ B", tu * 1e3, flops / tu * 1e-9, double(wbytes) / tu * 1e-9,
                double(wbytes) / tr * 1e-9, tc * 1e3, ts * 1e3, sbs);
    std::fflush(stdout);
  }
}

// Each kernel path on raw buffers, for tuning the dispatch thresholds.
void bench_paths(Dtype t) {
  cpu::HalfKind kind = t == uma::bfloat16 ? cpu::HalfKind::bf16 : cpu::HalfKind::f16;
  const cpu::GemmPath paths[] = {cpu::GemmPath::amx, cpu::GemmPath::avx512_bf16_packed, cpu::GemmPath::avx512_bf16,
                                 cpu::GemmPath::avx512, cpu::GemmPath::avx2, cpu::GemmPath::sgemm};
  const char* names[] = {"amx", "avx512_bf16_packed", "avx512_bf16", "avx512", "avx2", "sgemm"};
  std::printf("\n### kernel paths, %s, x @ W.T, ms (median of %d)\n\n| M | N | K |", dtype_name(t), g_reps);
  for (auto* n : names) std::printf(" %s |", n);
  std::printf("\n|---|---|---|---|---|---|---|---|---|\n");
  for (int M : {1, 4, 8, 16, 32, 64, 128, 512}) {
    int N = 4096, K = 4096;
    // Random values in [-1, 1) (AMX power, and so clocks, depend on the data).
    auto bits = [&](const array& x) {
      std::vector<uint16_t> v(x.size());
      std::memcpy(v.data(), x.raw_ptr(), v.size() * 2);
      return v;
    };
    std::vector<uint16_t> a = bits(random_array({M, K}, t, 5)), w = bits(random_array({N, K}, t, 6)), c(size_t(M) * N);
    cpu::HalfGemm g;
    g.kind = kind, g.M = M, g.N = N, g.K = K;
    g.a = a.data(), g.a_rs = K, g.a_cs = 1, g.b = w.data(), g.b_rs = 1, g.b_cs = K, g.c = c.data(), g.ldc = N;
    std::printf("| %d | %d | %d |", M, N, K);
    for (auto p : paths) {
      if (!cpu::half_path_available(kind, p) || (p == cpu::GemmPath::avx2 && M > 128)) {
        std::printf(" - |");
        continue;
      }
      std::printf(" %.3f |", median_time([&] { cpu::gemm_half(g, p); }) * 1e3);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (s == "--reps" && i + 1 < argc) g_reps = std::atoi(argv[++i]);
    if (s == "--only" && i + 1 < argc) only = argv[++i];
    if (s == "--no-baseline") g_baselines = false;
  }
  cpu::set_num_threads(threads);
  auto& f = cpu::cpu_features();
  std::printf("threads=%d tier=%s (best %s) sbgemm=%s\n", threads, cpu::tier_name(f.tier), cpu::tier_name(f.best),
              find_sbgemm() ? "yes" : "no (not in this OpenBLAS)");
  if (only.empty() || only == "f32") bench_f32();
  if (only.empty() || only == "bf16") {
    bench_half(uma::bfloat16, {{4096, 4096, 4096, false}, {4096, 4096, 4096, true}}, "square 4096^3");
  }
  if (only.empty() || only == "llm") {
    std::vector<HalfCase> llm;
    for (int M : {1, 512}) {
      llm.push_back({M, 2048, 2048, true});
      llm.push_back({M, 8192, 2048, true});
      llm.push_back({M, 2048, 8192, true});
    }
    llm.push_back({4, 8192, 2048, true});
    llm.push_back({1, 8192, 2048, false});
    bench_half(uma::bfloat16, llm, "LLM linear layers (W stored (N, K))");
    bench_half(float16, {{1, 8192, 2048, true}, {512, 2048, 2048, true}, {512, 8192, 2048, true}},
               "LLM linear layers");
  }
  if (only == "paths") {
    bench_paths(uma::bfloat16);
    bench_paths(float16);
  }
  return 0;
}
