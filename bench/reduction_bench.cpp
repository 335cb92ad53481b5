// Reduction family benchmark: full float32 sum of a 256 MiB array against the
// machine's read bandwidth measured in the same run (an AVX2 read loop over
// the same array, split over the same thread pool), plus a few other shapes.
//   build/bin/reduction_bench [repeats]      (UMA_NUM_THREADS sets threads)
// Prints medians; the ratio sum / read loop is the figure of merit.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "uma/backend/cpu/thread_pool.h"
#include "uma/uma.h"

using namespace uma;

namespace {

double median_seconds(int repeats, const std::function<void()>& f) {
  f();  // warm-up (page faults, caches)
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Reads every byte once with 256-bit loads (OR-accumulated so the loads
// cannot be elided), chunks split across the pool like the reduction.
float read_loop(const float* p, size_t n) {
  int parts = cpu::num_threads();
  std::vector<float> partial(parts, 0.f);
  cpu::parallel_for(size_t(parts), 1, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      size_t lo = n * t / parts, hi = n * (t + 1) / parts;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      size_t i = lo;
      for (; i + 32 <= hi; i += 32) {
        a0 = _mm256_or_ps(a0, _mm256_loadu_ps(p + i));
        a1 = _mm256_or_ps(a1, _mm256_loadu_ps(p + i + 8));
        a2 = _mm256_or_ps(a2, _mm256_loadu_ps(p + i + 16));
        a3 = _mm256_or_ps(a3, _mm256_loadu_ps(p + i + 24));
      }
      alignas(32) float o[8];
      _mm256_store_ps(o, _mm256_or_ps(_mm256_or_ps(a0, a1), _mm256_or_ps(a2, a3)));
      partial[t] = o[0] + o[7] + (i < hi ? p[i] : 0.f);
    }
  });
  return partial[0];
}

void report(const char* name, double seconds, double bytes, double ref_gbs = 0) {
  double gbs = bytes / seconds / 1e9;
  if (ref_gbs > 0) {
    std::printf("%-34s %9.3f ms %8.2f GB/s  %5.1f%% of read loop\n", name, seconds * 1e3, gbs, 100 * gbs / ref_gbs);
  } else {
    std::printf("%-34s %9.3f ms %8.2f GB/s\n", name, seconds * 1e3, gbs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = argc > 1 ? std::atoi(argv[1]) : 21;
  const size_t n = size_t(64) << 20;  // 64 Mi floats = 256 MiB
  std::vector<float> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = float(i % 1000) * 1e-3f;
  array a(host, {int32_t(n)});
  a.eval();
  host.clear();
  host.shrink_to_fit();
  const float* p = a.data<float>();
  double bytes = double(n) * 4;
  std::printf("threads=%d, array=%zu MiB float32, median of %d runs\n", cpu::num_threads(), size_t(bytes) >> 20,
              repeats);

  volatile float sink = 0;
  // The read loop and the sum alternate, so load changes on a shared machine
  // hit both alike; the ratio is the median of the per-pair ratios.
  std::vector<double> tr, ts, ratio;
  sink = read_loop(p, n);
  sink = sum(a).item<float>();
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    sink = read_loop(p, n);
    auto t1 = std::chrono::steady_clock::now();
    sink = sum(a).item<float>();
    auto t2 = std::chrono::steady_clock::now();
    tr.push_back(std::chrono::duration<double>(t1 - t0).count());
    ts.push_back(std::chrono::duration<double>(t2 - t1).count());
    ratio.push_back(tr.back() / ts.back());
  }
  std::sort(tr.begin(), tr.end());
  std::sort(ts.begin(), ts.end());
  std::sort(ratio.begin(), ratio.end());
  double t_read = tr[repeats / 2], t_sum = ts[repeats / 2];
  std::vector<char> dst(static_cast<size_t>(bytes));
  double t_copy = median_seconds(std::max(3, repeats / 3), [&] {
    cpu::parallel_for(size_t(bytes), size_t(1) << 20,
                      [&](size_t b, size_t e) { std::memcpy(dst.data() + b, reinterpret_cast<const char*>(p) + b, e - b); });
  });
  double read_gbs = bytes / t_read / 1e9;
  report("read loop (AVX2 loads)", t_read, bytes);
  report("memcpy (bytes read)", t_copy, bytes);
  report("uma sum(256 MiB float32)", t_sum, bytes, read_gbs);
  std::printf("%-34s %5.1f%% (median of per-run ratios)\n", "sum / read loop", 100 * ratio[repeats / 2]);

  double t_max = median_seconds(repeats, [&] { sink = max(a).item<float>(); });
  report("uma max(256 MiB float32)", t_max, bytes, read_gbs);
  array m = reshape(a, {8192, 8192});
  double t_rows = median_seconds(repeats, [&] { eval(sum(m, 1)); });
  report("uma sum((8192,8192), axis=1)", t_rows, bytes, read_gbs);
  double t_cols = median_seconds(repeats, [&] { eval(sum(m, 0)); });
  report("uma sum((8192,8192), axis=0)", t_cols, bytes, read_gbs);
  array h = astype(a, bfloat16);
  h.eval();
  double t_half = median_seconds(repeats, [&] { sink = sum(h).item<float>(); });
  report("uma sum(128 MiB bfloat16)", t_half, bytes / 2, read_gbs);

  array sm = reshape(slice(a, {0}, {int32_t(n / 4)}), {4096, 4096});
  double t_soft = median_seconds(std::max(3, repeats / 3), [&] { eval(softmax(sm, -1)); });
  report("uma softmax((4096,4096), -1)", t_soft, double(n / 4) * 8);
  double t_lse = median_seconds(std::max(3, repeats / 3), [&] { eval(logsumexp(sm, -1)); });
  report("uma logsumexp((4096,4096), -1)", t_lse, double(n / 4) * 4);
  array srt = slice(a, {0}, {1 << 20});
  double t_sort = median_seconds(3, [&] { eval(sort(srt)); });
  report("uma sort(1M float32)", t_sort, double(1 << 20) * 4);
  (void)sink;
  return 0;
}
