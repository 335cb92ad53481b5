// Views, copies and type conversion. Views never copy: their eval shares the
// input's buffer (reshape copies only when the strides cannot express it).
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// One dim may be -1 (inferred).
array reshape(const array& a, Shape shape, StreamOrDevice s = {});
array flatten(const array& a, int start_axis = 0, int end_axis = -1, StreamOrDevice s = {});
array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s = {});
array transpose(const array& a, std::vector<int> axes, StreamOrDevice s = {});
array transpose(const array& a, StreamOrDevice s = {});  // reverses the axes
array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s = {});
array moveaxis(const array& a, int source, int destination, StreamOrDevice s = {});
array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array squeeze(const array& a, int axis, StreamOrDevice s = {});
array squeeze(const array& a, StreamOrDevice s = {});
array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array expand_dims(const array& a, int axis, StreamOrDevice s = {});
array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s = {});
std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s = {});
array as_strided(const array& a, Shape shape, Strides strides, int64_t offset = 0, StreamOrDevice s = {});
// Python's a[start:stop:step] per axis; out-of-range bounds are clipped.
array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s = {});
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s = {});
array astype(const array& a, Dtype dtype, StreamOrDevice s = {});
// Reinterprets bytes: the last dim scales by the ratio of item sizes.
array view(const array& a, Dtype dtype, StreamOrDevice s = {});
// A row-major copy (MLX's `copy`); `contiguous` copies only when needed.
array copy(const array& a, StreamOrDevice s = {});
array contiguous(const array& a, bool allow_col_major = false, StreamOrDevice s = {});

}  // namespace uma
