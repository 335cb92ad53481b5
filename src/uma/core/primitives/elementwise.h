// Primitives of the elementwise family: one class per op, as MLX. Inputs are
// already promoted and broadcast by the ops (ops/elementwise*.cpp); kernels
// live in backend/cpu/{unary,binary,ternary}.cpp.
#pragma once

#include <typeinfo>

#include "uma/core/primitive.h"

namespace uma {

// A stateless elementwise primitive with one output shaped like its
// (broadcast) inputs. Equivalent to any other instance of the same class.
#define UMA_ELEMENTWISE_PRIMITIVE(NAME)                                                      \
  class NAME : public UnaryPrimitive {                                                       \
   public:                                                                                   \
    explicit NAME(Stream s) : UnaryPrimitive(s) {}                                           \
    void eval_cpu(const std::vector<array>& inputs, array& out) override;                    \
    const char* name() const override { return #NAME; }                                      \
    bool is_equivalent(const Primitive& o) const override { return typeid(o) == typeid(*this); } \
    std::vector<Shape> output_shapes(const std::vector<array>& inputs) override {            \
      return {inputs[0].shape()};                                                            \
    }                                                                                        \
  };

// --- unary: out = f(x); float math sees float inputs only (ops cast ints).
UMA_ELEMENTWISE_PRIMITIVE(Abs)
UMA_ELEMENTWISE_PRIMITIVE(Negative)
UMA_ELEMENTWISE_PRIMITIVE(Sign)
UMA_ELEMENTWISE_PRIMITIVE(Exp)
UMA_ELEMENTWISE_PRIMITIVE(Expm1)
UMA_ELEMENTWISE_PRIMITIVE(Log)
UMA_ELEMENTWISE_PRIMITIVE(Log2)
UMA_ELEMENTWISE_PRIMITIVE(Log10)
UMA_ELEMENTWISE_PRIMITIVE(Log1p)
UMA_ELEMENTWISE_PRIMITIVE(Sqrt)
UMA_ELEMENTWISE_PRIMITIVE(Rsqrt)
UMA_ELEMENTWISE_PRIMITIVE(Square)
UMA_ELEMENTWISE_PRIMITIVE(Sin)
UMA_ELEMENTWISE_PRIMITIVE(Cos)
UMA_ELEMENTWISE_PRIMITIVE(Tan)
UMA_ELEMENTWISE_PRIMITIVE(ArcSin)
UMA_ELEMENTWISE_PRIMITIVE(ArcCos)
UMA_ELEMENTWISE_PRIMITIVE(ArcTan)
UMA_ELEMENTWISE_PRIMITIVE(Sinh)
UMA_ELEMENTWISE_PRIMITIVE(Cosh)
UMA_ELEMENTWISE_PRIMITIVE(Tanh)
UMA_ELEMENTWISE_PRIMITIVE(ArcSinh)
UMA_ELEMENTWISE_PRIMITIVE(ArcCosh)
UMA_ELEMENTWISE_PRIMITIVE(ArcTanh)
UMA_ELEMENTWISE_PRIMITIVE(Erf)
UMA_ELEMENTWISE_PRIMITIVE(ErfInv)
UMA_ELEMENTWISE_PRIMITIVE(Sigmoid)
UMA_ELEMENTWISE_PRIMITIVE(Floor)
UMA_ELEMENTWISE_PRIMITIVE(Ceil)
UMA_ELEMENTWISE_PRIMITIVE(Round)  // half to even
UMA_ELEMENTWISE_PRIMITIVE(LogicalNot)
UMA_ELEMENTWISE_PRIMITIVE(BitwiseInvert)
UMA_ELEMENTWISE_PRIMITIVE(StopGradient)
UMA_ELEMENTWISE_PRIMITIVE(Real)  // complex64 -> float32
UMA_ELEMENTWISE_PRIMITIVE(Imag)
UMA_ELEMENTWISE_PRIMITIVE(Conjugate)

// --- binary: out = f(a, b); a and b have the same shape and dtype.
UMA_ELEMENTWISE_PRIMITIVE(Add)
UMA_ELEMENTWISE_PRIMITIVE(Subtract)
UMA_ELEMENTWISE_PRIMITIVE(Multiply)
UMA_ELEMENTWISE_PRIMITIVE(Divide)       // floats: a / b
UMA_ELEMENTWISE_PRIMITIVE(FloorDivide)  // integers: floor(a / b); x // 0 == 0
UMA_ELEMENTWISE_PRIMITIVE(Remainder)    // sign of b; integer x % 0 == 0
UMA_ELEMENTWISE_PRIMITIVE(Power)
UMA_ELEMENTWISE_PRIMITIVE(Maximum)  // NaN propagates
UMA_ELEMENTWISE_PRIMITIVE(Minimum)
UMA_ELEMENTWISE_PRIMITIVE(ArcTan2)
UMA_ELEMENTWISE_PRIMITIVE(LogAddExp)
UMA_ELEMENTWISE_PRIMITIVE(NotEqual)
UMA_ELEMENTWISE_PRIMITIVE(Less)
UMA_ELEMENTWISE_PRIMITIVE(LessEqual)
UMA_ELEMENTWISE_PRIMITIVE(Greater)
UMA_ELEMENTWISE_PRIMITIVE(GreaterEqual)
UMA_ELEMENTWISE_PRIMITIVE(LogicalAnd)
UMA_ELEMENTWISE_PRIMITIVE(LogicalOr)
UMA_ELEMENTWISE_PRIMITIVE(BitwiseAnd)
UMA_ELEMENTWISE_PRIMITIVE(BitwiseOr)
UMA_ELEMENTWISE_PRIMITIVE(BitwiseXor)
UMA_ELEMENTWISE_PRIMITIVE(LeftShift)   // shifts by >= the bit width give 0
UMA_ELEMENTWISE_PRIMITIVE(RightShift)  // (or -1 for negative signed values)

// --- ternary: out = condition ? x : y (condition is bool).
UMA_ELEMENTWISE_PRIMITIVE(Select)

#undef UMA_ELEMENTWISE_PRIMITIVE

// a == b; with equal_nan, NaN equals NaN (array_equal).
class Equal : public UnaryPrimitive {
 public:
  Equal(Stream s, bool equal_nan = false) : UnaryPrimitive(s), equal_nan_(equal_nan) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return equal_nan_ ? "NaNEqual" : "Equal"; }
  bool is_equivalent(const Primitive& o) const override {
    auto* p = dynamic_cast<const Equal*>(&o);
    return p && p->equal_nan_ == equal_nan_;
  }
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override { return {inputs[0].shape()}; }

 private:
  bool equal_nan_;
};

}  // namespace uma
