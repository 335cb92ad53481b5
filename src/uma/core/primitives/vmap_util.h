// Helpers of the vmap rules (primitives/*_vmap.cpp). A rule gets its inputs
// with the batch axis of each (-1: not batched) and returns its outputs with
// theirs; these move batch axes around with ops, so that the rules stay
// graphs of ops (and vmap of vmap, or of grad, works).
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "uma/core/primitive.h"

namespace uma::detail {

using VmapResult = std::pair<std::vector<array>, std::vector<int>>;

// The size of the batch: that of the first batched input's batch axis.
int vmap_size(const std::vector<array>& inputs, const std::vector<int>& axes);

// x with its batch axis `ax` moved to the front; an unbatched x (ax < 0)
// gets a leading axis of size n (a broadcast view), or of size 1 when n < 0.
array batch_to_front(const array& x, int ax, int n, Stream s);

// axis, shifted past a batch axis inserted at `batch_axis`.
inline int shift_axis(int axis, int batch_axis) { return axis >= batch_axis ? axis + 1 : axis; }
std::vector<int> shift_axes(std::vector<int> axes, int batch_axis);

// Inputs of one shape (elementwise primitives) brought to one batch axis:
// the first batched input's; the others are moved there, and the unbatched
// get a size-1 axis there (broadcast by the op). Returns that axis.
int align_batch_axes(std::vector<array>& xs, const std::vector<int>& axes, Stream s);

// Gathered products (gather_mm, gather_qmm) index the flattened batch dims
// of an operand. With the vmap batch moved in front of that operand, the
// index i of batch element j (idx: (n, I...)) becomes j * m + i, m the
// operand's matrices per element (the product of its dims between the
// first and the last two). Returned as int64.
int64_t matrices_per_element(const array& x);
array offset_batch_indices(const array& idx, int64_t m, Stream s);

// A node of primitive p on inputs, shaped by p's output_shapes.
array make_node(std::shared_ptr<Primitive> p, std::vector<array> inputs, Dtype dtype);

// The slow, always-right rule: apply f to each batch element's slices (the
// unbatched inputs whole) and stack the results along axis 0.
VmapResult vmap_by_loop(const std::vector<array>& inputs, const std::vector<int>& axes,
                        const std::function<std::vector<array>(const std::vector<array>&)>& f, Stream s);

}  // namespace uma::detail
