// The CPU backend's shared thread pool. UMA_NUM_THREADS (1..1024; else a warning) sets its size
// (default: the machine's cores). parallel_for splits [0, n) into contiguous
// chunks of at least `grain` items; the calling thread takes a chunk too.
#pragma once

#include <cstddef>
#include <functional>

namespace uma::cpu {

int num_threads();
void set_num_threads(int n);

void parallel_for(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)>& fn);

// Chunks for `bytes` of streaming work: no split below ~64 KiB per thread.
inline size_t grain_for_bytes(size_t item_bytes) {
  size_t g = (64u << 10) / (item_bytes ? item_bytes : 1);
  return g ? g : 1;
}

}  // namespace uma::cpu
