// CUDA kernel benchmark (CUDA builds only; needs a GPU): the kernels an LLM
// decode and prefill spend their time in, at Llama-3.1-8B shapes, against
// the card's own device-to-device copy.
//   - quantized_matmul, MLX affine 4- and 8-bit (group 64), x @ W.T:
//     decode (M = 1) as GB/s of weight bytes read, prefill (M = 512) as
//     TFLOP/s; bfloat16 matmul of the same shapes beside it;
//   - attention decode (one query over a long KV cache) and prefill.
// Each timed step queues `batch` independent products on distinct copies of
// W (together larger than the L2 cache, so weights come from HBM as a
// model's do) and evaluates them at once: the time per product is the
// kernel's, not a host round trip's.
//
//   cuda_bench [--reps R] [--batch B]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/core/fast.h"
#include "uma/uma.h"

using namespace uma;

namespace {

const Device kGpu{Device::gpu, 0};

// Median seconds per item of `batch` items built by make(i) and evaluated
// together on the GPU.
double per_item(int reps, int batch, const std::function<array(int)>& make) {
  return bench::median_seconds(reps,
                               [&] {
                                 std::vector<array> outs;
                                 for (int i = 0; i < batch; ++i) outs.push_back(make(i));
                                 eval(outs);
                               }) /
         batch;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, batch = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
  }
  if (!is_available(kGpu)) {
    std::fprintf(stderr, "cuda_bench: no GPU (see `uma info --system`)\n");
    return 1;
  }
  set_default_device(kGpu);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows show as they come, also under a timeout
  std::printf("%s", device_info(kGpu).c_str());

  // The card's read + write bandwidth: a 1 GiB device-to-device copy.
  {
    array src = astype(bench::random_array({1 << 28}, float32, 1), float32, kGpu);
    eval(src);
    double s = per_item(reps, 4, [&](int) { return copy(astype(src, int32, kGpu), kGpu); });
    std::printf("copy (astype f32 -> i32, 1 GiB read + 1 GiB written): %.0f GB/s\n",
                2.0 * (1 << 30) / s / 1e9);
  }

  const std::vector<std::pair<int, int>> shapes = {{4096, 4096}, {14336, 4096}, {4096, 14336}};
  std::printf(
      "\n| kernel | N x K | M | ms | GB/s (weights) | TFLOP/s |\n|---|---|---|---|---|---|\n");
  for (auto [N, K] : shapes) {
    // Enough copies of W that a batch reads more than the 50 MB L2.
    std::vector<array> wb;
    for (int i = 0; i < batch; ++i)
      wb.push_back(astype(bench::random_array({N, K}, float32, 10 + i), bfloat16, kGpu));
    eval(wb);
    // Quantized once per shape (quantize runs on the CPU for now).
    std::map<int, std::vector<std::vector<array>>> quantized;
    for (int bits : {4, 8}) {
      for (auto& w : wb) quantized[bits].push_back(quantize(w, 64, bits, "affine", std::nullopt, kGpu));
      for (auto& v : quantized[bits]) eval(v);
    }
    // GGUF Q4_K and Q6_K blocks (gguf_matmul): random bytes, as the time
    // does not depend on the values.
    std::map<uint32_t, std::vector<array>> blocks;
    for (uint32_t type : {12u, 14u}) {
      const int row_bytes = K / 256 * (type == 12u ? 144 : 210);
      for (int i = 0; i < batch; ++i) {
        array r = bench::random_array({N, row_bytes}, float32, 50 + i);
        blocks[type].push_back(astype(multiply(abs(r), array(255.f)), uint8, kGpu));
      }
      eval(blocks[type]);
    }
    for (int M : {1, 512}) {
      array x = astype(bench::random_array({M, K}, float32, 3), bfloat16, kGpu);
      eval(x);
      double s = per_item(reps, batch, [&](int i) {
        return matmul(x, transpose(wb[i], {1, 0}, kGpu), kGpu);
      });
      double bytes = double(N) * K * 2, flops = 2.0 * M * N * K;
      std::printf("| bf16 matmul | %d x %d | %d | %.3f | %.0f | %.1f |\n", N, K, M, s * 1e3,
                  bytes / s / 1e9, flops / s / 1e12);
      for (int bits : {4, 8}) {
        const auto& q = quantized[bits];
        double sq = per_item(reps, batch, [&](int i) {
          return quantized_matmul(x, q[i][0], q[i][1], q[i][2], true, 64, bits, "affine", kGpu);
        });
        double qbytes =
            double(N) * K * bits / 8 + double(N) * (K / 64) * 4;  // codes + bf16 scales, biases
        std::printf("| q%d g64 | %d x %d | %d | %.3f | %.0f | %.1f |\n", bits, N, K, M, sq * 1e3,
                    qbytes / sq / 1e9, flops / sq / 1e12);
      }
      for (uint32_t type : {12u, 14u}) {
        const int row_bytes = K / 256 * (type == 12u ? 144 : 210);
        const auto& g = blocks[type];
        double sg = per_item(reps, batch, [&](int i) { return gguf_matmul(x, g[i], type, kGpu); });
        std::printf("| gguf %s | %d x %d | %d | %.3f | %.0f | %.1f |\n", type == 12u ? "Q4_K" : "Q6_K", N, K,
                    M, sg * 1e3, double(N) * row_bytes / sg / 1e9, flops / sg / 1e12);
      }
    }
  }

  // Attention: 32 query heads, 8 KV heads of 128 (Llama-3.1-8B), bfloat16.
  std::printf("\n| attention | T_q | T_kv | ms | GB/s (K, V) |\n|---|---|---|---|---|\n");
  for (auto [tq, tk] :
       std::vector<std::pair<int, int>>{{1, 512}, {1, 4096}, {1, 32768}, {512, 512}}) {
    array q = astype(bench::random_array({1, 32, tq, 128}, float32, 4), bfloat16, kGpu);
    array k = astype(bench::random_array({1, 8, tk, 128}, float32, 5), bfloat16, kGpu);
    array v = astype(bench::random_array({1, 8, tk, 128}, float32, 6), bfloat16, kGpu);
    eval(q, k, v);
    const float scale = 1.0f / std::sqrt(128.0f);
    double s = per_item(reps, batch, [&](int i) {
      // A distinct query per item (no common subexpression), same cache.
      array qi = multiply(q, array(1.0f + 1e-3f * float(i), bfloat16), kGpu);
      return fast::scaled_dot_product_attention(qi, k, v, scale, tq > 1 ? "causal" : "",
                                                std::nullopt, kGpu);
    });
    double kv_bytes = 2.0 * 8 * tk * 128 * 2;
    std::printf("| sdpa | %d | %d | %.3f | %.0f |\n", tq, tk, s * 1e3, kv_bytes / s / 1e9);
  }
  return 0;
}
