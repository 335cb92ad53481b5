// Host work on the CPU backend's threads, outside the graph (core declares,
// the CPU backend implements it on the pool its kernels use).
#pragma once

#include <cstddef>
#include <functional>

namespace uma {

// fn(begin, end) over contiguous chunks of [0, n), at least `grain` long;
// returns when all are done and rethrows the first exception. For host work
// such as converting weights at load time or tokenizing a corpus.
void cpu_parallel_for(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)>& fn);

}  // namespace uma
