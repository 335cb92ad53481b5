// Serialization of joins, pads, slice updates, dynamic slices and diagonals,
// with the checks their ops make.
#include <cstdint>

#include "uma/core/primitives/manipulation.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

namespace {

// An integer 1-d (or 0-d) start of one entry per axis.
void check_start(const PrimitiveReader& r, int input, size_t axes) {
  const TypedShape& st = r.in(input);
  r.check(is_integral(st.dtype) && st.dtype != bool_, "start is not an integer array");
  r.check(st.shape.size() <= 1 && size_t(r.elements(st.shape)) == axes, "start needs one entry per axis");
}

}  // namespace

void Concatenate::serialize(PrimitiveWriter& w) const { w.put(axis_); }
std::shared_ptr<Primitive> Concatenate::deserialize(Stream s, PrimitiveReader& r) {
  int axis = r.get<int>();
  r.check(!r.node().inputs.empty(), "has no inputs");
  r.outputs(1);
  const Shape& first = r.in(0).shape;
  r.axis(axis, int(first.size()), "axis");
  int64_t total = 0;
  for (auto& in : r.node().inputs) {
    bool match = in.shape.size() == first.size();
    for (size_t d = 0; match && d < first.size(); ++d) match = int(d) == axis || in.shape[d] == first[d];
    r.check(match, "the inputs differ outside the concatenation axis");
    total += in.shape[size_t(axis)];
  }
  r.check(total <= INT32_MAX, "the result's axis exceeds 2^31-1");
  return std::make_shared<Concatenate>(s, axis);
}

void Pad::serialize(PrimitiveWriter& w) const { w.fields(*this, &Pad::axes_, &Pad::low_, &Pad::high_); }
std::shared_ptr<Primitive> Pad::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  auto low = r.get<Shape>();
  auto high = r.get<Shape>();
  r.inputs(2);
  r.outputs(1);
  r.axes(axes, r.ndim(0), "axes");
  r.check(low.size() == axes.size() && high.size() == axes.size(), "needs one low and high width per axis");
  for (size_t i = 0; i < axes.size(); ++i) {
    r.check(low[i] >= 0 && high[i] >= 0, "a pad width is negative");
    r.check(int64_t(r.in(0).shape[size_t(axes[i])]) + low[i] + high[i] <= INT32_MAX, "a padded axis exceeds 2^31-1");
  }
  r.check(r.elements(r.in(1).shape) == 1, "the pad value is not one element");
  r.check(r.in(1).dtype == r.in(0).dtype, "the pad value's dtype is not the array's");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Pad>(s, std::move(axes), std::move(low), std::move(high));
}

void SliceUpdate::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &SliceUpdate::start_, &SliceUpdate::stop_, &SliceUpdate::strides_);
}
std::shared_ptr<Primitive> SliceUpdate::deserialize(Stream s, PrimitiveReader& r) {
  auto start = r.get<Shape>();
  auto stop = r.get<Shape>();
  auto strides = r.get<Shape>();
  r.inputs(2);
  r.outputs(1);
  const Shape& src = r.in(0).shape;
  const Shape& upd = r.in(1).shape;
  r.check(start.size() == src.size() && stop.size() == src.size() && strides.size() == src.size() &&
              upd.size() == src.size(),
          "start, stop, strides and the update need one entry per dimension");
  for (size_t i = 0; i < src.size(); ++i) {
    int64_t b = start[i], e = stop[i], st = strides[i], n = src[i];
    r.check(st != 0, "a step is zero");
    int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? n : n - 1;
    r.check(b >= lo && b <= hi && e >= lo && e <= hi, "a bound is outside the array");
    int64_t count = st > 0 ? (e > b ? (e - b + st - 1) / st : 0) : (b > e ? (b - e - st - 1) / -st : 0);
    r.check(upd[i] == count, "the update is not shaped like the slice");
  }
  r.check(r.in(1).dtype == r.in(0).dtype, "the update's dtype is not the array's");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<SliceUpdate>(s, std::move(start), std::move(stop), std::move(strides));
}

void DynamicSlice::serialize(PrimitiveWriter& w) const { w.fields(*this, &DynamicSlice::axes_, &DynamicSlice::slice_size_); }
std::shared_ptr<Primitive> DynamicSlice::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  auto size = r.get<Shape>();
  r.inputs(2);
  r.outputs(1);
  const Shape& a = r.in(0).shape;
  r.axes(axes, int(a.size()), "axes");
  check_start(r, 1, axes.size());
  r.check(size.size() == a.size(), "slice_size needs one entry per dimension");
  for (size_t i = 0; i < a.size(); ++i) r.check(size[i] >= 0 && size[i] <= a[i], "slice_size does not fit");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<DynamicSlice>(s, std::move(axes), std::move(size));
}

void DynamicSliceUpdate::serialize(PrimitiveWriter& w) const { w.put(axes_); }
std::shared_ptr<Primitive> DynamicSliceUpdate::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  r.inputs(3);
  r.outputs(1);
  const Shape& src = r.in(0).shape;
  const Shape& upd = r.in(1).shape;
  r.axes(axes, int(src.size()), "axes");
  check_start(r, 2, axes.size());
  r.check(upd.size() == src.size(), "the update has another number of dimensions");
  for (size_t i = 0; i < src.size(); ++i) r.check(upd[i] <= src[i], "the update does not fit");
  r.check(r.in(1).dtype == r.in(0).dtype, "the update's dtype is not the array's");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<DynamicSliceUpdate>(s, std::move(axes));
}

void Diagonal::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &Diagonal::offset_, &Diagonal::axis1_, &Diagonal::axis2_);
}
std::shared_ptr<Primitive> Diagonal::deserialize(Stream s, PrimitiveReader& r) {
  auto offset = r.get<int>();
  auto axis1 = r.get<int>();
  auto axis2 = r.get<int>();
  r.inputs(1);
  r.outputs(1);
  r.axes({axis1, axis2}, r.ndim(0), "axis1 and axis2");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Diagonal>(s, offset, axis1, axis2);
}

}  // namespace uma
