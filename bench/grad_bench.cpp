// The cost of a gradient: value_and_grad over the forward pass alone, for a
// 2-layer MLP and a Llama block (Llama-3.2-1B shapes: hidden 2048, 32 query
// and 8 kv heads of 64, MLP 8192; a sequence of T tokens), float32, random
// weights. MLX's rule of thumb is a backward pass of about twice the forward
// (value_and_grad ~3x the forward). Medians of N runs.
//
//   UMA_NUM_THREADS=2 ./build/bin/grad_bench [runs=5] [tokens=64]
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bench_util.h"
#include "uma/core/fast.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

array silu(const array& x) { return multiply(x, sigmoid(x)); }

// x (B, D) -> (B, D): W2 silu(W1 x).
array mlp(const std::vector<array>& p, const array& x) {
  return matmul(silu(matmul(x, p[0])), p[1]);
}

// x (1, T, 2048) -> (1, T, 2048): pre-norm attention and SwiGLU MLP.
array llama_block(const std::vector<array>& p, const array& x) {
  const int T = x.shape(1), H = 32, KV = 8, Dh = 64;
  array h = fast::rms_norm(x, p[0], 1e-5f);
  auto heads = [&](const array& y, int n) { return transpose(reshape(y, {1, T, n, Dh}), {0, 2, 1, 3}); };
  array q = fast::rope(heads(matmul(h, p[1]), H), Dh, false, 500000.f, 1.f, 0);
  array k = fast::rope(heads(matmul(h, p[2]), KV), Dh, false, 500000.f, 1.f, 0);
  array v = heads(matmul(h, p[3]), KV);
  array o = fast::scaled_dot_product_attention(q, k, v, 1.f / std::sqrt(float(Dh)), "causal");
  array a = add(x, matmul(reshape(transpose(o, {0, 2, 1, 3}), {1, T, H * Dh}), p[4]));
  array m = fast::rms_norm(a, p[5], 1e-5f);
  array g = multiply(silu(matmul(m, p[6])), matmul(m, p[7]));
  return add(a, matmul(g, p[8]));
}

void run(const char* name, int runs, const std::vector<array>& params, const array& x,
         array (*f)(const std::vector<array>&, const array&)) {
  auto loss = [&](const std::vector<array>& ps) { return sum(f(ps, x)); };
  double t_fwd = bench::median_seconds(runs, [&] { eval(loss(params)); });
  std::vector<int> argnums(params.size());
  for (size_t i = 0; i < params.size(); ++i) argnums[i] = int(i);
  auto vg = value_and_grad(std::function<array(const std::vector<array>&)>(loss), argnums);
  double t_vg = bench::median_seconds(runs, [&] {
    auto [v, g] = vg(params);
    g.push_back(v);
    eval(g);
  });
  std::printf("%-14s forward %8.2f ms   value_and_grad %8.2f ms   ratio %5.2fx\n", name, t_fwd * 1e3, t_vg * 1e3,
              t_vg / t_fwd);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  int T = argc > 2 ? std::atoi(argv[2]) : 64;
  std::printf("grad_bench: float32, %d threads, median of %d runs\n", cpu::num_threads(), runs);
  uint64_t seed = 1;
  auto w = [&](Shape s, float scale) { return multiply(bench::random_array(s, float32, seed++), array(scale)); };
  {
    std::vector<array> p{w({512, 2048}, 0.04f), w({2048, 512}, 0.02f)};
    array x = w({256, 512}, 1.f);
    eval(p);
    run("mlp 512-2048", runs, p, x, mlp);
  }
  {
    const int D = 2048, I = 8192;
    std::vector<array> p{ones({D}),         w({D, D}, 0.02f), w({D, 512}, 0.02f), w({D, 512}, 0.02f),
                         w({D, D}, 0.02f),  ones({D}),        w({D, I}, 0.02f),   w({D, I}, 0.02f),
                         w({I, D}, 0.01f)};
    array x = w({1, T, D}, 1.f);
    eval(p);
    eval(x);
    run("llama block", runs, p, x, llama_block);
  }
  return 0;
}
