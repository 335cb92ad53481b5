// Timing and input helpers shared by the benchmark programs in bench/.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "uma/uma.h"

namespace uma::bench {

inline double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of `runs` timed calls after one warm-up call.
inline double median_seconds(int runs, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    double t0 = seconds();
    fn();
    t.push_back(seconds() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// An evaluated array of `shape` and dtype `t` with values in [-1, 1) from a
// xorshift stream seeded by `seed` (timings do not depend on the values).
inline array random_array(Shape shape, Dtype t, uint64_t seed) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<float> v(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& f : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    f = float(int64_t(x >> 40) - (1 << 23)) / float(1 << 23);
  }
  array a = astype(array(v, shape), t);
  a.eval();
  return a;
}

}  // namespace uma::bench
