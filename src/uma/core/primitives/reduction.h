// Primitives of the reduction family: reductions over axes, arg-reductions,
// scans and the fused softmax / logsumexp over the last axis.
#pragma once

#include <optional>

#include "uma/core/primitive.h"

namespace uma {

#define UMA_REDUCTION_PRIMITIVES(X) X(Reduce) X(ArgReduce) X(Scan) X(Softmax) X(LogSumExp)

// Reduces `axes` (sorted, non-negative). The output keeps the reduced axes
// with size 1; the op squeezes them unless keepdims. The output dtype is set
// by the op (sum of int8 -> int32, mean's sum of int32 -> float32, ...) and
// recorded as out_dtype (so that a rule can rebuild the node; absent: the
// dtype sum/prod/max/... give the input's); float sums accumulate in float64.
class Reduce : public UnaryPrimitive {
 public:
  enum class Type : uint8_t { sum, prod, max, min, all, any };
  Reduce(Stream s, Type type, std::vector<int> axes, std::optional<Dtype> out_dtype = std::nullopt)
      : UnaryPrimitive(s), type_(type), axes_(std::move(axes)), out_dtype_(out_dtype) {}
  UMA_DECLARE_PRIMITIVE()
  Type type() const { return type_; }
  const std::vector<int>& axes() const { return axes_; }
  std::optional<Dtype> out_dtype() const { return out_dtype_; }

 private:
  Type type_;
  std::vector<int> axes_;
  std::optional<Dtype> out_dtype_;
};

// Index (uint32) of the first max/min along `axis`; NaN counts as the extreme,
// as in NumPy. The output keeps `axis` with size 1.
class ArgReduce : public UnaryPrimitive {
 public:
  enum class Type : uint8_t { argmax, argmin };
  ArgReduce(Stream s, Type type, int axis) : UnaryPrimitive(s), type_(type), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Type type_;
  int axis_;
};

// Inclusive or exclusive, forward or reverse scan along `axis`.
class Scan : public UnaryPrimitive {
 public:
  enum class Type : uint8_t { sum, prod, max, min, logaddexp };
  Scan(Stream s, Type type, int axis, bool reverse, bool inclusive)
      : UnaryPrimitive(s), type_(type), axis_(axis), reverse_(reverse), inclusive_(inclusive) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  Type type_;
  int axis_;
  bool reverse_, inclusive_;
};

// Softmax over the last axis; half types are computed in float32.
class Softmax : public UnaryPrimitive {
 public:
  Softmax(Stream s, bool precise) : UnaryPrimitive(s), precise_(precise) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  bool precise_;
};

// log(sum(exp(x))) over the last axis (kept with size 1). A row of -inf gives
// -inf, a row holding +inf gives +inf, an empty row -inf.
class LogSumExp : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

}  // namespace uma
