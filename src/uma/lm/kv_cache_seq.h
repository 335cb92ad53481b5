// Slicing along the sequence axis (axis 2 of (B, H, T, D)) for the KV caches;
// internal to lm/kv_cache*.cpp.
#pragma once

#include "uma/core/ops.h"

namespace uma::lm::detail {

inline array seq_slice(const array& x, int begin, int end) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[2] = begin;
  stop[2] = end;
  return slice(x, start, stop);
}

inline array seq_update(const array& x, const array& update, int begin) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[2] = begin;
  stop[2] = begin + update.shape(2);
  return slice_update(x, update, start, stop);
}

// x's shape with n positions, zero-filled, of `dtype` (x's by default).
inline array zeros_like_seq(const array& x, int n) {
  Shape s = x.shape();
  s[2] = n;
  return zeros(s, x.dtype());
}

}  // namespace uma::lm::detail
