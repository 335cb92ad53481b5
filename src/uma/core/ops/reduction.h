// Reductions, scans, softmax and sorting. `axes` may be negative; an empty
// axes list given explicitly reduces nothing; the overloads without axes
// reduce everything.
#pragma once

#include <optional>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

#define UMA_REDUCTION(NAME)                                                                            \
  array NAME(const array& a, bool keepdims = false, StreamOrDevice s = {});                             \
  array NAME(const array& a, const std::vector<int>& axes, bool keepdims = false, StreamOrDevice s = {}); \
  array NAME(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
UMA_REDUCTION(sum)   // bool/small ints accumulate as int32 (uint32 for unsigned), like MLX
UMA_REDUCTION(prod)
UMA_REDUCTION(max)
UMA_REDUCTION(min)
UMA_REDUCTION(all)
UMA_REDUCTION(any)
UMA_REDUCTION(mean)  // ints -> float32
UMA_REDUCTION(logsumexp)
#undef UMA_REDUCTION

array var(const array& a, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});

// Index of the first extreme value (uint32, as MLX).
array argmax(const array& a, bool keepdims = false, StreamOrDevice s = {});
array argmax(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});

// Scans along one axis (axis absent: over the flattened array).
array cumsum(const array& a, std::optional<int> axis = std::nullopt, bool reverse = false, bool inclusive = true,
             StreamOrDevice s = {});
array cumprod(const array& a, std::optional<int> axis = std::nullopt, bool reverse = false, bool inclusive = true,
              StreamOrDevice s = {});
array cummax(const array& a, std::optional<int> axis = std::nullopt, bool reverse = false, bool inclusive = true,
             StreamOrDevice s = {});
array cummin(const array& a, std::optional<int> axis = std::nullopt, bool reverse = false, bool inclusive = true,
             StreamOrDevice s = {});
array logcumsumexp(const array& a, std::optional<int> axis = std::nullopt, bool reverse = false,
                   bool inclusive = true, StreamOrDevice s = {});

// Numerically stable; `precise` accumulates half types in float32 (always
// done on CPU).
array softmax(const array& a, const std::vector<int>& axes, bool precise = false, StreamOrDevice s = {});
array softmax(const array& a, int axis, bool precise = false, StreamOrDevice s = {});
array softmax(const array& a, bool precise = false, StreamOrDevice s = {});

// Sorting along an axis (default last; absent via the flattened overloads).
// NaNs sort to the end. argsort is stable. Indices are uint32.
array sort(const array& a, int axis, StreamOrDevice s = {});
array sort(const array& a, StreamOrDevice s = {});  // flattened
array argsort(const array& a, int axis, StreamOrDevice s = {});
array argsort(const array& a, StreamOrDevice s = {});
// The kth element in sorted position; smaller before, larger after.
array partition(const array& a, int kth, int axis, StreamOrDevice s = {});
array partition(const array& a, int kth, StreamOrDevice s = {});
array argpartition(const array& a, int kth, int axis, StreamOrDevice s = {});
array argpartition(const array& a, int kth, StreamOrDevice s = {});
// The k largest values along axis (unordered, as MLX).
array topk(const array& a, int k, int axis, StreamOrDevice s = {});
array topk(const array& a, int k, StreamOrDevice s = {});

}  // namespace uma
