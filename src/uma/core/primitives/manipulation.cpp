// Names, equivalence, shapes and gradient rules of the manipulation primitives. Every one of
// them is linear in its array inputs, so jvp applies the primitive to the
// tangents and vjp applies its adjoint (slices <-> slice updates).
#include "uma/core/primitives/manipulation.h"

#include <algorithm>
#include <numeric>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/shape.h"

namespace uma {

namespace detail {

array tangent_or_zeros(int i, const std::vector<array>& primals, const std::vector<array>& tangents,
                       const std::vector<int>& argnums) {
  for (size_t k = 0; k < argnums.size(); ++k) {
    if (argnums[k] == i) return tangents[k];
  }
  return zeros_like(primals[i]);
}

}  // namespace detail

UMA_MANIPULATION_PRIMITIVES(UMA_PRIMITIVE_NAME)

namespace {

[[noreturn]] void not_differentiable(const char* prim, const char* what) {
  throw std::invalid_argument(std::string("[") + prim + "] is not differentiable with respect to " + what);
}

}  // namespace

// ------------------------------------------------------------ Concatenate

bool Concatenate::is_equivalent(const Primitive& o) const {
  return same<Concatenate>(o, [&](const Concatenate& p) { return p.axis_ == axis_; });
}

std::vector<Shape> Concatenate::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  for (size_t i = 1; i < inputs.size(); ++i) s[axis_] += inputs[i].shape(axis_);
  return {s};
}

std::vector<array> Concatenate::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const array& cot = cotangents[0];
  std::vector<int32_t> starts{0};
  for (auto& p : primals) starts.push_back(starts.back() + p.shape(axis_));
  Shape start(cot.ndim(), 0), stop = cot.shape();
  std::vector<array> grads;
  for (int i : argnums) {
    start[axis_] = starts[i];
    stop[axis_] = starts[i + 1];
    grads.push_back(slice(cot, start, stop, stream()));
  }
  return grads;
}

std::vector<array> Concatenate::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  std::vector<array> ts;
  for (int i = 0; i < int(primals.size()); ++i) ts.push_back(detail::tangent_or_zeros(i, primals, tangents, argnums));
  return {concatenate(std::move(ts), axis_, stream())};
}

// ------------------------------------------------------------ Pad

bool Pad::is_equivalent(const Primitive& o) const {
  return same<Pad>(o, [&](const Pad& p) { return p.axes_ == axes_ && p.low_ == low_ && p.high_ == high_; });
}

std::vector<Shape> Pad::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  for (size_t i = 0; i < axes_.size(); ++i) s[axes_[i]] += low_[i] + high_[i];
  return {s};
}

std::vector<array> Pad::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                            const std::vector<int>& argnums, const std::vector<array>&) {
  const array& cot = cotangents[0];
  Shape start(cot.ndim(), 0), stop = primals[0].shape();
  for (size_t i = 0; i < axes_.size(); ++i) {
    start[axes_[i]] = low_[i];
    stop[axes_[i]] += low_[i];
  }
  std::vector<array> grads;
  for (int i : argnums) {
    if (i == 0) {
      grads.push_back(slice(cot, start, stop, stream()));
    } else {
      // The pad value reaches every element outside the interior.
      array border = slice_update(cot, zeros(primals[0].shape(), cot.dtype(), stream()), start, stop, stream());
      grads.push_back(astype(sum(border, false, stream()), primals[1].dtype(), stream()));
    }
  }
  return grads;
}

std::vector<array> Pad::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>& argnums) {
  array ta = detail::tangent_or_zeros(0, primals, tangents, argnums);
  array tv = astype(detail::tangent_or_zeros(1, primals, tangents, argnums), ta.dtype(), stream());
  Shape shape = ta.shape();
  for (size_t i = 0; i < axes_.size(); ++i) shape[axes_[i]] += low_[i] + high_[i];
  return {array(shape, ta.dtype(), std::make_shared<Pad>(stream(), axes_, low_, high_), {ta, tv})};
}

// ------------------------------------------------------------ SliceUpdate
// start_/stop_ are normalized (a negative step's stop may be -1), so the
// adjoints build Slice / SliceUpdate nodes directly rather than re-parsing.

bool SliceUpdate::is_equivalent(const Primitive& o) const {
  return same<SliceUpdate>(
      o, [&](const SliceUpdate& p) { return p.start_ == start_ && p.stop_ == stop_ && p.strides_ == strides_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(SliceUpdate)

std::vector<array> SliceUpdate::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const array& cot = cotangents[0];
  const Shape& window = primals[1].shape();
  std::vector<array> grads;
  for (int i : argnums) {
    if (i == 0) {
      grads.push_back(array(cot.shape(), cot.dtype(), std::make_shared<SliceUpdate>(stream(), start_, stop_, strides_),
                            {cot, zeros(window, cot.dtype(), stream())}));
    } else {
      grads.push_back(
          array(window, cot.dtype(), std::make_shared<Slice>(stream(), start_, stop_, strides_), {cot}));
    }
  }
  return grads;
}

std::vector<array> SliceUpdate::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  array ts = detail::tangent_or_zeros(0, primals, tangents, argnums);
  array tu = astype(detail::tangent_or_zeros(1, primals, tangents, argnums), ts.dtype(), stream());
  return {array(ts.shape(), ts.dtype(), std::make_shared<SliceUpdate>(stream(), start_, stop_, strides_), {ts, tu})};
}

// ------------------------------------------------------------ DynamicSlice(Update)

bool DynamicSlice::is_equivalent(const Primitive& o) const {
  return same<DynamicSlice>(o,
                            [&](const DynamicSlice& p) { return p.axes_ == axes_ && p.slice_size_ == slice_size_; });
}

std::vector<Shape> DynamicSlice::output_shapes(const std::vector<array>&) { return {slice_size_}; }

std::vector<array> DynamicSlice::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                     const std::vector<int>& argnums, const std::vector<array>&) {
  if (argnums.size() != 1 || argnums[0] != 0) not_differentiable("DynamicSlice", "its start indices");
  const array& cot = cotangents[0];
  array z = zeros(primals[0].shape(), cot.dtype(), stream());
  return {array(z.shape(), cot.dtype(), std::make_shared<DynamicSliceUpdate>(stream(), axes_), {z, cot, primals[1]})};
}

std::vector<array> DynamicSlice::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                     const std::vector<int>& argnums) {
  if (argnums.size() != 1 || argnums[0] != 0) not_differentiable("DynamicSlice", "its start indices");
  const array& t = tangents[0];
  return {array(slice_size_, t.dtype(), std::make_shared<DynamicSlice>(stream(), axes_, slice_size_), {t, primals[1]})};
}

bool DynamicSliceUpdate::is_equivalent(const Primitive& o) const {
  return same<DynamicSliceUpdate>(o, [&](const DynamicSliceUpdate& p) { return p.axes_ == axes_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(DynamicSliceUpdate)

std::vector<array> DynamicSliceUpdate::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                           const std::vector<int>& argnums, const std::vector<array>&) {
  const array& cot = cotangents[0];
  const array& start = primals[2];
  const Shape& window = primals[1].shape();
  std::vector<array> grads;
  for (int i : argnums) {
    if (i == 0) {
      grads.push_back(array(cot.shape(), cot.dtype(), std::make_shared<DynamicSliceUpdate>(stream(), axes_),
                            {cot, zeros(window, cot.dtype(), stream()), start}));
    } else if (i == 1) {
      grads.push_back(
          array(window, cot.dtype(), std::make_shared<DynamicSlice>(stream(), axes_, window), {cot, start}));
    } else {
      not_differentiable("DynamicSliceUpdate", "its start indices");
    }
  }
  return grads;
}

std::vector<array> DynamicSliceUpdate::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                           const std::vector<int>& argnums) {
  for (int i : argnums) {
    if (i == 2) not_differentiable("DynamicSliceUpdate", "its start indices");
  }
  array ts = detail::tangent_or_zeros(0, primals, tangents, argnums);
  array tu = astype(detail::tangent_or_zeros(1, primals, tangents, argnums), ts.dtype(), stream());
  return {array(ts.shape(), ts.dtype(), std::make_shared<DynamicSliceUpdate>(stream(), axes_), {ts, tu, primals[2]})};
}

// ------------------------------------------------------------ Diagonal

bool Diagonal::is_equivalent(const Primitive& o) const {
  return same<Diagonal>(
      o, [&](const Diagonal& p) { return p.offset_ == offset_ && p.axis1_ == axis1_ && p.axis2_ == axis2_; });
}

// axis1_ and axis2_ removed, the diagonal's length appended (as the op).
std::vector<Shape> Diagonal::output_shapes(const std::vector<array>& inputs) {
  const Shape& in = inputs[0].shape();
  int64_t off1 = std::max(-int64_t(offset_), int64_t(0)), off2 = std::max(int64_t(offset_), int64_t(0));
  int64_t len = std::max<int64_t>(0, std::min(in[axis1_] - off1, in[axis2_] - off2));
  Shape s;
  for (int i = 0; i < int(in.size()); ++i) {
    if (i != axis1_ && i != axis2_) s.push_back(in[i]);
  }
  s.push_back(int32_t(len));
  return {s};
}

std::vector<array> Diagonal::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>&, const std::vector<array>&) {
  // With axis1, axis2 moved last and merged, the diagonal is the strided run
  // first, first + (n2 + 1), ... of the merged axis: one slice_update.
  const array& a = primals[0];
  const array& cot = cotangents[0];
  int nd = int(a.ndim());
  std::vector<int> order;  // a's axes in the order of the merged layout
  Shape shape;
  for (int i = 0; i < nd; ++i) {
    if (i != axis1_ && i != axis2_) {
      order.push_back(i);
      shape.push_back(a.shape(i));
    }
  }
  order.push_back(axis1_);
  order.push_back(axis2_);
  int64_t n1 = a.shape(axis1_), n2 = a.shape(axis2_), len = cot.shape(-1);
  Shape merged = shape;
  merged.push_back(int32_t(n1 * n2));
  array g = zeros(merged, cot.dtype(), stream());
  if (len > 0) {
    int64_t first = offset_ >= 0 ? offset_ : -int64_t(offset_) * n2;
    Shape start(merged.size(), 0), stop = merged, step(merged.size(), 1);
    start.back() = int32_t(first);
    stop.back() = int32_t(first + (len - 1) * (n2 + 1) + 1);
    step.back() = int32_t(n2 + 1);
    g = slice_update(g, cot, start, stop, step, stream());
  }
  shape.push_back(int32_t(n1));
  shape.push_back(int32_t(n2));
  g = reshape(g, shape, stream());
  std::vector<int> inverse(nd);
  for (int k = 0; k < nd; ++k) inverse[order[k]] = k;
  return {transpose(g, inverse, stream())};
}

std::vector<array> Diagonal::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                 const std::vector<int>&) {
  return {diagonal(tangents[0], offset_, axis1_, axis2_, stream())};
}

}  // namespace uma
