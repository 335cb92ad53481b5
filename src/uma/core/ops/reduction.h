// Reductions, scans, softmax and sorting. `axes` may be negative; an empty
// axes list given explicitly reduces nothing; the overloads without axes
// reduce everything.
#pragma once

#include <optional>
#include <string>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

#define UMA_REDUCTION(NAME)                                                                            \
  array NAME(const array& a, bool keepdims = false, StreamOrDevice s = {});                             \
  array NAME(const array& a, const std::vector<int>& axes, bool keepdims = false, StreamOrDevice s = {}); \
  array NAME(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
// sum/prod: bool and ints of up to 32 bits give int32 (uint32 for unsigned),
// 64-bit ints stay, wrapping on overflow like MLX; float types accumulate in
// float64 and round once. The empty sum is 0, the empty product 1.
UMA_REDUCTION(sum)
UMA_REDUCTION(prod)
// max/min keep the dtype; NaN wins. Reducing zero elements into a non-empty
// result throws (no identity); an empty result is fine.
UMA_REDUCTION(max)
UMA_REDUCTION(min)
UMA_REDUCTION(all)  // -> bool; NaN counts as true
UMA_REDUCTION(any)
// ints -> float32; float16/bfloat16 are summed into float32 and rounded at
// the end (no float16 overflow of the total). The empty mean is NaN.
UMA_REDUCTION(mean)
// Fused and stable; ints -> float32. Rows of -inf give -inf, rows holding
// +inf give +inf, NaN propagates; reducing zero elements gives -inf.
UMA_REDUCTION(logsumexp)
// The number of nonzero elements (NaN counts; false does not) as int32.
UMA_REDUCTION(count_nonzero)
// The middle of the sorted values over the axes, the mean of the two middle
// ones for an even count; ints -> float32; NaN anywhere gives NaN. Throws for
// an empty reduction. Composed of transpose, sort, slice and arithmetic.
UMA_REDUCTION(median)
#undef UMA_REDUCTION

// Two-pass (mean, then squared deviations) divided by max(n - ddof, 0).
array var(const array& a, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});

// Index of the first extreme value (uint32, as MLX); NaN counts as the
// extreme (NumPy). The reduced axis must not be empty. Without axis: over the
// flattened array.
array argmax(const array& a, bool keepdims = false, StreamOrDevice s = {});
array argmax(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});

// Scans along one axis (axis absent: over the flattened array). Exclusive
// scans start from the identity (0, 1, the dtype's lowest/highest, -inf).
// cumsum/cumprod of bool give int32; other ints keep their dtype (MLX).
// logcumsumexp of ints computes in float32.
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
// The n-th discrete difference along `axis`: a[1:] - a[:-1], n times (the
// axis shrinks by n, to 0 at most; n = 0 returns a). MLX's diff has no
// prepend/append.
array diff(const array& a, int n = 1, int axis = -1, StreamOrDevice s = {});

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
// The k largest values along axis (as MLX: partition at n - k, keep the last
// k). Layout: `axis` has size k; its first element is the k-th largest, the
// larger ones follow in no particular order.
array topk(const array& a, int k, int axis, StreamOrDevice s = {});
array topk(const array& a, int k, StreamOrDevice s = {});
// For each of `values`, its insertion index in the 1-D ascending
// `sorted_sequence` (uint32, values' shape): side "left" gives the first i
// with seq[i] >= v, "right" the first with seq[i] > v. Both are promoted to a
// common dtype; NaN orders after every number (as sort). A binary search of
// log2(n) + 1 steps, each a take and a where.
array searchsorted(const array& sorted_sequence, const array& values, const std::string& side = "left",
                   StreamOrDevice s = {});

}  // namespace uma
