// vmap rules of the views, copies and creation primitives. Views keep the
// batch axis where they can (slice, astype, copy); those that rearrange
// every axis move it to the front first.
#include <numeric>
#include <stdexcept>

#include "uma/core/ops/shape.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Reshape::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  array x = detail::batch_to_front(inputs[0], axes[0], -1, stream());
  Shape shape = shape_;
  shape.insert(shape.begin(), x.shape(0));
  return {{reshape(x, shape, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Transpose::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  int b = axes[0];
  std::vector<int> perm{b};
  for (int a : axes_) perm.push_back(detail::shift_axis(a, b));
  return {{transpose(inputs[0], perm, stream())}, {0}};
}

// x's shape broadcasts into shape_ from the right: the batch axis goes in
// front of the size-1 axes the broadcast adds.
std::pair<std::vector<array>, std::vector<int>> Broadcast::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  array x = detail::batch_to_front(inputs[0], axes[0], -1, stream());
  Shape shape = x.shape();
  shape.insert(shape.begin() + 1, shape_.size() - (x.ndim() - 1), 1);
  Shape target = shape_;
  target.insert(target.begin(), x.shape(0));
  return {{broadcast_to(reshape(x, shape, stream()), target, stream())}, {0}};
}

// The strides address the row-major input: with the batch axis in front,
// batch element b starts one slice size further.
std::pair<std::vector<array>, std::vector<int>> AsStrided::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  array x = detail::batch_to_front(inputs[0], axes[0], -1, stream());
  int64_t slice_size = 1;
  for (size_t i = 1; i < x.ndim(); ++i) slice_size *= x.shape(int(i));
  Shape shape = shape_;
  shape.insert(shape.begin(), x.shape(0));
  Strides strides = strides_;
  strides.insert(strides.begin(), slice_size);
  return {{as_strided(x, shape, strides, offset_, stream())}, {0}};
}

// start_/stop_ are normalized (a negative step's stop may be -1), so the
// rule builds the Slice node itself rather than re-parsing through the op.
std::pair<std::vector<array>, std::vector<int>> Slice::vmap(const std::vector<array>& inputs,
                                                            const std::vector<int>& axes) {
  const array& x = inputs[0];
  int b = axes[0];
  Shape start = start_, stop = stop_, step = step_;
  start.insert(start.begin() + b, 0);
  stop.insert(stop.begin() + b, x.shape(b));
  step.insert(step.begin() + b, 1);
  auto p = std::make_shared<Slice>(stream(), std::move(start), std::move(stop), std::move(step));
  return {{detail::make_node(p, {x}, x.dtype())}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> AsType::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  return {{astype(inputs[0], dtype_, stream())}, axes};
}

// View reinterprets the last axis: the batch axis must not be it.
std::pair<std::vector<array>, std::vector<int>> View::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  array x = inputs[0];
  int b = axes[0];
  if (x.itemsize() != size_of(dtype_) && b == int(x.ndim()) - 1) {
    x = detail::batch_to_front(x, b, -1, stream());
    b = 0;
  }
  return {{view(x, dtype_, stream())}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> Copy::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  return {{copy(inputs[0], stream())}, axes};
}

// A batched fill value (one per batch element) fills a batched output.
std::pair<std::vector<array>, std::vector<int>> Full::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  array v = detail::batch_to_front(inputs[0], axes[0], -1, stream());
  Shape shape(shape_.size() + 1, 1), target = shape_;
  shape[0] = v.shape(0);
  target.insert(target.begin(), v.shape(0));
  return {{copy(broadcast_to(reshape(v, shape, stream()), target, stream()), stream())}, {0}};
}

// Arange has no inputs, so vmap never finds it batched.
std::pair<std::vector<array>, std::vector<int>> Arange::vmap(const std::vector<array>&, const std::vector<int>&) {
  throw std::logic_error("[Arange] has no inputs: vmap never batches it");
}

}  // namespace uma
