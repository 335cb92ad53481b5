// Unary elementwise ops (MLX semantics). Float math on integer or bool input
// computes in float32; ops that have no meaning for complex64 say so.
#include "uma/core/ops/elementwise.h"

#include <cmath>
#include <limits>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise_impl.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

using detail::at_least_float;
using detail::make_node;
using detail::reject_complex;

namespace {

template <typename P>
array same_type(const array& a, StreamOrDevice s) {
  return make_node<P>(a.shape(), a.dtype(), {a}, s);
}

// Float math: integers and bool become float32 first.
template <typename P>
array float_math(const char* op, const array& a, StreamOrDevice s, bool complex_ok = true) {
  Dtype t = at_least_float(a.dtype());
  if (!complex_ok) reject_complex(op, t);
  return make_node<P>(a.shape(), t, {astype(a, t, s)}, s);
}

}  // namespace

array abs(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_ || is_unsigned(a.dtype())) return a;
  Dtype t = a.dtype() == complex64 ? float32 : a.dtype();
  return make_node<Abs>(a.shape(), t, {a}, s);
}

array positive(const array& a, StreamOrDevice) { return a; }

array negative(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_) throw std::invalid_argument("[negative] not supported for bool, use logical_not instead");
  return same_type<Negative>(a, s);
}

array sign(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_) return a;
  return same_type<Sign>(a, s);
}

array exp(const array& a, StreamOrDevice s) { return float_math<Exp>("exp", a, s); }
array expm1(const array& a, StreamOrDevice s) { return float_math<Expm1>("expm1", a, s, false); }
array log(const array& a, StreamOrDevice s) { return float_math<Log>("log", a, s); }
array log1p(const array& a, StreamOrDevice s) { return float_math<Log1p>("log1p", a, s, false); }
array log2(const array& a, StreamOrDevice s) { return float_math<Log2>("log2", a, s); }
array log10(const array& a, StreamOrDevice s) { return float_math<Log10>("log10", a, s); }
array sqrt(const array& a, StreamOrDevice s) { return float_math<Sqrt>("sqrt", a, s); }
array rsqrt(const array& a, StreamOrDevice s) { return float_math<Rsqrt>("rsqrt", a, s); }
array square(const array& a, StreamOrDevice s) { return same_type<Square>(a, s); }
array sin(const array& a, StreamOrDevice s) { return float_math<Sin>("sin", a, s); }
array cos(const array& a, StreamOrDevice s) { return float_math<Cos>("cos", a, s); }
array tan(const array& a, StreamOrDevice s) { return float_math<Tan>("tan", a, s); }
array arcsin(const array& a, StreamOrDevice s) { return float_math<ArcSin>("arcsin", a, s); }
array arccos(const array& a, StreamOrDevice s) { return float_math<ArcCos>("arccos", a, s); }
array arctan(const array& a, StreamOrDevice s) { return float_math<ArcTan>("arctan", a, s); }
array sinh(const array& a, StreamOrDevice s) { return float_math<Sinh>("sinh", a, s); }
array cosh(const array& a, StreamOrDevice s) { return float_math<Cosh>("cosh", a, s); }
array tanh(const array& a, StreamOrDevice s) { return float_math<Tanh>("tanh", a, s); }
array arcsinh(const array& a, StreamOrDevice s) { return float_math<ArcSinh>("arcsinh", a, s); }
array arccosh(const array& a, StreamOrDevice s) { return float_math<ArcCosh>("arccosh", a, s); }
array arctanh(const array& a, StreamOrDevice s) { return float_math<ArcTanh>("arctanh", a, s); }
array erf(const array& a, StreamOrDevice s) { return float_math<Erf>("erf", a, s, false); }
array erfinv(const array& a, StreamOrDevice s) { return float_math<ErfInv>("erfinv", a, s, false); }
array sigmoid(const array& a, StreamOrDevice s) { return float_math<Sigmoid>("sigmoid", a, s, false); }

array reciprocal(const array& a, StreamOrDevice s) {
  Dtype t = at_least_float(a.dtype());
  return divide(array(1, t), astype(a, t, s), s);
}

array degrees(const array& a, StreamOrDevice s) {
  Dtype t = at_least_float(a.dtype());
  reject_complex("degrees", t);
  return multiply(astype(a, t, s), array(180.0 / M_PI, t), s);
}

array radians(const array& a, StreamOrDevice s) {
  Dtype t = at_least_float(a.dtype());
  reject_complex("radians", t);
  return multiply(astype(a, t, s), array(M_PI / 180.0, t), s);
}

array floor(const array& a, StreamOrDevice s) {
  reject_complex("floor", a.dtype());
  if (!is_floating_point(a.dtype())) return a;
  return same_type<Floor>(a, s);
}

array ceil(const array& a, StreamOrDevice s) {
  reject_complex("ceil", a.dtype());
  if (!is_floating_point(a.dtype())) return a;
  return same_type<Ceil>(a, s);
}

// As MLX: ceil below zero, floor elsewhere.
array trunc(const array& a, StreamOrDevice s) {
  reject_complex("trunc", a.dtype());
  if (!is_floating_point(a.dtype())) return a;
  return where(less(a, zeros({}, a.dtype(), s), s), ceil(a, s), floor(a, s), s);
}

// round(x * 10^d) / 10^d, or round(x / 10^-d) * 10^-d for d < 0 so that the
// scale is exact (NumPy's order); integers are returned as is.
array round(const array& a, int decimals, StreamOrDevice s) {
  reject_complex("round", a.dtype());
  if (!is_floating_point(a.dtype())) return a;
  if (decimals == 0) return same_type<Round>(a, s);
  array scale(std::pow(10.0, double(std::abs(decimals))), a.dtype());
  if (decimals < 0) return multiply(same_type<Round>(divide(a, scale, s), s), scale, s);
  return divide(same_type<Round>(multiply(a, scale, s), s), scale, s);
}

array isnan(const array& a, StreamOrDevice s) {
  if (!is_inexact(a.dtype())) return full(a.shape(), false, bool_, s);
  return not_equal(a, a, s);
}

array isposinf(const array& a, StreamOrDevice s) {
  reject_complex("isposinf", a.dtype());
  if (!is_floating_point(a.dtype())) return full(a.shape(), false, bool_, s);
  return equal(a, array(std::numeric_limits<double>::infinity(), a.dtype()), s);
}

array isneginf(const array& a, StreamOrDevice s) {
  reject_complex("isneginf", a.dtype());
  if (!is_floating_point(a.dtype())) return full(a.shape(), false, bool_, s);
  return equal(a, array(-std::numeric_limits<double>::infinity(), a.dtype()), s);
}

array isinf(const array& a, StreamOrDevice s) {
  if (a.dtype() == complex64) return logical_or(isinf(real(a, s), s), isinf(imag(a, s), s), s);
  if (!is_floating_point(a.dtype())) return full(a.shape(), false, bool_, s);
  return equal(abs(a, s), array(std::numeric_limits<double>::infinity(), a.dtype()), s);
}

// |x| < inf is false for inf and NaN (for complex, |x| is inf or NaN then).
array isfinite(const array& a, StreamOrDevice s) {
  if (!is_inexact(a.dtype())) return full(a.shape(), true, bool_, s);
  Dtype t = a.dtype() == complex64 ? float32 : a.dtype();
  return less(abs(a, s), array(std::numeric_limits<double>::infinity(), t), s);
}

// Defaults for +-inf are the dtype's largest finite values.
array nan_to_num(const array& a, float nan, std::optional<float> posinf, std::optional<float> neginf,
                 StreamOrDevice s) {
  Dtype t = a.dtype();
  reject_complex("nan_to_num", t);
  if (!is_floating_point(t)) return a;
  double big = t == float16    ? 65504.0
               : t == bfloat16 ? 3.3895313892515355e38
               : t == float32  ? double(std::numeric_limits<float>::max())
                               : std::numeric_limits<double>::max();
  array out = where(isnan(a, s), array(nan, t), a, s);
  out = where(isposinf(a, s), array(posinf ? double(*posinf) : big, t), out, s);
  return where(isneginf(a, s), array(neginf ? double(*neginf) : -big, t), out, s);
}

array logical_not(const array& a, StreamOrDevice s) {
  return make_node<LogicalNot>(a.shape(), bool_, {astype(a, bool_, s)}, s);
}

array bitwise_invert(const array& a, StreamOrDevice s) {
  if (is_inexact(a.dtype())) {
    throw std::invalid_argument(std::string("[bitwise_invert] only integer and bool types are supported, got ") +
                                dtype_name(a.dtype()));
  }
  return same_type<BitwiseInvert>(a, s);
}

array stop_gradient(const array& a, StreamOrDevice s) { return same_type<StopGradient>(a, s); }

array real(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return make_node<Real>(a.shape(), float32, {a}, s);
}

array imag(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return zeros_like(a, s);
  return make_node<Imag>(a.shape(), float32, {a}, s);
}

array conjugate(const array& a, StreamOrDevice s) {
  if (a.dtype() != complex64) return a;
  return same_type<Conjugate>(a, s);
}

}  // namespace uma
