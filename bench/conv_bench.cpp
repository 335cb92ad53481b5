// Convolution benchmark: a ResNet-style 3x3 convolution (N=8, 56x56,
// 64 -> 64 channels, padding 1, float32), forward and value_and_grad with
// respect to input and weight. Prints median ms and GFLOP/s (2 * MACs of the
// forward; the backward counts twice that).
//
//   conv_bench [--threads N] [--reps R]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/transforms.h"
#include "uma/uma.h"

using namespace uma;

int main(int argc, char** argv) {
  int threads = 2, reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[++i]);
  }
  cpu::set_num_threads(threads);
  const int N = 8, H = 56, W = 56, C = 64, K = 3;
  array x = bench::random_array({N, H, W, C}, float32, 1);
  array w = bench::random_array({C, K, K, C}, float32, 2);
  double flops = 2.0 * N * H * W * C * C * K * K;

  double fwd = bench::median_seconds(reps, [&] {
    array y = conv2d(x, w, {1, 1}, {1, 1});
    y.eval();
  });
  auto loss = [](const std::vector<array>& in) { return sum(conv2d(in[0], in[1], {1, 1}, {1, 1})); };
  auto vg = value_and_grad(loss, std::vector<int>{0, 1});
  double bwd = bench::median_seconds(reps, [&] {
    auto [v, g] = vg({x, w});
    eval({v, g[0], g[1]});
  });
  // The GEMM an im2col convolution runs (rows x 9C @ 9C x C), alone: the bound
  // of this approach.
  std::vector<float> a(size_t(N) * H * W * K * K * C, 0.5f), b(size_t(K) * K * C * C, 0.25f), c(size_t(N) * H * W * C);
  double gemm = bench::median_seconds(reps, [&] {
    cpu::blas_sgemm(false, true, N * H * W, C, K * K * C, 1.f, a.data(), K * K * C, b.data(), K * K * C, 0.f, c.data(),
                    C);
  });
  // The two convolutions of the vjp, alone: the input gradient (a flipped
  // 3x3 convolution of the cotangent) and the weight gradient (batch and
  // channels swapped: 56x56 kernel over 8 "channels").
  array dy = bench::random_array({N, H, W, C}, float32, 3);
  double dx_t = bench::median_seconds(reps, [&] {
    array r = conv_general(dy, w, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, false);  // w pre-flipped
    r.eval();
  });
  array xt = transpose(x, {3, 1, 2, 0}), dyt = transpose(dy, {3, 1, 2, 0});
  double dw_t = bench::median_seconds(reps, [&] {
    array r = conv_general(xt, dyt, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1, false);
    r.eval();
  });
  std::printf("conv2d 3x3, N=%d, %dx%d, %d->%d channels, float32, %d threads\n", N, H, W, C, C, threads);
  std::printf("| pass | ms | GFLOP/s |\n|---|---|---|\n");
  std::printf("| forward | %.2f | %.1f |\n", fwd * 1e3, flops / fwd * 1e-9);
  std::printf("| sgemm alone (%d x %d x %d) | %.2f | %.1f |\n", N * H * W, C, K * K * C, gemm * 1e3,
              flops / gemm * 1e-9);
  std::printf("| vjp: input-gradient conv | %.2f | %.1f |\n", dx_t * 1e3, flops / dx_t * 1e-9);
  std::printf("| vjp: weight-gradient conv | %.2f | %.1f |\n", dw_t * 1e3, flops / dw_t * 1e-9);
  std::printf("| value_and_grad (x, w) | %.2f | %.1f |\n", bwd * 1e3, 3 * flops / bwd * 1e-9);
  return 0;
}
