// Names, equivalence and shape rules of the reduction primitives.
#include "uma/core/primitives/reduction.h"

namespace uma {

UMA_PRIMITIVE_NAME(Softmax)
UMA_PRIMITIVE_NAME(LogSumExp)

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
  return same<Reduce>(o, [&](const Reduce& p) {
    return p.type_ == type_ && p.axes_ == axes_ && p.out_dtype_ == out_dtype_;
  });
}

std::vector<Shape> Reduce::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  for (int a : axes_) s[a] = 1;
  return {s};
}

const char* ArgReduce::name() const { return type_ == Type::argmax ? "ArgMax" : "ArgMin"; }

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

UMA_OUTPUT_SHAPE_OF_INPUT(Scan)

bool Softmax::is_equivalent(const Primitive& o) const {
  return same<Softmax>(o, [&](const Softmax& p) { return p.precise_ == precise_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(Softmax)

bool LogSumExp::is_equivalent(const Primitive& o) const { return same<LogSumExp>(o); }

std::vector<Shape> LogSumExp::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s.back() = 1;
  return {s};
}

}  // namespace uma
