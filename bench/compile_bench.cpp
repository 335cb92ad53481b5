// compile on two 10-op elementwise chains over 16M float32 (two inputs, one
// output; one of cheap arithmetic, one with exp, tanh and a division): the
// uncompiled graph (one pass over memory per op), the compiled function run
// by the interpreter (UMA_COMPILE_JIT=0: tiles of steps in L1) and by its
// generated kernel (UMA_COMPILE_JIT=1: one loop, values in registers), and
// the floor: a parallel loop that reads the two inputs and writes the output
// once (2 reads + 1 write). Medians of N; the generated kernel's first call
// (compiling, or loading from the disk cache) is reported apart.
//
//   UMA_NUM_THREADS=2 ./build/bin/compile_bench [runs=9] [millions=16]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/jit/cache.h"
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

// The compiled function with the fused kernels run as UMA_COMPILE_JIT=mode.
ArrayFn compiled_as(const char* mode, ArrayFn f) {
  setenv("UMA_COMPILE_JIT", mode, 1);
  cpu::jit::reset();
  return compile(std::move(f));
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
  std::printf("%-16s %11s %12s %11s %9s %9s  %s\n", "chain", "uncompiled", "interpreter", "generated", "vs uncomp",
              "vs interp", "first generated call");
  double t_gen_first_case = 0;
  for (Case c : {Case{"arithmetic", arith}, Case{"exp/tanh/divide", chain}}) {
    double t_plain = bench::median_seconds(runs, [&] { eval(c.fn({x, y})); });
    auto interp = compiled_as("0", c.fn);
    double t_interp = bench::median_seconds(runs, [&] { eval(interp({x, y})); });
    auto gen = compiled_as("1", c.fn);
    double t0 = bench::seconds();
    array b = gen({x, y})[0];
    eval(b);
    double t_first = bench::seconds() - t0;
    auto st = cpu::jit::stats();
    double t_gen = bench::median_seconds(runs, [&] { eval(gen({x, y})); });
    array a = c.fn({x, y})[0], i = interp({x, y})[0];
    float diff = std::max(max(abs(subtract(a, b))).item<float>(), max(abs(subtract(a, i))).item<float>());
    std::printf("%-16s %8.2f ms %9.2f ms %8.2f ms %8.2fx %8.2fx  %.2f s (%s; max |difference| %g)\n", c.name,
                t_plain * 1e3, t_interp * 1e3, t_gen * 1e3, t_plain / t_gen, t_interp / t_gen, t_first,
                st.compiled ? "compiled" : st.disk_hits ? "from the disk cache" : "NOT generated: interpreted",
                double(diff));
    if (!t_gen_first_case) t_gen_first_case = t_gen;
  }
  // Where generating pays per call: the arithmetic chain at smaller sizes
  // (UMA_COMPILE_JIT=auto generates from cpu::jit::kJitMinElements on).
  std::printf("arithmetic chain per call:");
  for (int32_t m : {1 << 10, 1 << 13, 1 << 16, 1 << 18, 1 << 20}) {
    if (m > n) break;
    array xs = bench::random_array({m}, float32, 3), ys = bench::random_array({m}, float32, 4);
    auto interp = compiled_as("0", arith);
    double ti = bench::median_seconds(4 * runs, [&] { eval(interp({xs, ys})); });
    auto gen = compiled_as("1", arith);
    double tg = bench::median_seconds(4 * runs, [&] { eval(gen({xs, ys})); });
    std::printf("  %dK: %.1f / %.1f us", m >> 10, ti * 1e6, tg * 1e6);
  }
  std::printf("  (interpreter / generated)\n");
  unsetenv("UMA_COMPILE_JIT");
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
  std::printf("floor (2R+1W)    %8.2f ms  %6.2f GB/s (generated arithmetic chain: %5.1f%% of its speed)\n",
              t_floor * 1e3, bytes / t_floor / 1e9, 100 * t_floor / t_gen_first_case);
  return 0;
}
