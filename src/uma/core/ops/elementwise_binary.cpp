// Binary elementwise ops and the C++ operators (MLX semantics): promote with
// promote_types, broadcast with views, record one primitive.
#include <cmath>

#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/elementwise_impl.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

using detail::at_least_float;
using detail::binary_node;
using detail::reject_complex;

namespace {

// Same dtype out as in (after promotion).
template <typename P>
array arith(const char* op, const array& a, const array& b, StreamOrDevice s, bool complex_ok = true) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (!complex_ok) reject_complex(op, t);
  return binary_node<P>(op, a, b, t, t, s);
}

template <typename P>
array float_arith(const char* op, const array& a, const array& b, StreamOrDevice s, bool complex_ok = true) {
  Dtype t = at_least_float(promote_types(a.dtype(), b.dtype()));
  if (!complex_ok) reject_complex(op, t);
  return binary_node<P>(op, a, b, t, t, s);
}

template <typename P>
array compare(const char* op, const array& a, const array& b, StreamOrDevice s, bool complex_ok) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (!complex_ok) reject_complex(op, t);
  return binary_node<P>(op, a, b, t, bool_, s);
}

template <typename P>
array bitwise(const char* op, const array& a, const array& b, StreamOrDevice s, bool shift = false) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  if (is_inexact(t)) {
    throw std::invalid_argument(std::string("[") + op + "] only integer and bool types are supported, got " +
                                dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
  }
  if (shift && t == bool_) t = uint8;
  return binary_node<P>(op, a, b, t, t, s);
}

}  // namespace

array add(const array& a, const array& b, StreamOrDevice s) { return arith<Add>("add", a, b, s); }
array subtract(const array& a, const array& b, StreamOrDevice s) { return arith<Subtract>("subtract", a, b, s); }
array multiply(const array& a, const array& b, StreamOrDevice s) { return arith<Multiply>("multiply", a, b, s); }
array divide(const array& a, const array& b, StreamOrDevice s) { return float_arith<Divide>("divide", a, b, s); }

array floor_divide(const array& a, const array& b, StreamOrDevice s) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  reject_complex("floor_divide", t);
  if (is_floating_point(t)) return floor(divide(a, b, s), s);
  return binary_node<FloorDivide>("floor_divide", a, b, t, t, s);
}

array remainder(const array& a, const array& b, StreamOrDevice s) {
  return arith<Remainder>("remainder", a, b, s, false);
}

std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s) {
  return {floor_divide(a, b, s), remainder(a, b, s)};
}

array power(const array& a, const array& b, StreamOrDevice s) { return arith<Power>("power", a, b, s); }
array maximum(const array& a, const array& b, StreamOrDevice s) { return arith<Maximum>("maximum", a, b, s, false); }
array minimum(const array& a, const array& b, StreamOrDevice s) { return arith<Minimum>("minimum", a, b, s, false); }
array arctan2(const array& a, const array& b, StreamOrDevice s) {
  return float_arith<ArcTan2>("arctan2", a, b, s, false);
}
array logaddexp(const array& a, const array& b, StreamOrDevice s) {
  return float_arith<LogAddExp>("logaddexp", a, b, s, false);
}

array equal(const array& a, const array& b, StreamOrDevice s) { return compare<Equal>("equal", a, b, s, true); }
array not_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare<NotEqual>("not_equal", a, b, s, true);
}
array less(const array& a, const array& b, StreamOrDevice s) { return compare<Less>("less", a, b, s, false); }
array less_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare<LessEqual>("less_equal", a, b, s, false);
}
array greater(const array& a, const array& b, StreamOrDevice s) { return compare<Greater>("greater", a, b, s, false); }
array greater_equal(const array& a, const array& b, StreamOrDevice s) {
  return compare<GreaterEqual>("greater_equal", a, b, s, false);
}

array logical_and(const array& a, const array& b, StreamOrDevice s) {
  return binary_node<LogicalAnd>("logical_and", a, b, bool_, bool_, s);
}
array logical_or(const array& a, const array& b, StreamOrDevice s) {
  return binary_node<LogicalOr>("logical_or", a, b, bool_, bool_, s);
}

// As MLX: not_equal of the two cast to bool.
array logical_xor(const array& a, const array& b, StreamOrDevice s) {
  return not_equal(astype(a, bool_, s), astype(b, bool_, s), s);
}

array bitwise_and(const array& a, const array& b, StreamOrDevice s) { return bitwise<BitwiseAnd>("bitwise_and", a, b, s); }
array bitwise_or(const array& a, const array& b, StreamOrDevice s) { return bitwise<BitwiseOr>("bitwise_or", a, b, s); }
array bitwise_xor(const array& a, const array& b, StreamOrDevice s) { return bitwise<BitwiseXor>("bitwise_xor", a, b, s); }
array left_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise<LeftShift>("left_shift", a, b, s, true);
}
array right_shift(const array& a, const array& b, StreamOrDevice s) {
  return bitwise<RightShift>("right_shift", a, b, s, true);
}

// --- weak scalars and operators
array weak_scalar(double v, const array& like) {
  Dtype t = like.dtype();
  // Integral values that fit int64 keep an integer array's dtype (wrapping
  // into it like MLX); anything else next to integers or bool is float32.
  bool integral = std::isfinite(v) && v == std::trunc(v) && std::abs(v) < 9.2e18;
  switch (kind_of(t)) {
    case DtypeKind::floating:
    case DtypeKind::complex: return array(v, t);
    case DtypeKind::signed_int:
    case DtypeKind::unsigned_int: return integral ? array(int64_t(v), t) : array(v, float32);
    case DtypeKind::boolean: return integral ? array(int64_t(v), int32) : array(v, float32);
  }
  return array(v, t);
}

array operator-(const array& a) { return negative(a); }
array operator!(const array& a) { return logical_not(a); }
array operator~(const array& a) { return bitwise_invert(a); }

#define UMA_BINARY_OPERATOR(OP, FN)                                                          \
  array operator OP(const array& a, const array& b) { return FN(a, b); }                     \
  array operator OP(const array& a, double b) { return FN(a, weak_scalar(b, a)); }           \
  array operator OP(double a, const array& b) { return FN(weak_scalar(a, b), b); }
UMA_BINARY_OPERATOR(+, add)
UMA_BINARY_OPERATOR(-, subtract)
UMA_BINARY_OPERATOR(*, multiply)
UMA_BINARY_OPERATOR(/, divide)
UMA_BINARY_OPERATOR(%, remainder)
UMA_BINARY_OPERATOR(==, equal)
UMA_BINARY_OPERATOR(!=, not_equal)
UMA_BINARY_OPERATOR(<, less)
UMA_BINARY_OPERATOR(<=, less_equal)
UMA_BINARY_OPERATOR(>, greater)
UMA_BINARY_OPERATOR(>=, greater_equal)
UMA_BINARY_OPERATOR(&&, logical_and)
UMA_BINARY_OPERATOR(||, logical_or)
UMA_BINARY_OPERATOR(&, bitwise_and)
UMA_BINARY_OPERATOR(|, bitwise_or)
UMA_BINARY_OPERATOR(^, bitwise_xor)
UMA_BINARY_OPERATOR(<<, left_shift)
UMA_BINARY_OPERATOR(>>, right_shift)
#undef UMA_BINARY_OPERATOR

}  // namespace uma
