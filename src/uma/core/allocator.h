// The caching allocator and MLX's memory API. Freed blocks go to a size-keyed
// cache and are handed out again for requests of a similar size; the cache is
// trimmed when it passes its limit. Going past the memory limit throws
// uma::out_of_memory instead of crashing.
#pragma once

#include <cstddef>
#include <stdexcept>

namespace uma {

class out_of_memory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace allocator {

// A block of memory owned by the allocator (or by a foreign owner, for arrays
// built on external memory; see array's constructor with a deleter).
struct Buffer {
  void* ptr = nullptr;
  size_t size = 0;  // bytes requested
  void* raw() const { return ptr; }
};

// 64-byte aligned; size 0 gives a valid, empty buffer.
Buffer malloc(size_t size);
void free(Buffer b);

}  // namespace allocator

size_t get_active_memory();
size_t get_peak_memory();
void reset_peak_memory();
size_t get_cache_memory();
// Both return the previous limit. The default memory limit is 1.5x the
// machine's RAM (allocations fail loudly before the OOM killer strikes), the
// default cache limit is the memory limit.
size_t set_memory_limit(size_t limit);
size_t set_cache_limit(size_t limit);
size_t get_memory_limit();
void clear_cache();

}  // namespace uma
