// Serialization of reductions, arg-reductions, scans, softmax and logsumexp.
#include "uma/core/primitives/reduction.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

template <>
struct enum_limit<Reduce::Type> {
  static constexpr uint64_t value = uint64_t(Reduce::Type::any);
};
template <>
struct enum_limit<ArgReduce::Type> {
  static constexpr uint64_t value = uint64_t(ArgReduce::Type::argmin);
};
template <>
struct enum_limit<Scan::Type> {
  static constexpr uint64_t value = uint64_t(Scan::Type::logaddexp);
};

void Reduce::serialize(PrimitiveWriter& w) const { w.fields(*this, &Reduce::type_, &Reduce::axes_, &Reduce::out_dtype_); }
std::shared_ptr<Primitive> Reduce::deserialize(Stream s, PrimitiveReader& r) {
  auto type = r.get<Type>();
  auto axes = r.get<std::vector<int>>();
  auto out_dtype = r.get<std::optional<Dtype>>();
  r.inputs(1);
  r.outputs(1);
  r.axes(axes, r.ndim(0), "axes");
  for (size_t i = 1; i < axes.size(); ++i) r.check(axes[i - 1] < axes[i], "the axes are not sorted");
  if (out_dtype) r.out_dtype(*out_dtype);
  return std::make_shared<Reduce>(s, type, std::move(axes), out_dtype);
}

void ArgReduce::serialize(PrimitiveWriter& w) const { w.fields(*this, &ArgReduce::type_, &ArgReduce::axis_); }
std::shared_ptr<Primitive> ArgReduce::deserialize(Stream s, PrimitiveReader& r) {
  auto type = r.get<Type>();
  auto axis = r.get<int>();
  r.inputs(1);
  r.outputs(1);
  r.axis(axis, r.ndim(0), "axis");
  r.check(r.in(0).shape[size_t(axis)] > 0 || r.elements(r.in(0).shape) == 0, "reduces an empty axis");
  r.out_dtype(uint32);
  return std::make_shared<ArgReduce>(s, type, axis);
}

void Scan::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &Scan::type_, &Scan::axis_, &Scan::reverse_, &Scan::inclusive_);
}
std::shared_ptr<Primitive> Scan::deserialize(Stream s, PrimitiveReader& r) {
  auto type = r.get<Type>();
  auto axis = r.get<int>();
  auto reverse = r.get<bool>();
  auto inclusive = r.get<bool>();
  r.inputs(1);
  r.outputs(1);
  r.axis(axis, r.ndim(0), "axis");
  Dtype in = r.in(0).dtype;
  // The kernel counts bools in int32 and otherwise keeps the input's dtype.
  r.out_dtype(in == bool_ && (type == Type::sum || type == Type::prod) ? int32 : in);
  return std::make_shared<Scan>(s, type, axis, reverse, inclusive);
}

namespace {
// Over the last axis of a float input, in the input's dtype.
void check_last_axis(const PrimitiveReader& r) {
  r.inputs(1);
  r.outputs(1);
  r.check(r.ndim(0) >= 1, "needs an input of 1 or more dimensions");
  r.check(is_floating_point(r.in(0).dtype), "needs a floating point input");
  r.out_dtype(r.in(0).dtype);
}
}  // namespace

void Softmax::serialize(PrimitiveWriter& w) const { w.put(precise_); }
std::shared_ptr<Primitive> Softmax::deserialize(Stream s, PrimitiveReader& r) {
  auto precise = r.get<bool>();
  check_last_axis(r);
  return std::make_shared<Softmax>(s, precise);
}

void LogSumExp::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> LogSumExp::deserialize(Stream s, PrimitiveReader& r) {
  check_last_axis(r);
  return std::make_shared<LogSumExp>(s);
}

}  // namespace uma
