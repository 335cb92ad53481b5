// Elementwise bandwidth: uma's add on 256 MiB float32 arrays against a
// parallel memcpy and a STREAM-triad loop run on the same thread pool in the
// same process. GB/s counts the streams each kernel must move (add and
// triad: 2 reads + 1 write; memcpy: 1 read + 1 write); medians of N runs.
//
//   UMA_NUM_THREADS=2 ./build/bin/elementwise_bench [runs=9] [mib=256]
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "bench_util.h"
#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

void report(const char* name, double bytes, double secs, double ref_gbs = 0) {
  double gbs = bytes / secs / 1e9;
  if (ref_gbs > 0) {
    std::printf("%-34s %8.2f ms %8.2f GB/s  %5.1f%% of triad\n", name, secs * 1e3, gbs, 100 * gbs / ref_gbs);
  } else {
    std::printf("%-34s %8.2f ms %8.2f GB/s\n", name, secs * 1e3, gbs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 9;
  size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 256;
  size_t n = (mib << 20) / sizeof(float);
  double bytes = double(n) * sizeof(float);
  std::printf("elementwise_bench: %zu MiB float32 arrays, %d threads, SIMD table %s, median of %d runs\n", mib,
              cpu::num_threads(), cpu::simd::kernels().isa, runs);

  array a = astype(arange(double(n), float32), float32);
  array b = full({int32_t(n)}, 2.0f);
  eval(a, b);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  std::vector<float> c_buf(n, 0.0f);
  float* pc = c_buf.data();
  size_t grain = cpu::grain_for_bytes(sizeof(float));

  double t_copy = bench::median_seconds(runs, [&] {
    cpu::parallel_for(n, grain, [&](size_t s, size_t e) { std::memcpy(pc + s, pa + s, (e - s) * sizeof(float)); });
  });
  double t_triad = bench::median_seconds(runs, [&] {
    cpu::parallel_for(n, grain, [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) pc[i] = pa[i] + 3.0f * pb[i];
    });
  });
  // Triad with streaming stores (no read-for-ownership of c), as uma's add
  // does for large outputs: the stricter baseline.
  double t_triad_nt = bench::median_seconds(runs, [&] {
    cpu::parallel_for(n, grain, [&](size_t s, size_t e) {
      size_t i = s;
      for (; i < e && (reinterpret_cast<uintptr_t>(pc + i) & 31); ++i) pc[i] = pa[i] + 3.0f * pb[i];
      __m256 k = _mm256_set1_ps(3.0f);
      for (; i + 8 <= e; i += 8) {
        _mm256_stream_ps(pc + i, _mm256_fmadd_ps(k, _mm256_loadu_ps(pb + i), _mm256_loadu_ps(pa + i)));
      }
      _mm_sfence();
      for (; i < e; ++i) pc[i] = pa[i] + 3.0f * pb[i];
    });
  });
  // The output is dropped each run, so the allocator hands the same cached
  // buffer back: no page faults in the timed runs.
  double t_add = bench::median_seconds(runs, [&] { add(a, b).eval(); });
  double t_add_scalar = bench::median_seconds(runs, [&] { add(a, array(1.0f)).eval(); });
  array a_bf = astype(a, bfloat16), b_bf = astype(b, bfloat16);
  eval(a_bf, b_bf);
  double t_add_bf16 = bench::median_seconds(runs, [&] { add(a_bf, b_bf).eval(); });
  double t_exp = bench::median_seconds(runs, [&] { exp(a).eval(); });
  double t_where = bench::median_seconds(runs, [&] { where(less(a, b), a, b).eval(); });

  double triad_gbs = 3 * bytes / t_triad / 1e9;
  report("memcpy (parallel, 1R+1W)", 2 * bytes, t_copy);
  report("STREAM triad loop (2R+1W)", 3 * bytes, t_triad);
  report("STREAM triad, streaming stores", 3 * bytes, t_triad_nt);
  report("uma add f32 vv (2R+1W)", 3 * bytes, t_add, triad_gbs);
  report("uma add f32 vector+scalar (1R+1W)", 2 * bytes, t_add_scalar, triad_gbs);
  report("uma add bf16 vv (2R+1W)", 1.5 * bytes, t_add_bf16, triad_gbs);
  report("uma exp f32 (1R+1W)", 2 * bytes, t_exp, triad_gbs);
  report("uma where(a<b, a, b) f32, 2 nodes", 5.5 * bytes, t_where, triad_gbs);
  double copy_gbs = 2 * bytes / t_copy / 1e9, add_gbs = 3 * bytes / t_add / 1e9;
  double nt_gbs = 3 * bytes / t_triad_nt / 1e9;
  std::printf("add / memcpy = %.1f%%   add / triad = %.1f%%   add / streaming triad = %.1f%%\n",
              100 * add_gbs / copy_gbs, 100 * add_gbs / triad_gbs, 100 * add_gbs / nt_gbs);
  return 0;
}
