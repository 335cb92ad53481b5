// Serialization of gathers and scatters, with the checks their ops make:
// index arrays of one shape and one integer dtype, windows inside the array.
#include "uma/core/primitives/indexing.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

template <>
struct enum_limit<ScatterReduce> {
  static constexpr uint64_t value = uint64_t(ScatterReduce::min);
};

namespace {

bool integer(Dtype t) { return is_integral(t) && t != bool_; }

// Inputs [first, first + k) are index arrays of one shape and integer dtype,
// for k distinct axes of input 0; returns their shape.
Shape check_indices(const PrimitiveReader& r, const std::vector<int>& axes, int first) {
  r.axes(axes, r.ndim(0), "axes");
  if (axes.empty()) return {};
  const TypedShape& i0 = r.in(first);
  for (size_t k = 0; k < axes.size(); ++k) {
    const TypedShape& ik = r.in(first + int(k));
    r.check(integer(ik.dtype) && ik.dtype == i0.dtype, "the indices are not of one integer dtype");
    r.check(ik.shape == i0.shape, "the index arrays differ in shape");
  }
  return i0.shape;
}

// indices (input 1) and a (input 0) of one rank and equal but along axis;
// a's axis not empty where indices are.
void check_along_axis(const PrimitiveReader& r, int axis) {
  const Shape& a = r.in(0).shape;
  const Shape& idx = r.in(1).shape;
  r.axis(axis, int(a.size()), "axis");
  r.check(integer(r.in(1).dtype), "the indices are not integers");
  r.check(idx.size() == a.size(), "the indices have another number of dimensions");
  for (size_t d = 0; d < a.size(); ++d) r.check(int(d) == axis || idx[d] == a[d], "the indices are not shaped like the array");
  r.check(a[size_t(axis)] > 0 || r.elements(idx) == 0, "indexes an empty axis");
}

}  // namespace

void Gather::serialize(PrimitiveWriter& w) const { w.fields(*this, &Gather::axes_, &Gather::slice_sizes_, &Gather::clamp_); }
std::shared_ptr<Primitive> Gather::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  auto sizes = r.get<Shape>();
  auto clamp = r.get<bool>();
  r.check(!r.node().inputs.empty(), "has no inputs");
  r.inputs(1 + int(axes.size()));
  r.outputs(1);
  check_indices(r, axes, 1);
  const Shape& a = r.in(0).shape;
  r.check(sizes.size() == a.size(), "slice_sizes needs one entry per dimension");
  for (size_t i = 0; i < a.size(); ++i) r.check(sizes[i] >= 0 && sizes[i] <= a[i], "a slice does not fit");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Gather>(s, std::move(axes), std::move(sizes), clamp);
}

void Scatter::serialize(PrimitiveWriter& w) const { w.fields(*this, &Scatter::reduce_, &Scatter::axes_, &Scatter::clamp_); }
std::shared_ptr<Primitive> Scatter::deserialize(Stream s, PrimitiveReader& r) {
  auto reduce = r.get<ScatterReduce>();
  auto axes = r.get<std::vector<int>>();
  auto clamp = r.get<bool>();
  r.check(!r.node().inputs.empty(), "has no inputs");
  r.inputs(2 + int(axes.size()));
  r.outputs(1);
  Shape idx = check_indices(r, axes, 1);
  const Shape& a = r.in(0).shape;
  const TypedShape& upd = r.in(1 + int(axes.size()));
  bool ok = upd.shape.size() == idx.size() + a.size();
  for (size_t i = 0; ok && i < idx.size(); ++i) ok = upd.shape[i] == idx[i];
  for (size_t i = 0; ok && i < a.size(); ++i) ok = upd.shape[idx.size() + i] <= a[i];
  r.check(ok, "the updates are not the indices' shape followed by a window inside the array");
  r.check(upd.dtype == r.in(0).dtype, "the updates' dtype is not the array's");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Scatter>(s, reduce, std::move(axes), clamp);
}

void GatherAxis::serialize(PrimitiveWriter& w) const { w.fields(*this, &GatherAxis::axis_, &GatherAxis::clamp_); }
std::shared_ptr<Primitive> GatherAxis::deserialize(Stream s, PrimitiveReader& r) {
  auto axis = r.get<int>();
  auto clamp = r.get<bool>();
  r.inputs(2);
  r.outputs(1);
  check_along_axis(r, axis);
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<GatherAxis>(s, axis, clamp);
}

void ScatterAxis::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &ScatterAxis::reduce_, &ScatterAxis::axis_, &ScatterAxis::clamp_);
}
std::shared_ptr<Primitive> ScatterAxis::deserialize(Stream s, PrimitiveReader& r) {
  auto reduce = r.get<ScatterReduce>();
  auto axis = r.get<int>();
  auto clamp = r.get<bool>();
  r.inputs(3);
  r.outputs(1);
  r.check(reduce == ScatterReduce::none || reduce == ScatterReduce::sum, "reduces other than by none or sum");
  check_along_axis(r, axis);
  r.check(r.in(2).shape == r.in(1).shape, "the values are not shaped like the indices");
  r.check(r.in(2).dtype == r.in(0).dtype, "the values' dtype is not the array's");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<ScatterAxis>(s, reduce, axis, clamp);
}

}  // namespace uma
