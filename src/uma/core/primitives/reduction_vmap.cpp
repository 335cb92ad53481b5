// vmap rules of the reduction family: reductions, arg-reductions and scans
// shift their axes past the batch axis (which stays where it is, as the
// reduced axes are kept); softmax and logsumexp work on the last axis, so a
// batch axis there moves to the front.
#include "uma/core/ops/reduction.h"
#include "uma/core/primitives/reduction.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Reduce::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  const array& x = inputs[0];
  int b = axes[0];
  std::vector<int> ax = detail::shift_axes(axes_, b);
  if (out_dtype_) {
    return {{detail::make_node(std::make_shared<Reduce>(stream(), type_, ax, out_dtype_), {x}, *out_dtype_)}, {b}};
  }
  auto op = [&]() {
    switch (type_) {
      case Type::sum: return sum(x, ax, true, stream());
      case Type::prod: return prod(x, ax, true, stream());
      case Type::max: return max(x, ax, true, stream());
      case Type::min: return min(x, ax, true, stream());
      case Type::all: return all(x, ax, true, stream());
      case Type::any: break;
    }
    return any(x, ax, true, stream());
  };
  return {{op()}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> ArgReduce::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  int b = axes[0];
  auto p = std::make_shared<ArgReduce>(stream(), type_, detail::shift_axis(axis_, b));
  return {{detail::make_node(p, {inputs[0]}, uint32)}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> Scan::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  const array& x = inputs[0];
  int b = axes[0];
  int ax = detail::shift_axis(axis_, b);
  auto op = [&]() {
    switch (type_) {
      case Type::sum: return cumsum(x, ax, reverse_, inclusive_, stream());
      case Type::prod: return cumprod(x, ax, reverse_, inclusive_, stream());
      case Type::max: return cummax(x, ax, reverse_, inclusive_, stream());
      case Type::min: return cummin(x, ax, reverse_, inclusive_, stream());
      case Type::logaddexp: break;
    }
    return logcumsumexp(x, ax, reverse_, inclusive_, stream());
  };
  return {{op()}, {b}};
}

namespace {

// x with its batch axis off the last axis (moved to the front if it was there).
std::pair<array, int> batch_off_last(const array& x, int b, Stream s) {
  if (b != int(x.ndim()) - 1) return {x, b};
  return {detail::batch_to_front(x, b, -1, s), 0};
}

}  // namespace

std::pair<std::vector<array>, std::vector<int>> Softmax::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  auto [x, b] = batch_off_last(inputs[0], axes[0], stream());
  return {{detail::make_node(std::make_shared<Softmax>(stream(), precise_), {x}, x.dtype())}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> LogSumExp::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  auto [x, b] = batch_off_last(inputs[0], axes[0], stream());
  return {{detail::make_node(std::make_shared<LogSumExp>(stream()), {x}, x.dtype())}, {b}};
}

}  // namespace uma
