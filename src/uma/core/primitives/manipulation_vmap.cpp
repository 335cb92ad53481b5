// vmap rules of the manipulation family. Joins and updates put the batch
// axis in front of every operand (broadcasting the unbatched ones); a
// batched pad value or batched start indices, which one node cannot take
// per batch element, become a slice update of a filled array or a clamping
// gather / scatter (the same window placement as the dynamic slices).
#include "uma/core/ops/creation.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/indexing.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Concatenate::vmap(const std::vector<array>& inputs,
                                                                  const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  std::vector<array> xs;
  for (size_t i = 0; i < inputs.size(); ++i) xs.push_back(detail::batch_to_front(inputs[i], axes[i], n, stream()));
  return {{concatenate(std::move(xs), axis_ + 1, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Pad::vmap(const std::vector<array>& inputs,
                                                          const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  array a = detail::batch_to_front(inputs[0], axes[0], n, stream());
  std::vector<int> pad_axes = detail::shift_axes(axes_, 0);
  if (axes[1] < 0) {
    auto p = std::make_shared<Pad>(stream(), pad_axes, low_, high_);
    return {{detail::make_node(p, {a, inputs[1]}, a.dtype())}, {0}};
  }
  // One pad value per batch element: fill, then write the interior.
  Shape out = a.shape(), start(a.ndim(), 0), stop = a.shape();
  for (size_t i = 0; i < pad_axes.size(); ++i) {
    out[pad_axes[i]] += low_[i] + high_[i];
    start[pad_axes[i]] = low_[i];
    stop[pad_axes[i]] += low_[i];
  }
  Shape vshape(a.ndim(), 1);
  vshape[0] = n;
  array v = reshape(astype(inputs[1], a.dtype(), stream()), vshape, stream());
  array filled = broadcast_to(v, out, stream());
  return {{slice_update(filled, a, start, stop, stream())}, {0}};
}

// start_/stop_ are normalized (a negative step's stop may be -1): the rule
// builds the node itself rather than re-parsing through the op.
std::pair<std::vector<array>, std::vector<int>> SliceUpdate::vmap(const std::vector<array>& inputs,
                                                                  const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  array src = detail::batch_to_front(inputs[0], axes[0], n, stream());
  array upd = detail::batch_to_front(inputs[1], axes[1], n, stream());
  Shape start = start_, stop = stop_, strides = strides_;
  start.insert(start.begin(), 0);
  stop.insert(stop.begin(), n);
  strides.insert(strides.begin(), 1);
  auto p = std::make_shared<SliceUpdate>(stream(), std::move(start), std::move(stop), std::move(strides));
  return {{detail::make_node(p, {src, upd}, src.dtype())}, {0}};
}

namespace {

// Column k of the batched start indices (n, k): one start per batch element.
array start_column(const array& start, int k, Stream s) {
  int n = start.shape(0);
  return reshape(slice(start, {0, k}, {n, k + 1}, s), {n}, s);
}

// The batch index 0..n-1 in the dtype of the other indices.
array batch_index(int n, Dtype dtype, Stream s) { return astype(arange(0.0, double(n), 1.0, int32, s), dtype, s); }

}  // namespace

// Batched starts: a clamping gather, whose window placement (negative starts
// from the end, then clamped inside) is the dynamic slice's.
std::pair<std::vector<array>, std::vector<int>> DynamicSlice::vmap(const std::vector<array>& inputs,
                                                                   const std::vector<int>& axes) {
  const array& a = inputs[0];
  int b = axes[0];
  if (axes[1] < 0) {
    Shape size = slice_size_;
    size.insert(size.begin() + b, a.shape(b));
    auto p = std::make_shared<DynamicSlice>(stream(), detail::shift_axes(axes_, b), size);
    return {{detail::make_node(p, {a, inputs[1]}, a.dtype())}, {b}};
  }
  int n = detail::vmap_size(inputs, axes);
  array start = reshape(detail::batch_to_front(inputs[1], axes[1], -1, stream()), {n, -1}, stream());
  std::vector<array> idx;
  for (size_t k = 0; k < axes_.size(); ++k) idx.push_back(start_column(start, int(k), stream()));
  std::vector<int> gather_axes = axes_;
  Shape size = slice_size_;
  if (b >= 0) {
    gather_axes = detail::shift_axes(axes_, b);
    gather_axes.push_back(b);
    size.insert(size.begin() + b, 1);
    idx.push_back(batch_index(n, start.dtype(), stream()));
  }
  idx.insert(idx.begin(), a);
  auto p = std::make_shared<Gather>(stream(), gather_axes, size, true);
  array out = detail::make_node(p, std::move(idx), a.dtype());
  if (b >= 0) out = squeeze(out, 1 + b, stream());
  return {{out}, {0}};
}

// Batched starts: a clamping scatter of one window per batch element.
std::pair<std::vector<array>, std::vector<int>> DynamicSliceUpdate::vmap(const std::vector<array>& inputs,
                                                                         const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  array src = detail::batch_to_front(inputs[0], axes[0], n, stream());
  array upd = detail::batch_to_front(inputs[1], axes[1], n, stream());
  std::vector<int> shifted = detail::shift_axes(axes_, 0);
  if (axes[2] < 0) {
    auto p = std::make_shared<DynamicSliceUpdate>(stream(), shifted);
    return {{detail::make_node(p, {src, upd, inputs[2]}, src.dtype())}, {0}};
  }
  array start = reshape(detail::batch_to_front(inputs[2], axes[2], -1, stream()), {n, -1}, stream());
  std::vector<array> in{src, batch_index(n, start.dtype(), stream())};
  for (size_t k = 0; k < axes_.size(); ++k) in.push_back(start_column(start, int(k), stream()));
  in.push_back(expand_dims(upd, 1, stream()));  // updates: (n) + window (1, update...)
  std::vector<int> scatter_axes{0};
  scatter_axes.insert(scatter_axes.end(), shifted.begin(), shifted.end());
  auto p = std::make_shared<Scatter>(stream(), ScatterReduce::none, scatter_axes, true);
  return {{detail::make_node(p, std::move(in), src.dtype())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Diagonal::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  int b = axes[0];
  int a1 = detail::shift_axis(axis1_, b), a2 = detail::shift_axis(axis2_, b);
  int out_b = b - (a1 < b ? 1 : 0) - (a2 < b ? 1 : 0);
  return {{diagonal(inputs[0], offset_, a1, a2, stream())}, {out_b}};
}

}  // namespace uma
