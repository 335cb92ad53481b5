// quantized_matmul benchmark: MLX-layout 4- and 8-bit (group 64) weights,
// x @ W.T, decode (M = 1) and prefill (M = 128) at Llama-like shapes, against
// the bfloat16 matmul of the same (dequantized) matrix, and against
// dequantize + matmul on every call. Decode is reported as
// GB/s of weight bytes read (packed codes + bf16 scales and biases).
// Each timed call reads the next of enough copies of W (at least 256 MiB in
// all) that it comes from memory, not from the last-level cache, as a
// model's weights do; --warm 1 reuses one copy (the cache-resident figure).
//
//   qmm_bench [--threads N] [--reps R] [--shape N K] [--m M] [--bits B] [--warm 1]
#include <algorithm>
#include <chrono>
#include <cmath>
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
  bool warm = false;
  std::vector<std::pair<int, int>> shapes = {{4096, 4096}, {14336, 4096}, {4096, 14336}};
  std::vector<int> ms = {1, 128}, bits_list = {4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) cpu::set_num_threads(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--m")) ms = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--bits")) bits_list = {std::atoi(argv[i + 1])};
    if (!std::strcmp(argv[i], "--warm")) warm = std::atoi(argv[i + 1]) != 0;
    if (!std::strcmp(argv[i], "--shape") && i + 2 < argc) {
      shapes = {{std::atoi(argv[i + 1]), std::atoi(argv[i + 2])}};
      ++i;
    }
  }
  std::printf("CPU: %s, tier %s, %d threads, W %s\n\n", cpu::cpu_features().brand.c_str(),
              cpu::tier_name(cpu::cpu_tier()), cpu::num_threads(), warm ? "cache-resident" : "from memory");
  std::printf(
      "| bits | M | N x K | qmm ms | GB/s (weights) | bf16 matmul ms | ratio | dequantize + matmul ms | ratio |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
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
        double bytes = double(q[0].nbytes() + q[1].nbytes() + q[2].nbytes());
        // Copies of the quantized and the bfloat16 W, used in turn.
        size_t copies = warm ? 1 : size_t(std::max(2.0, std::ceil((256 << 20) / bytes)));
        std::vector<std::vector<array>> qs = {q};
        std::vector<array> wts = {wdt};
        for (size_t c = 1; c < copies; ++c) {
          qs.push_back({copy(q[0]), copy(q[1]), copy(q[2])});
          eval(qs.back());
        }
        for (size_t c = 1; c < std::max<size_t>(1, copies / 4); ++c) {  // bf16 W is 4-2x larger
          wts.push_back(transpose(copy(wd)));
          eval({wts.back()});
        }
        size_t iq = 0, iw = 0;
        double tq = bench::median_seconds(reps, [&] {
          auto& c = qs[iq++ % qs.size()];
          eval({quantized_matmul(x, c[0], c[1], c[2], true, 64, bits)});
        });
        double tf = bench::median_seconds(reps, [&] { eval({matmul(x, wts[iw++ % wts.size()])}); });
        // dequantize + matmul on every call: what running without a quantized kernel costs.
        size_t id = 0;
        double td = bench::median_seconds(reps, [&] {
          auto& c = qs[id++ % qs.size()];
          eval({matmul(x, transpose(dequantize(c[0], c[1], c[2], 64, bits)))});
        });
        std::printf("| %d | %d | %d x %d | %.3f | %.1f | %.3f | %.2fx | %.3f | %.2fx |\n", bits, M, N, K, tq * 1e3,
                    bytes / tq / 1e9, tf * 1e3, tf / tq, td * 1e3, td / tq);
      }
    }
  }
  return 0;
}
