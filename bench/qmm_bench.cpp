// quantized_matmul benchmark: MLX-layout 4- and 8-bit (group 64) weights,
// x @ W.T, decode (M = 1) and prefill (M = 128) at Llama-like shapes, against
// the bfloat16 matmul of the same (dequantized) matrix. Decode is reported as
// GB/s of weight bytes read (packed codes + bf16 scales and biases).
//
//   qmm_bench [--threads N] [--reps R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Median seconds of `reps` evaluations after one warm-up.
double median_time(const std::function<array()>& fn, int reps) {
  eval({fn()});
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    double t0 = now();
    array r = fn();
    eval({r});
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

array rand_bf16(Shape shape, uint64_t seed) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<float> v(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& f : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    f = float(int64_t(x % 2001) - 1000) / 1000.f;
  }
  array a = astype(array(v, shape), bfloat16);
  eval({a});
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 9;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) cpu::set_num_threads(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  std::printf("CPU: %s, tier %s, %d threads\n\n", cpu::cpu_features().brand.c_str(), cpu::tier_name(cpu::cpu_tier()),
              cpu::num_threads());
  std::printf("| bits | M | N x K | qmm ms | GB/s (weights) | bf16 matmul ms | ratio |\n|---|---|---|---|---|---|---|\n");
  const int shapes[][2] = {{4096, 4096}, {14336, 4096}, {4096, 14336}};
  for (int bits : {4, 8}) {
    for (int M : {1, 128}) {
      for (auto [N, K] : shapes) {
        array w = rand_bf16({N, K}, uint64_t(N + K));
        auto q = quantize(w, 64, bits);
        eval(q);
        array wd = dequantize(q[0], q[1], q[2], 64, bits);
        eval({wd});
        array wdt = transpose(wd);
        array x = rand_bf16({M, K}, 7);
        double tq = median_time([&] { return quantized_matmul(x, q[0], q[1], q[2], true, 64, bits); }, reps);
        double tf = median_time([&] { return matmul(x, wdt); }, reps);
        double bytes = double(q[0].nbytes() + q[1].nbytes() + q[2].nbytes());
        std::printf("| %d | %d | %d x %d | %.3f | %.1f | %.3f | %.2fx |\n", bits, M, N, K, tq * 1e3, bytes / tq / 1e9,
                    tf * 1e3, tf / tq);
      }
    }
  }
  return 0;
}
