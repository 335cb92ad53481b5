// quantized_matmul benchmark: MLX-layout 4- and 8-bit (group 64) weights,
// x @ W.T, decode (M = 1) and prefill (M = 128) at Llama-like shapes, against
// the bfloat16 matmul of the same (dequantized) matrix. Decode is reported as
// GB/s of weight bytes read (packed codes + bf16 scales and biases).
//
//   qmm_bench [--threads N] [--reps R] [--shape N K] [--m M] [--bits B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

int main(int argc, char** argv) {
  int reps = 9;
  std::vector<std::pair<int, int>> shapes = {{4096, 4096}, {14336, 4096}, {4096, 14336}};
  std::vector<int> ms = {1, 128}, bits_list = {4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) cpu::set_num_threads(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--m")) ms = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--bits")) bits_list = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--shape") && i + 2 < argc) {
      shapes = {{std::atoi(argv[i + 1]), std::atoi(argv[i + 2])}};
      ++i;
    }
  }
  std::printf("CPU: %s, tier %s, %d threads\n\n", cpu::cpu_features().brand.c_str(), cpu::tier_name(cpu::cpu_tier()),
              cpu::num_threads());
  std::printf("| bits | M | N x K | qmm ms | GB/s (weights) | bf16 matmul ms | ratio |\n|---|---|---|---|---|---|---|\n");
  for (int bits : bits_list) {
    for (int M : ms) {
      for (auto [N, K] : shapes) {
        array w = bench::random_array({N, K}, bfloat16, uint64_t(N + K));
        auto q = quantize(w, 64, bits);
        eval(q);
        array wd = dequantize(q[0], q[1], q[2], 64, bits);
        eval({wd});
        array wdt = transpose(wd);
        array x = bench::random_array({M, K}, bfloat16, 7);
        double tq = bench::median_seconds(reps, [&] { eval({quantized_matmul(x, q[0], q[1], q[2], true, 64, bits)}); });
        double tf = bench::median_seconds(reps, [&] { eval({matmul(x, wdt)}); });
        double bytes = double(q[0].nbytes() + q[1].nbytes() + q[2].nbytes());
        std::printf("| %d | %d | %d x %d | %.3f | %.1f | %.3f | %.2fx |\n", bits, M, N, K, tq * 1e3, bytes / tq / 1e9,
                    tf * 1e3, tf / tq);
      }
    }
  }
  return 0;
}
