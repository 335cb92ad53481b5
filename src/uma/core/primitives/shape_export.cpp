// Serialization of views, copies and creation primitives, with the checks the
// ops make (views must stay inside their source's buffer).
#include <cmath>

#include "uma/core/primitives/serialize.h"
#include "uma/core/primitives/shape.h"

namespace uma {

namespace {

void one_to_one(const PrimitiveReader& r) {
  r.inputs(1);
  r.outputs(1);
}

}  // namespace

void Reshape::serialize(PrimitiveWriter& w) const { w.put(shape_); }
std::shared_ptr<Primitive> Reshape::deserialize(Stream s, PrimitiveReader& r) {
  auto shape = r.get<Shape>();
  one_to_one(r);
  r.check(r.elements(shape) == r.elements(r.in(0).shape), "changes the number of elements");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Reshape>(s, std::move(shape));
}

void Transpose::serialize(PrimitiveWriter& w) const { w.put(axes_); }
std::shared_ptr<Primitive> Transpose::deserialize(Stream s, PrimitiveReader& r) {
  auto axes = r.get<std::vector<int>>();
  one_to_one(r);
  r.check(int(axes.size()) == r.ndim(0), "the axes are not a permutation of the input's");
  r.axes(axes, r.ndim(0), "axes");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Transpose>(s, std::move(axes));
}

void Broadcast::serialize(PrimitiveWriter& w) const { w.put(shape_); }
std::shared_ptr<Primitive> Broadcast::deserialize(Stream s, PrimitiveReader& r) {
  auto shape = r.get<Shape>();
  one_to_one(r);
  r.elements(shape);
  const Shape& in = r.in(0).shape;
  r.check(in.size() <= shape.size(), "broadcasts to fewer dimensions");
  size_t off = shape.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) r.check(in[i] == shape[off + i] || in[i] == 1, "the shapes do not broadcast");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Broadcast>(s, std::move(shape));
}

void AsStrided::serialize(PrimitiveWriter& w) const { w.fields(*this, &AsStrided::shape_, &AsStrided::strides_, &AsStrided::offset_); }
std::shared_ptr<Primitive> AsStrided::deserialize(Stream s, PrimitiveReader& r) {
  auto shape = r.get<Shape>();
  auto strides = r.get<Strides>();
  auto offset = r.get<int64_t>();
  one_to_one(r);
  r.elements(shape);
  r.check(shape.size() == strides.size(), "shape and strides differ in length");
  // As the op: every element reached lies inside the (contiguous) source.
  __int128 lo = offset, hi = offset;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    empty |= shape[i] == 0;
    __int128 ext = __int128(shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  r.check(empty || (lo >= 0 && hi < r.elements(r.in(0).shape)), "the view reaches outside its source");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<AsStrided>(s, std::move(shape), std::move(strides), offset);
}

void Slice::serialize(PrimitiveWriter& w) const { w.fields(*this, &Slice::start_, &Slice::stop_, &Slice::step_); }
std::shared_ptr<Primitive> Slice::deserialize(Stream s, PrimitiveReader& r) {
  auto start = r.get<Shape>();
  auto stop = r.get<Shape>();
  auto step = r.get<Shape>();
  one_to_one(r);
  const Shape& in = r.in(0).shape;
  r.check(start.size() == in.size() && stop.size() == in.size() && step.size() == in.size(),
          "start, stop and step need one entry per dimension");
  // Normalized as the op leaves them: forward in [0, n], backward in [-1, n - 1].
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t lo = step[i] > 0 ? 0 : -1, hi = step[i] > 0 ? in[i] : in[i] - 1;
    r.check(step[i] != 0, "a step is zero");
    r.check(start[i] >= lo && start[i] <= hi && stop[i] >= lo && stop[i] <= hi, "a bound is outside the array");
  }
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Slice>(s, std::move(start), std::move(stop), std::move(step));
}

void AsType::serialize(PrimitiveWriter& w) const { w.put(dtype_); }
std::shared_ptr<Primitive> AsType::deserialize(Stream s, PrimitiveReader& r) {
  auto dtype = r.get<Dtype>();
  one_to_one(r);
  r.out_dtype(dtype);
  return std::make_shared<AsType>(s, dtype);
}

void View::serialize(PrimitiveWriter& w) const { w.put(dtype_); }
std::shared_ptr<Primitive> View::deserialize(Stream s, PrimitiveReader& r) {
  auto dtype = r.get<Dtype>();
  one_to_one(r);
  r.out_dtype(dtype);
  const TypedShape& in = r.in(0);
  if (size_of(in.dtype) != size_of(dtype)) {
    r.check(!in.shape.empty(), "a 0-d array cannot change item size");
    r.check(int64_t(in.shape.back()) * int64_t(size_of(in.dtype)) % int64_t(size_of(dtype)) == 0,
            "the last dimension does not divide into the new dtype");
  }
  return std::make_shared<View>(s, dtype);
}

void Copy::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> Copy::deserialize(Stream s, PrimitiveReader& r) {
  one_to_one(r);
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Copy>(s);
}

void Full::serialize(PrimitiveWriter& w) const { w.put(shape_); }
std::shared_ptr<Primitive> Full::deserialize(Stream s, PrimitiveReader& r) {
  auto shape = r.get<Shape>();
  one_to_one(r);
  r.elements(shape);
  r.check(r.elements(r.in(0).shape) == 1, "the fill value is not one element");
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<Full>(s, std::move(shape));
}

void Arange::serialize(PrimitiveWriter& w) const { w.fields(*this, &Arange::start_, &Arange::stop_, &Arange::step_); }
std::shared_ptr<Primitive> Arange::deserialize(Stream s, PrimitiveReader& r) {
  auto start = r.get<double>();
  auto stop = r.get<double>();
  auto step = r.get<double>();
  r.inputs(0);
  r.outputs(1);
  r.check(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step) && step != 0,
          "start, stop and step must be finite and the step nonzero");
  double n = std::ceil((stop - start) / step);
  r.check(n < 2147483648.0, "gives more than 2^31-1 elements");
  return std::make_shared<Arange>(s, start, stop, step);
}

}  // namespace uma
