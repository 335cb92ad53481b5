// Helpers shared by the elementwise op files (not part of the public API).
#pragma once

#include <memory>
#include <string>

#include "uma/core/array.h"
#include "uma/core/device.h"
#include "uma/core/ops/shape.h"
#include "uma/core/utils.h"

namespace uma::detail {

// MLX's at_least_float: integers and bool compute in float32.
inline Dtype at_least_float(Dtype t) { return is_inexact(t) ? t : float32; }

inline void reject_complex(const char* op, Dtype t) {
  if (t == complex64) throw std::invalid_argument(std::string("[") + op + "] complex64 is not supported");
}

// A node of primitive P over `inputs` (already cast and broadcast).
template <typename P>
array make_node(Shape shape, Dtype out, std::vector<array> inputs, StreamOrDevice s) {
  return array(std::move(shape), out, std::make_shared<P>(to_stream(s)), std::move(inputs));
}

// Casts a and b to `compute`, broadcasts them, and records P with output
// dtype `out`.
template <typename P>
array binary_node(const char* op, const array& a, const array& b, Dtype compute, Dtype out, StreamOrDevice s) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  array x = broadcast_to(astype(a, compute, s), shape, s);
  array y = broadcast_to(astype(b, compute, s), shape, s);
  return make_node<P>(std::move(shape), out, {std::move(x), std::move(y)}, s);
}

}  // namespace uma::detail
