// vmap rules of the indexing family. The rules build the primitives
// themselves to keep each node's out-of-range mode (clamp or drop). A batched
// array indexed by batched indices gets one more index array, the batch
// position 0..n-1, so that batch element b only reads (or writes) slice b.
#include "uma/core/ops/creation.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/indexing.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

namespace {

// 0..n-1 along the first axis of `shape`, broadcast to it, of `dtype`.
array batch_positions(int n, const Shape& shape, Dtype dtype, Stream s) {
  Shape col(shape.size(), 1);
  col[0] = n;
  array r = reshape(astype(arange(0.0, double(n), 1.0, int32, s), dtype, s), col, s);
  return broadcast_to(r, shape, s);
}

}  // namespace

std::pair<std::vector<array>, std::vector<int>> Gather::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  const array& src = inputs[0];
  int b = axes[0];
  bool batched_indices = false;
  for (size_t i = 1; i < axes.size(); ++i) batched_indices = batched_indices || axes[i] >= 0;
  std::vector<array> in = inputs;
  std::vector<int> gather_axes = axes_;
  Shape sizes = slice_sizes_;
  if (!batched_indices) {
    // The whole batch axis is part of every slice.
    gather_axes = detail::shift_axes(axes_, b);
    sizes.insert(sizes.begin() + b, src.shape(b));
    int idx_ndim = in.size() > 1 ? int(in[1].ndim()) : 0;
    auto p = std::make_shared<Gather>(stream(), gather_axes, sizes, clamp_);
    return {{detail::make_node(p, std::move(in), src.dtype())}, {idx_ndim + b}};
  }
  int n = detail::vmap_size(inputs, axes);
  for (size_t i = 1; i < in.size(); ++i) in[i] = detail::batch_to_front(in[i], axes[i], n, stream());
  int idx_ndim = int(in[1].ndim());  // batch axis included
  if (b >= 0) {
    gather_axes = detail::shift_axes(axes_, b);
    gather_axes.push_back(b);
    sizes.insert(sizes.begin() + b, 1);
    in.push_back(batch_positions(n, in[1].shape(), in[1].dtype(), stream()));
  }
  auto p = std::make_shared<Gather>(stream(), gather_axes, sizes, clamp_);
  array out = detail::make_node(p, std::move(in), src.dtype());
  if (b >= 0) out = squeeze(out, idx_ndim + b, stream());
  return {{out}, {0}};
}

// Everything batched in front; the batch position indexes the new axis 0 of
// the array, and each update gets a window of size 1 there.
std::pair<std::vector<array>, std::vector<int>> Scatter::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  size_t last = inputs.size() - 1;
  array a = detail::batch_to_front(inputs[0], axes[0], n, stream());
  std::vector<array> idx;
  for (size_t i = 1; i < last; ++i) idx.push_back(detail::batch_to_front(inputs[i], axes[i], n, stream()));
  Shape idx_shape = idx.empty() ? Shape{n} : idx[0].shape();
  Dtype dt = idx.empty() ? int32 : idx[0].dtype();
  array upd = detail::batch_to_front(inputs[last], axes[last], n, stream());
  std::vector<array> in{a, batch_positions(n, idx_shape, dt, stream())};
  in.insert(in.end(), idx.begin(), idx.end());
  in.push_back(expand_dims(upd, int(idx_shape.size()), stream()));
  std::vector<int> scatter_axes{0};
  for (int ax : axes_) scatter_axes.push_back(ax + 1);
  auto p = std::make_shared<Scatter>(stream(), reduce_, scatter_axes, clamp_);
  return {{detail::make_node(p, std::move(in), a.dtype())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> GatherAxis::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  array a = detail::batch_to_front(inputs[0], axes[0], n, stream());
  array idx = detail::batch_to_front(inputs[1], axes[1], n, stream());
  auto p = std::make_shared<GatherAxis>(stream(), axis_ + 1, clamp_);
  return {{detail::make_node(p, {a, idx}, a.dtype())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> ScatterAxis::vmap(const std::vector<array>& inputs,
                                                                  const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  std::vector<array> in;
  for (size_t i = 0; i < inputs.size(); ++i) in.push_back(detail::batch_to_front(inputs[i], axes[i], n, stream()));
  Dtype dt = in[0].dtype();
  auto p = std::make_shared<ScatterAxis>(stream(), reduce_, axis_ + 1, clamp_);
  return {{detail::make_node(p, std::move(in), dt)}, {0}};
}

}  // namespace uma
