// Shared helpers for ops: axis normalization, broadcasting, layout flags,
// shape printing for error messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"

namespace uma {

// "(2,3,4)" for error messages.
std::string shape_str(const Shape& s);

// Maps a possibly negative axis into [0, ndim); throws "[op] axis A is out of
// bounds for an array of N dimensions".
int normalize_axis(int axis, int ndim, const char* op);
// Normalizes, sorts and checks for duplicates.
std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op);

// Python slice semantics per axis: negative start/stop count from the end,
// out-of-range bounds are clipped; start and stop are rewritten in place and
// the sliced shape is returned. Throws "[op] ..." on a zero step or when the
// vectors do not have one entry per dimension.
Shape normalize_slice(const Shape& shape, Shape& start, Shape& stop, const Shape& strides, const char* op);

// NumPy broadcasting; throws naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");

// Layout facts of a view: flags and the number of buffer elements it spans.
struct Layout {
  Flags flags;
  size_t data_size;
};
Layout compute_layout(const Shape& shape, const Strides& strides);

// Tries to express `new_shape` over the same data as (shape, strides) without
// a copy; returns empty strides when a copy is needed.
Strides reshape_strides(const Shape& shape, const Strides& strides, const Shape& new_shape);

// The views every backend makes alike (the primitives' eval_cpu and
// eval_gpu): `out` shares `in`'s data with new strides and an element offset
// (an empty `out` gets an empty buffer of its own).
void share_view(const array& in, array& out, const Strides& strides, int64_t offset = 0);
void transpose_view(const array& in, array& out, const std::vector<int>& axes);
void broadcast_view(const array& in, array& out);
void slice_view(const array& in, array& out, const Shape& start, const Shape& step);
// False when `in`'s layout cannot be reshaped without a copy: the backend
// copies `in` to row-major and reshapes that.
bool reshape_view(const array& in, array& out);

// Result dtype of a binary op: with a 0-d "weak" scalar made from a C++
// number, the array's dtype wins (MLX/Python scalar rule).
Dtype result_type(const array& a, const array& b);

}  // namespace uma
