// Joining, splitting, padding, repeating and rearranging arrays; functional
// slice updates; diagonals. MLX names and semantics; axes may be negative.
#pragma once

#include <concepts>
#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// --- joining and splitting
// Shapes must match except along `axis`; the result dtype promotes over all
// inputs. The overload without an axis flattens every input first.
array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, StreamOrDevice s = {});
// Joins equal-shaped arrays along a new axis.
array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s = {});
array stack(const std::vector<array>& arrays, StreamOrDevice s = {});
// Views. `num_splits` must divide the axis; `indices` are the split points,
// each piece being a[indices[i-1]:indices[i]] with Python slice clipping.
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s = {});
// The slices of `a` along `axis` (default 0), each with that axis removed;
// an axis of size 0 gives an empty list.
std::vector<array> unstack(const array& a, int axis, StreamOrDevice s = {});
std::vector<array> unstack(const array& a, StreamOrDevice s = {});

// --- padding. `mode` is "constant" (fill with pad_value, cast to a's dtype)
// or "edge" (repeat the border values). Widths are (low, high) and >= 0.
array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size, const Shape& high_pad_size,
          const array& pad_value = array(0), const std::string& mode = "constant", StreamOrDevice s = {});
// One (low, high) pair per dimension.
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
// The same pair (or width) for every dimension.
array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, int pad_width, const array& pad_value = array(0), const std::string& mode = "constant",
          StreamOrDevice s = {});

// --- repeating and rearranging
// Repeats each element `repeats` times along axis (no axis: over the flattened array).
array repeat(const array& a, int repeats, int axis, StreamOrDevice s = {});
array repeat(const array& a, int repeats, StreamOrDevice s = {});
// NumPy's tile: reps shorter than ndim are padded with leading 1s, longer ones
// prepend dimensions to a.
array tile(const array& a, std::vector<int> reps, StreamOrDevice s = {});
// Elements shifted by `shift` along each axis, wrapping around; without axes,
// over the flattened array (shape kept).
array roll(const array& a, int shift, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, StreamOrDevice s = {});
array roll(const array& a, int shift, int axis, StreamOrDevice s = {});
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s = {});
// Reverses the order of elements along the given axes (all axes when empty): a view.
array flip(const array& a, const std::vector<int>& axes = {}, StreamOrDevice s = {});

// --- functional updates and dynamic slices
// A copy of src with src[start:stop:strides] replaced by update (broadcast to
// the slice's shape and cast to src's dtype). When nobody else holds src, its
// buffer is reused, so updating a row of a large cache costs O(update).
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s = {});
array slice_update(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
// The same with src[start:stop:strides] combined with update instead of
// replaced: sum, product, maximum or minimum (MLX's slice_update_add, _prod,
// _max, _min; update is broadcast and cast to src's dtype first). Composed of
// slice, the elementwise op and slice_update, so grads and vmap follow.
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                        StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
// Start positions read from `start` (an integer array with one entry per axis
// in `axes`) at evaluation time; the window is update's shape (update.ndim()
// must equal src.ndim()). Negative starts count from the end; starts are then
// clamped so the window lies inside src (as JAX's dynamic_update_slice).
array dynamic_slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                           StreamOrDevice s = {});
// A window of shape slice_size (one entry per dimension of a) starting at
// `start` along `axes` (other axes start at 0); starts wrap and clamp as above.
// The result is a view.
array dynamic_slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size,
                    StreamOrDevice s = {});
// MLX's spellings. Templates so that braced lists ({0, 1}) keep meaning the
// static Shape overloads.
template <typename Start>
  requires std::same_as<Start, array>
array slice_update(const array& src, const array& update, const Start& start, std::vector<int> axes,
                   StreamOrDevice s = {}) {
  return dynamic_slice_update(src, update, start, std::move(axes), s);
}
template <typename Start>
  requires std::same_as<Start, array>
array slice(const array& a, const Start& start, std::vector<int> axes, Shape slice_size, StreamOrDevice s = {}) {
  return dynamic_slice(a, start, std::move(axes), std::move(slice_size), s);
}

// --- grids and diagonals
// indexing "xy" (Cartesian, the default) or "ij" (matrix); sparse keeps the
// broadcastable shapes.
std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse = false,
                            const std::string& indexing = "xy", StreamOrDevice s = {});
// A view: axis1 and axis2 are removed and the diagonal is appended as the last
// axis. offset > 0 is above the main diagonal.
array diagonal(const array& a, int offset = 0, int axis1 = 0, int axis2 = 1, StreamOrDevice s = {});
// 1-D input: the square matrix with a on the k-th diagonal; 2-D: its k-th diagonal.
array diag(const array& a, int k = 0, StreamOrDevice s = {});

// Sum of diagonal(a, offset, axis1, axis2) along the diagonal, returned in
// `dtype` (default: a's dtype, as MLX).
array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s = {});
array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s = {});
array trace(const array& a, StreamOrDevice s = {});

// --- dimensions
array atleast_1d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_1d(const std::vector<array>& arrays, StreamOrDevice s = {});
array atleast_2d(const array& a, StreamOrDevice s = {});  // 1-D (n) -> (1, n)
std::vector<array> atleast_2d(const std::vector<array>& arrays, StreamOrDevice s = {});
array atleast_3d(const array& a, StreamOrDevice s = {});  // (n) -> (1, n, 1); (m, n) -> (m, n, 1)
std::vector<array> atleast_3d(const std::vector<array>& arrays, StreamOrDevice s = {});

}  // namespace uma
