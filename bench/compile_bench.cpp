// compile on two 10-op elementwise chains over 16M float32 (two inputs, one
// output; one of cheap arithmetic, one with exp, tanh and a division): the
// uncompiled graph (one pass over memory per op), the compiled function (one
// fused pass), and the floor: a parallel loop that reads the two inputs and
// writes the output once (2 reads + 1 write). Medians of N.
//
//   UMA_NUM_THREADS=2 ./build/bin/compile_bench [runs=9] [millions=16]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

// Ten steps: multiply, add, subtract, multiply, exp, maximum, divide, add,
// tanh, multiply (scalars are broadcast views).
std::vector<array> chain(const std::vector<array>& in) {
  const array& x = in[0];
  const array& y = in[1];
  array a = add(multiply(x, array(1.5f)), y);
  array b = exp(multiply(subtract(a, array(0.5f)), array(-0.25f)));
  array c = divide(maximum(b, y), add(b, array(2.0f)));
  return {multiply(tanh(c), x)};
}

// Ten cheap steps (arithmetic only): what fusion saves when the math is
// cheap and the graph is memory-bound.
std::vector<array> arith(const std::vector<array>& in) {
  const array& x = in[0];
  const array& y = in[1];
  array a = subtract(multiply(add(x, y), array(0.5f)), y);
  array b = maximum(multiply(a, a), abs(x));
  array c = minimum(add(b, array(1.0f)), multiply(y, array(3.0f)));
  return {multiply(negative(c), x)};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 9;
  double millions = argc > 2 ? std::strtod(argv[2], nullptr) : 16;
  int32_t n = int32_t(millions * (1 << 20));
  std::printf("compile_bench: %gM float32, %d threads, median of %d runs\n", millions, cpu::num_threads(), runs);
  array x = bench::random_array({n}, float32, 1), y = bench::random_array({n}, float32, 2);
  eval(x, y);
  struct Case {
    const char* name;
    std::vector<array> (*fn)(const std::vector<array>&);
  };
  double t_comp_best = 0;
  for (Case c : {Case{"arithmetic", arith}, Case{"exp/tanh/divide", chain}}) {
    auto compiled = compile(c.fn);
    double t_plain = bench::median_seconds(runs, [&] { eval(c.fn({x, y})); });
    double t_comp = bench::median_seconds(runs, [&] { eval(compiled({x, y})); });
    array a = c.fn({x, y})[0], b = compiled({x, y})[0];
    std::printf("%-16s uncompiled %8.2f ms  compiled %8.2f ms  %5.2fx  (max |difference| %g)\n", c.name,
                t_plain * 1e3, t_comp * 1e3, t_plain / t_comp, max(abs(subtract(a, b))).item<float>());
    if (!t_comp_best) t_comp_best = t_comp;
  }
  const float* px = x.data<float>();
  const float* py = y.data<float>();
  std::vector<float> out(static_cast<size_t>(n));
  float* po = out.data();
  double t_floor = bench::median_seconds(runs, [&] {
    cpu::parallel_for(size_t(n), cpu::grain_for_bytes(12), [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) po[i] = px[i] + py[i];
    });
  });
  double bytes = 3.0 * double(n) * sizeof(float);
  std::printf("floor (2R+1W)    %8.2f ms  %6.2f GB/s (compiled arithmetic chain: %5.1f%% of it)\n", t_floor * 1e3,
              bytes / t_floor / 1e9, 100 * t_floor / t_comp_best);
  return 0;
}
