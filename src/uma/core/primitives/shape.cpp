// Names, equivalence and shapes of the view, copy and creation primitives.
#include "uma/core/primitives/shape.h"

#include <cmath>

namespace uma {

UMA_SHAPE_PRIMITIVES(UMA_PRIMITIVE_NAME)

bool Reshape::is_equivalent(const Primitive& o) const {
  return same<Reshape>(o, [&](const Reshape& p) { return p.shape_ == shape_; });
}
std::vector<Shape> Reshape::output_shapes(const std::vector<array>&) { return {shape_}; }

bool Transpose::is_equivalent(const Primitive& o) const {
  return same<Transpose>(o, [&](const Transpose& p) { return p.axes_ == axes_; });
}
std::vector<Shape> Transpose::output_shapes(const std::vector<array>& inputs) {
  Shape s(axes_.size());
  for (size_t i = 0; i < axes_.size(); ++i) s[i] = inputs[0].shape(axes_[i]);
  return {s};
}

bool Broadcast::is_equivalent(const Primitive& o) const {
  return same<Broadcast>(o, [&](const Broadcast& p) { return p.shape_ == shape_; });
}
std::vector<Shape> Broadcast::output_shapes(const std::vector<array>&) { return {shape_}; }

bool AsStrided::is_equivalent(const Primitive& o) const {
  return same<AsStrided>(
      o, [&](const AsStrided& p) { return p.shape_ == shape_ && p.strides_ == strides_ && p.offset_ == offset_; });
}
std::vector<Shape> AsStrided::output_shapes(const std::vector<array>&) { return {shape_}; }

bool Slice::is_equivalent(const Primitive& o) const {
  return same<Slice>(o, [&](const Slice& p) { return p.start_ == start_ && p.stop_ == stop_ && p.step_ == step_; });
}
std::vector<Shape> Slice::output_shapes(const std::vector<array>&) {
  // start_/stop_ are normalized already (normalize_slice would move a
  // negative step's stop of -1), so only the count remains.
  Shape s(start_.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t b = start_[i], e = stop_[i], st = step_[i];
    s[i] = int32_t(st > 0 ? (e > b ? (e - b + st - 1) / st : 0) : (b > e ? (b - e - st - 1) / -st : 0));
  }
  return {s};
}

bool AsType::is_equivalent(const Primitive& o) const {
  return same<AsType>(o, [&](const AsType& p) { return p.dtype_ == dtype_; });
}
UMA_OUTPUT_SHAPE_OF_INPUT(AsType)

bool View::is_equivalent(const Primitive& o) const {
  return same<View>(o, [&](const View& p) { return p.dtype_ == dtype_; });
}
std::vector<Shape> View::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  if (!s.empty()) s.back() = int32_t(int64_t(s.back()) * int64_t(inputs[0].itemsize()) / int64_t(size_of(dtype_)));
  return {s};
}

bool Copy::is_equivalent(const Primitive& o) const { return same<Copy>(o); }
UMA_OUTPUT_SHAPE_OF_INPUT(Copy)

bool Full::is_equivalent(const Primitive& o) const {
  return same<Full>(o, [&](const Full& p) { return p.shape_ == shape_; });
}
std::vector<Shape> Full::output_shapes(const std::vector<array>&) { return {shape_}; }

bool Arange::is_equivalent(const Primitive& o) const {
  return same<Arange>(o, [&](const Arange& p) { return p.start_ == start_ && p.stop_ == stop_ && p.step_ == step_; });
}
std::vector<Shape> Arange::output_shapes(const std::vector<array>&) {
  double n = std::ceil((stop_ - start_) / step_);  // as the arange op
  return {{n > 0 ? int32_t(n) : 0}};
}

}  // namespace uma
