// Uninitialized scratch memory for a kernel call, from uma's caching
// allocator: a block freed by the last call of the same size is handed out
// again, so a large buffer needed on every call (decode makes hundreds of
// calls a token) costs neither page faults nor zeroing, as a fresh
// std::vector of that size does.
#pragma once

#include <cstddef>

#include "uma/core/allocator.h"

namespace uma::cpu {

template <typename T>
class Scratch {
 public:
  explicit Scratch(size_t n) : buf_(allocator::malloc(n * sizeof(T))) {}
  ~Scratch() { allocator::free(buf_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return static_cast<T*>(buf_.ptr); }

 private:
  allocator::Buffer buf_;
};

}  // namespace uma::cpu
