// hadamard_transform and gather_mm on the CPU. Prints markdown tables of
// medians.
//   hadamard: uma's kernel (in-place radix-4 butterflies, the first three
//     stages in AVX2 registers) against the textbook radix-2 loop in
//     float32 here, one thread each, then uma on all threads.
//   gather_mm: a mixture-of-experts product x (T, 1, K) @ W[e] (E, K, N),
//     one expert per token: expert indices sorted (runs of one expert are
//     one GEMM) against the same pairs shuffled (one GEMV per token), and
//     the shuffled pairs as one matmul per token.
//
//   hadamard_gather_bench [--reps R]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

int g_reps = 7;

// The textbook transform of one row, in place.
void fwht_radix2(float* x, int64_t n) {
  for (int64_t h = 1; h < n; h *= 2) {
    for (int64_t j = 0; j < n; j += 2 * h) {
      for (int64_t i = j; i < j + h; ++i) {
        float u = x[i], w = x[i + h];
        x[i] = u + w;
        x[i + h] = u - w;
      }
    }
  }
}

void bench_hadamard() {
  std::printf("\n### hadamard_transform, float32 unless noted (median of %d)\n\n", g_reps);
  std::printf("| rows x n | radix-2 loop, 1 thread | uma, 1 thread | uma, %d threads |\n|---|---|---|---|\n",
              cpu::num_threads());
  struct Case {
    int rows, n;
    Dtype t;
  };
  const int threads = cpu::num_threads();
  for (Case c : {Case{4096, 1 << 10, float32}, Case{256, 1 << 14, float32}, Case{16, 1 << 18, float32},
                 Case{256, 1 << 14, bfloat16}, Case{256, 28 << 9, float32}}) {
    array x = bench::random_array({c.rows, c.n}, c.t, 1);
    double naive = 0;
    if (c.t == float32 && (c.n & (c.n - 1)) == 0) {
      std::vector<float> buf(size_t(c.rows) * size_t(c.n));
      naive = bench::median_seconds(g_reps, [&] {
        std::memcpy(buf.data(), x.data<float>(), buf.size() * 4);
        for (int r = 0; r < c.rows; ++r) fwht_radix2(buf.data() + size_t(r) * size_t(c.n), c.n);
      });
    }
    auto run = [&] { hadamard_transform(x).eval(); };
    cpu::set_num_threads(1);
    double one = bench::median_seconds(g_reps, run);
    cpu::set_num_threads(threads);
    double all = bench::median_seconds(g_reps, run);
    std::string label = std::to_string(c.rows) + " x " + std::to_string(c.n) + (c.t == bfloat16 ? " bf16" : "");
    if (naive > 0) {
      std::printf("| %s | %.2f ms | %.2f ms | %.2f ms |\n", label.c_str(), naive * 1e3, one * 1e3, all * 1e3);
    } else {
      std::printf("| %s | - | %.2f ms | %.2f ms |\n", label.c_str(), one * 1e3, all * 1e3);
    }
  }
}

void bench_gather() {
  std::printf("\n### gather_mm, x (T, 1, K) @ W[e] (E, K, N), one expert per token (median of %d)\n\n", g_reps);
  std::printf("| dtype | T, E, K, N | sorted (runs) | shuffled | shuffled, a matmul per token |\n|---|---|---|---|---|\n");
  const int T = 512, E = 8, K = 1024, N = 1024;
  std::mt19937 rng(3);
  std::vector<int32_t> experts(T);
  for (auto& e : experts) e = int32_t(rng() % E);
  std::vector<int32_t> sorted = experts;
  std::sort(sorted.begin(), sorted.end());
  for (Dtype t : {float32, bfloat16}) {
    array x = bench::random_array({T, 1, K}, t, 2), w = bench::random_array({E, K, N}, t, 3);
    array rs = array(sorted.data(), {T}, int32), ru = array(experts.data(), {T}, int32);
    double ts = bench::median_seconds(g_reps, [&] { gather_mm(x, w, std::nullopt, rs, true).eval(); });
    double tu = bench::median_seconds(g_reps, [&] { gather_mm(x, w, std::nullopt, ru).eval(); });
    double tl = bench::median_seconds(g_reps, [&] {
      std::vector<array> outs;
      for (int i = 0; i < T; ++i) {
        array xi = slice(x, {i, 0, 0}, {i + 1, 1, K});
        array wi = slice(w, {experts[size_t(i)], 0, 0}, {experts[size_t(i)] + 1, K, N});
        outs.push_back(matmul(xi, wi));
      }
      eval(outs);
    });
    std::printf("| %s | %d, %d, %d, %d | %.2f ms | %.2f ms | %.2f ms |\n", dtype_name(t), T, E, K, N, ts * 1e3,
                tu * 1e3, tl * 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--reps" && i + 1 < argc) g_reps = std::max(1, std::atoi(argv[++i]));
  }
  bench_hadamard();
  bench_gather();
  return 0;
}
