// Primitives of the elementwise family: one class per op, as MLX. Inputs are
// already promoted and broadcast by the ops (ops/elementwise*.cpp), so every
// output is shaped like the inputs.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

// --- unary: out = f(x); float math sees float inputs only (ops cast ints).
#define UMA_UNARY_PRIMITIVES(X)                                                                          \
  X(Abs) X(Negative) X(Sign) X(Exp) X(Expm1) X(Log) X(Log2) X(Log10) X(Log1p) X(Sqrt) X(Rsqrt) X(Square) \
  X(Sin) X(Cos) X(Tan) X(ArcSin) X(ArcCos) X(ArcTan) X(Sinh) X(Cosh) X(Tanh) X(ArcSinh) X(ArcCosh)     \
  X(ArcTanh) X(Erf) X(ErfInv) X(Sigmoid) X(Floor) X(Ceil)                                                \
  X(Round) /* half to even */                                                                            \
  X(LogicalNot) X(BitwiseInvert) X(StopGradient)                                                         \
  X(Real) /* complex64 -> float32 */                                                                     \
  X(Imag) X(Conjugate)

// --- binary: out = f(a, b); a and b have the same shape and dtype.
#define UMA_BINARY_PRIMITIVES(X)                                                  \
  X(Add) X(Subtract) X(Multiply)                                                  \
  X(Divide)      /* floats: a / b */                                              \
  X(FloorDivide) /* integers: floor(a / b); x // 0 == 0 */                        \
  X(Remainder)   /* sign of b; integer x % 0 == 0 */                              \
  X(Power)                                                                        \
  X(Maximum) /* NaN propagates */                                                 \
  X(Minimum) X(ArcTan2) X(LogAddExp) X(NotEqual) X(Less) X(LessEqual) X(Greater) \
  X(GreaterEqual) X(LogicalAnd) X(LogicalOr) X(BitwiseAnd) X(BitwiseOr)           \
  X(BitwiseXor)                                                                   \
  X(LeftShift)  /* shifts by >= the bit width give 0 */                           \
  X(RightShift) /* (or -1 for negative signed values) */

// --- ternary: out = condition ? x : y (condition is bool).
#define UMA_TERNARY_PRIMITIVES(X) X(Select)

// The whole family: the stateless classes above and Equal, which carries a
// parameter and so is written out below.
#define UMA_ELEMENTWISE_PRIMITIVES(X) \
  UMA_UNARY_PRIMITIVES(X) UMA_BINARY_PRIMITIVES(X) UMA_TERNARY_PRIMITIVES(X) X(Equal)

// A stateless elementwise primitive: equivalent to any other instance of
// its class.
#define UMA_STATELESS_ELEMENTWISE(NAME)            \
  class NAME : public UnaryPrimitive {             \
   public:                                         \
    explicit NAME(Stream s) : UnaryPrimitive(s) {} \
    UMA_DECLARE_PRIMITIVE()                        \
  };
UMA_UNARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
UMA_BINARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
UMA_TERNARY_PRIMITIVES(UMA_STATELESS_ELEMENTWISE)
#undef UMA_STATELESS_ELEMENTWISE

// a == b; with equal_nan, NaN equals NaN (array_equal).
class Equal : public UnaryPrimitive {
 public:
  Equal(Stream s, bool equal_nan = false) : UnaryPrimitive(s), equal_nan_(equal_nan) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  bool equal_nan_;
};

}  // namespace uma
