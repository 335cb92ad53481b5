// Names, equivalence and shape rules of the reduction and sort primitives.
#include "uma/core/primitives/reduction.h"

#include "uma/core/primitives/sort.h"

namespace uma {

namespace {
template <typename P, typename F>
bool same(const Primitive& o, F&& eq) {
  auto* p = dynamic_cast<const P*>(&o);
  return p && eq(*p);
}
}  // namespace

const char* Reduce::name() const {
  switch (type_) {
    case Type::sum: return "Sum";
    case Type::prod: return "Prod";
    case Type::max: return "Max";
    case Type::min: return "Min";
    case Type::all: return "All";
    case Type::any: return "Any";
  }
  return "Reduce";
}

bool Reduce::is_equivalent(const Primitive& o) const {
  return same<Reduce>(o, [&](const Reduce& p) { return p.type_ == type_ && p.axes_ == axes_; });
}

std::vector<Shape> Reduce::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  for (int a : axes_) s[a] = 1;
  return {s};
}

bool ArgReduce::is_equivalent(const Primitive& o) const {
  return same<ArgReduce>(o, [&](const ArgReduce& p) { return p.type_ == type_ && p.axis_ == axis_; });
}

std::vector<Shape> ArgReduce::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s[axis_] = 1;
  return {s};
}

const char* Scan::name() const {
  switch (type_) {
    case Type::sum: return "CumSum";
    case Type::prod: return "CumProd";
    case Type::max: return "CumMax";
    case Type::min: return "CumMin";
    case Type::logaddexp: return "CumLogSumExp";
  }
  return "Scan";
}

bool Scan::is_equivalent(const Primitive& o) const {
  return same<Scan>(o, [&](const Scan& p) {
    return p.type_ == type_ && p.axis_ == axis_ && p.reverse_ == reverse_ && p.inclusive_ == inclusive_;
  });
}

bool Softmax::is_equivalent(const Primitive& o) const {
  return same<Softmax>(o, [&](const Softmax& p) { return p.precise_ == precise_; });
}

std::vector<Shape> LogSumExp::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s.back() = 1;
  return {s};
}

bool Sort::is_equivalent(const Primitive& o) const {
  return same<Sort>(o, [&](const Sort& p) { return p.axis_ == axis_; });
}
bool ArgSort::is_equivalent(const Primitive& o) const {
  return same<ArgSort>(o, [&](const ArgSort& p) { return p.axis_ == axis_; });
}
bool Partition::is_equivalent(const Primitive& o) const {
  return same<Partition>(o, [&](const Partition& p) { return p.axis_ == axis_ && p.kth_ == kth_; });
}
bool ArgPartition::is_equivalent(const Primitive& o) const {
  return same<ArgPartition>(o, [&](const ArgPartition& p) { return p.axis_ == axis_ && p.kth_ == kth_; });
}

}  // namespace uma
