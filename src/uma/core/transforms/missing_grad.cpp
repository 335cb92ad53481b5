// Gradient rules not written yet, one line per primitive: UMA_NO_VJP(P) and
// UMA_NO_JVP(P) define P::vjp / P::jvp to throw not_implemented("[<name>] has
// no <transform> rule yet"). Writing a rule (with ops, in
// primitives/<family>.cpp or <family>_grad.cpp) takes its macro off the line.
// The vmap list is missing_vmap.cpp.
#include "uma/core/primitives/all.h"

namespace uma {

// elementwise
UMA_NO_VJP(Abs) UMA_NO_JVP(Abs)
UMA_NO_VJP(Negative) UMA_NO_JVP(Negative)
UMA_NO_VJP(Sign) UMA_NO_JVP(Sign)
UMA_NO_VJP(Exp) UMA_NO_JVP(Exp)
UMA_NO_VJP(Expm1) UMA_NO_JVP(Expm1)
UMA_NO_VJP(Log) UMA_NO_JVP(Log)
UMA_NO_VJP(Log2) UMA_NO_JVP(Log2)
UMA_NO_VJP(Log10) UMA_NO_JVP(Log10)
UMA_NO_VJP(Log1p) UMA_NO_JVP(Log1p)
UMA_NO_VJP(Sqrt) UMA_NO_JVP(Sqrt)
UMA_NO_VJP(Rsqrt) UMA_NO_JVP(Rsqrt)
UMA_NO_VJP(Square) UMA_NO_JVP(Square)
UMA_NO_VJP(Sin) UMA_NO_JVP(Sin)
UMA_NO_VJP(Cos) UMA_NO_JVP(Cos)
UMA_NO_VJP(Tan) UMA_NO_JVP(Tan)
UMA_NO_VJP(ArcSin) UMA_NO_JVP(ArcSin)
UMA_NO_VJP(ArcCos) UMA_NO_JVP(ArcCos)
UMA_NO_VJP(ArcTan) UMA_NO_JVP(ArcTan)
UMA_NO_VJP(Sinh) UMA_NO_JVP(Sinh)
UMA_NO_VJP(Cosh) UMA_NO_JVP(Cosh)
UMA_NO_VJP(Tanh) UMA_NO_JVP(Tanh)
UMA_NO_VJP(ArcSinh) UMA_NO_JVP(ArcSinh)
UMA_NO_VJP(ArcCosh) UMA_NO_JVP(ArcCosh)
UMA_NO_VJP(ArcTanh) UMA_NO_JVP(ArcTanh)
UMA_NO_VJP(Erf) UMA_NO_JVP(Erf)
UMA_NO_VJP(ErfInv) UMA_NO_JVP(ErfInv)
UMA_NO_VJP(Sigmoid) UMA_NO_JVP(Sigmoid)
UMA_NO_VJP(Floor) UMA_NO_JVP(Floor)
UMA_NO_VJP(Ceil) UMA_NO_JVP(Ceil)
UMA_NO_VJP(Round) UMA_NO_JVP(Round)
UMA_NO_VJP(LogicalNot) UMA_NO_JVP(LogicalNot)
UMA_NO_VJP(BitwiseInvert) UMA_NO_JVP(BitwiseInvert)
UMA_NO_VJP(StopGradient) UMA_NO_JVP(StopGradient)
UMA_NO_VJP(Real) UMA_NO_JVP(Real)
UMA_NO_VJP(Imag) UMA_NO_JVP(Imag)
UMA_NO_VJP(Conjugate) UMA_NO_JVP(Conjugate)
UMA_NO_VJP(Add) UMA_NO_JVP(Add)
UMA_NO_VJP(Subtract) UMA_NO_JVP(Subtract)
UMA_NO_VJP(Multiply) UMA_NO_JVP(Multiply)
UMA_NO_VJP(Divide) UMA_NO_JVP(Divide)
UMA_NO_VJP(FloorDivide) UMA_NO_JVP(FloorDivide)
UMA_NO_VJP(Remainder) UMA_NO_JVP(Remainder)
UMA_NO_VJP(Power) UMA_NO_JVP(Power)
UMA_NO_VJP(Maximum) UMA_NO_JVP(Maximum)
UMA_NO_VJP(Minimum) UMA_NO_JVP(Minimum)
UMA_NO_VJP(ArcTan2) UMA_NO_JVP(ArcTan2)
UMA_NO_VJP(LogAddExp) UMA_NO_JVP(LogAddExp)
UMA_NO_VJP(NotEqual) UMA_NO_JVP(NotEqual)
UMA_NO_VJP(Less) UMA_NO_JVP(Less)
UMA_NO_VJP(LessEqual) UMA_NO_JVP(LessEqual)
UMA_NO_VJP(Greater) UMA_NO_JVP(Greater)
UMA_NO_VJP(GreaterEqual) UMA_NO_JVP(GreaterEqual)
UMA_NO_VJP(LogicalAnd) UMA_NO_JVP(LogicalAnd)
UMA_NO_VJP(LogicalOr) UMA_NO_JVP(LogicalOr)
UMA_NO_VJP(BitwiseAnd) UMA_NO_JVP(BitwiseAnd)
UMA_NO_VJP(BitwiseOr) UMA_NO_JVP(BitwiseOr)
UMA_NO_VJP(BitwiseXor) UMA_NO_JVP(BitwiseXor)
UMA_NO_VJP(LeftShift) UMA_NO_JVP(LeftShift)
UMA_NO_VJP(RightShift) UMA_NO_JVP(RightShift)
UMA_NO_VJP(Select) UMA_NO_JVP(Select)
UMA_NO_VJP(Equal) UMA_NO_JVP(Equal)

// shape (rules in primitives/shape_grad.cpp). View reinterprets bits: the
// map from its input's values to its output's is not differentiable (not even
// continuous), so it has no rule, as in MLX.
UMA_NO_VJP(View) UMA_NO_JVP(View)

// quantized (QuantizedMatmul's and GatherQMM's vjp and jvp for x, and
// Dequantize's, in primitives/quantized.cpp). Quantize has no rule: its
// codes are integers and its scales and biases are snapped by rounding
// (edge value to a code, zero onto a code), so a derivative would be zero
// or a choice of estimator (straight-through, ...); write that choice with
// custom_vjp where a model needs it.
UMA_NO_VJP(Quantize) UMA_NO_JVP(Quantize)

// fast (Custom::fallback() is the natural first rule)
UMA_NO_VJP(fast::RMSNorm) UMA_NO_JVP(fast::RMSNorm)
UMA_NO_VJP(fast::LayerNorm) UMA_NO_JVP(fast::LayerNorm)
UMA_NO_VJP(fast::RoPE) UMA_NO_JVP(fast::RoPE)
UMA_NO_VJP(fast::ScaledDotProductAttention) UMA_NO_JVP(fast::ScaledDotProductAttention)

}  // namespace uma
