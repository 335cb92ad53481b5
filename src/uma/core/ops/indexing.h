// Integer-array indexing: take, gather, scatter and their along-axis forms.
// MLX names and semantics.
//
// Indices must have an integer dtype (bool and floating indices are an
// error). Negative indices count from the end of their axis, as in NumPy.
// Indices still out of range after that cannot raise an error in a lazy
// graph, so they have defined behaviour and never touch memory outside the
// array (JAX's choice; MLX leaves them undefined):
//   - reads (take, take_along_axis, gather, dynamic slice) clamp the index
//     into the valid range;
//   - writes (scatter*, put_along_axis) drop the updates whose index is out
//     of range.
// (uint64 indices past 2^63 count as out of range.)
#pragma once

#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// Elements of `a` at `indices` along `axis`: the result's shape is
// a.shape[:axis] + indices.shape + a.shape[axis+1:]. Without an axis, `a` is
// flattened first (the result has indices' shape).
array take(const array& a, const array& indices, int axis, StreamOrDevice s = {});
array take(const array& a, int index, int axis, StreamOrDevice s = {});
array take(const array& a, const array& indices, StreamOrDevice s = {});
array take(const array& a, int index, StreamOrDevice s = {});

// out[..., j, ...] = a[..., indices[..., j, ...], ...] along axis.
// indices.ndim() must equal a.ndim(); the other dimensions broadcast.
array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s = {});
// A copy of `a` with a[..., indices[..., j, ...], ...] = values[..., j, ...]
// (values broadcast to indices; duplicate indices: the last write wins, and
// only it gets a gradient: unlike MLX, whose vjp gives every duplicate one).
array put_along_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s = {});
// As put_along_axis, accumulating with + (duplicates add up).
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis,
                       StreamOrDevice s = {});

// General gather. The index arrays (one per axis in `axes`) broadcast to a
// common shape I; for each position of I the slice of `a` of shape
// slice_sizes (one entry per dimension of a) starting at the indexed
// positions (0 on the other axes) is copied out. Output shape: I + slice_sizes.
array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s = {});
array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes, StreamOrDevice s = {});

// General scatter, gather's inverse. `updates` has shape I + window with
// window.size() == a.ndim() and window[i] <= a.shape(i); each window is
// written at the indexed positions of a copy of `a` (0 on the other axes),
// updates being cast to a's dtype. scatter assigns (with duplicate indices
// the last write in index order wins on the CPU, and only it gets a
// gradient, unlike MLX's vjp); the others combine duplicates exactly:
// scatter_add sums, scatter_prod multiplies, scatter_max / scatter_min keep
// the extreme (NaN propagates; complex compares lexicographically).
#define UMA_SCATTER_OP(NAME)                                                                                   \
  array NAME(const array& a, const std::vector<array>& indices, const array& updates, const std::vector<int>& axes, \
             StreamOrDevice s = {});                                                                          \
  array NAME(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});
UMA_SCATTER_OP(scatter)
UMA_SCATTER_OP(scatter_add)
UMA_SCATTER_OP(scatter_prod)
UMA_SCATTER_OP(scatter_max)
UMA_SCATTER_OP(scatter_min)
#undef UMA_SCATTER_OP

// a with the positions where `mask` is true filled, in row-major order, with
// consecutive elements of `value` (MLX's a[mask] = value). mask (bool) has
// the shape of a's leading dims and is broadcast over the rest; value is
// (K, *a's remaining dims) or broadcastable to it (a scalar fills every
// position). Composed of cumsum, take and where. Where value has fewer
// elements than the mask selects, MLX throws at evaluation; here the last
// one is repeated.
array masked_scatter(const array& a, const array& mask, const array& value, StreamOrDevice s = {});

}  // namespace uma
