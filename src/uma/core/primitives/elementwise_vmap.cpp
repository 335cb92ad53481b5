// vmap rules of the elementwise family. A unary primitive maps its batched
// input as it is (the batch axis stays). Binary and ternary inputs share one
// shape: they are brought to one batch axis, the unbatched getting a size-1
// axis there, and the op broadcasts them (inputs already share a dtype, so
// the op promotes nothing).
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/elementwise.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

namespace {

array round0(const array& a, Stream s) { return round(a, 0, s); }

}  // namespace

#define UMA_UNARY_VMAP(P, OP)                                                                             \
  std::pair<std::vector<array>, std::vector<int>> P::vmap(const std::vector<array>& inputs,              \
                                                          const std::vector<int>& axes) {                \
    return {{OP(inputs[0], stream())}, axes};                                                             \
  }
UMA_UNARY_VMAP(Abs, abs)
UMA_UNARY_VMAP(Negative, negative)
UMA_UNARY_VMAP(Sign, sign)
UMA_UNARY_VMAP(Exp, exp)
UMA_UNARY_VMAP(Expm1, expm1)
UMA_UNARY_VMAP(Log, log)
UMA_UNARY_VMAP(Log2, log2)
UMA_UNARY_VMAP(Log10, log10)
UMA_UNARY_VMAP(Log1p, log1p)
UMA_UNARY_VMAP(Sqrt, sqrt)
UMA_UNARY_VMAP(Rsqrt, rsqrt)
UMA_UNARY_VMAP(Square, square)
UMA_UNARY_VMAP(Sin, sin)
UMA_UNARY_VMAP(Cos, cos)
UMA_UNARY_VMAP(Tan, tan)
UMA_UNARY_VMAP(ArcSin, arcsin)
UMA_UNARY_VMAP(ArcCos, arccos)
UMA_UNARY_VMAP(ArcTan, arctan)
UMA_UNARY_VMAP(Sinh, sinh)
UMA_UNARY_VMAP(Cosh, cosh)
UMA_UNARY_VMAP(Tanh, tanh)
UMA_UNARY_VMAP(ArcSinh, arcsinh)
UMA_UNARY_VMAP(ArcCosh, arccosh)
UMA_UNARY_VMAP(ArcTanh, arctanh)
UMA_UNARY_VMAP(Erf, erf)
UMA_UNARY_VMAP(ErfInv, erfinv)
UMA_UNARY_VMAP(Sigmoid, sigmoid)
UMA_UNARY_VMAP(Floor, floor)
UMA_UNARY_VMAP(Ceil, ceil)
UMA_UNARY_VMAP(Round, round0)
UMA_UNARY_VMAP(LogicalNot, logical_not)
UMA_UNARY_VMAP(BitwiseInvert, bitwise_invert)
UMA_UNARY_VMAP(StopGradient, stop_gradient)
UMA_UNARY_VMAP(Real, real)
UMA_UNARY_VMAP(Imag, imag)
UMA_UNARY_VMAP(Conjugate, conjugate)
#undef UMA_UNARY_VMAP

#define UMA_BINARY_VMAP(P, OP)                                                                            \
  std::pair<std::vector<array>, std::vector<int>> P::vmap(const std::vector<array>& inputs,              \
                                                          const std::vector<int>& axes) {                \
    std::vector<array> xs = inputs;                                                                       \
    int ax = detail::align_batch_axes(xs, axes, stream());                                                \
    return {{OP(xs[0], xs[1], stream())}, {ax}};                                                          \
  }
UMA_BINARY_VMAP(Add, add)
UMA_BINARY_VMAP(Subtract, subtract)
UMA_BINARY_VMAP(Multiply, multiply)
UMA_BINARY_VMAP(Divide, divide)
UMA_BINARY_VMAP(FloorDivide, floor_divide)
UMA_BINARY_VMAP(Remainder, remainder)
UMA_BINARY_VMAP(Power, power)
UMA_BINARY_VMAP(Maximum, maximum)
UMA_BINARY_VMAP(Minimum, minimum)
UMA_BINARY_VMAP(ArcTan2, arctan2)
UMA_BINARY_VMAP(LogAddExp, logaddexp)
UMA_BINARY_VMAP(NotEqual, not_equal)
UMA_BINARY_VMAP(Less, less)
UMA_BINARY_VMAP(LessEqual, less_equal)
UMA_BINARY_VMAP(Greater, greater)
UMA_BINARY_VMAP(GreaterEqual, greater_equal)
UMA_BINARY_VMAP(LogicalAnd, logical_and)
UMA_BINARY_VMAP(LogicalOr, logical_or)
UMA_BINARY_VMAP(BitwiseAnd, bitwise_and)
UMA_BINARY_VMAP(BitwiseOr, bitwise_or)
UMA_BINARY_VMAP(BitwiseXor, bitwise_xor)
UMA_BINARY_VMAP(LeftShift, left_shift)
UMA_BINARY_VMAP(RightShift, right_shift)
#undef UMA_BINARY_VMAP

std::pair<std::vector<array>, std::vector<int>> Select::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  std::vector<array> xs = inputs;
  int ax = detail::align_batch_axes(xs, axes, stream());
  return {{where(xs[0], xs[1], xs[2], stream())}, {ax}};
}

// No op spells the NaN-equal comparison elementwise (array_equal reduces),
// so the rule builds the primitive on inputs broadcast to one shape.
std::pair<std::vector<array>, std::vector<int>> Equal::vmap(const std::vector<array>& inputs,
                                                            const std::vector<int>& axes) {
  std::vector<array> xs = inputs;
  int ax = detail::align_batch_axes(xs, axes, stream());
  xs = broadcast_arrays(xs, stream());
  Shape shape = xs[0].shape();
  return {{array(shape, bool_, std::make_shared<Equal>(stream(), equal_nan_), xs)}, {ax}};
}

}  // namespace uma
