// Helpers shared by the reduction family's op files (not public API).
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::detail {

// sum over normalized, sorted `axes` with the result (and its float64
// accumulation rounded) in `dtype`: mean sums ints and half types straight
// into float32.
array sum_as(const array& a, const std::vector<int>& axes, bool keepdims, Dtype dtype, StreamOrDevice s);

}  // namespace uma::detail
