// Helpers shared by the reduction family's op files (not public API).
#pragma once

#include <numeric>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::detail {

inline std::vector<int> all_axes(const array& a) {
  std::vector<int> ax(a.ndim());
  std::iota(ax.begin(), ax.end(), 0);
  return ax;
}

inline int64_t reduced_count(const Shape& shape, const std::vector<int>& axes) {
  int64_t n = 1;
  for (int a : axes) n *= shape[a];
  return n;
}

// Ints and bool compute in float32 (mean, softmax, logsumexp, ...).
inline Dtype at_least_float(Dtype t) { return is_inexact(t) ? t : float32; }

// sum over normalized, sorted `axes` with the result (and its float64
// accumulation rounded) in `dtype`: mean sums ints and half types straight
// into float32.
array sum_as(const array& a, const std::vector<int>& axes, bool keepdims, Dtype dtype, StreamOrDevice s);

}  // namespace uma::detail
