// Gradient rules of the elementwise family, written with ops so that they can
// be differentiated again. Conventions, shared with MLX:
// - a smooth f has jvp t * f'(x) and vjp c * conj(f'(x)); a binary one with
//   partials da, db has jvp ta * da + tb * db and vjps c * conj(da),
//   c * conj(db). For complex64 this makes the vjp the adjoint of the jvp
//   under the real inner product Re(conj(a) b), and the gradient of a real
//   loss dL/dRe + i dL/dIm; conj is a no-op for real dtypes;
// - piecewise-constant and integer- or bool-valued primitives, and
//   StopGradient, have zero gradients.
// The ops have already broadcast and promoted the inputs, so every cotangent
// is shaped and typed like its input.
#include <cmath>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

// A smooth unary primitive P built by op, with derivative D: an expression in
// x, out (= op(x): the recorded output in vjp, rebuilt in jvp), the stream s
// and k(v), the constant v in x's dtype.
#define UMA_SMOOTH_UNARY(P, op, D)                                                                   \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents, \
                            const std::vector<int>&, const std::vector<array>& outputs) {            \
    Stream s = stream();                                                                             \
    [[maybe_unused]] const array& x = primals[0];                                                    \
    [[maybe_unused]] const array& out = outputs[0];                                                  \
    [[maybe_unused]] auto k = [&](double v) { return array(v, x.dtype()); };                         \
    return {multiply(cotangents[0], conjugate(D, s), s)};                                            \
  }                                                                                                  \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,   \
                            const std::vector<int>&) {                                               \
    Stream s = stream();                                                                             \
    [[maybe_unused]] const array& x = primals[0];                                                    \
    [[maybe_unused]] array out = op(x, s);                                                           \
    [[maybe_unused]] auto k = [&](double v) { return array(v, x.dtype()); };                         \
    return {multiply(tangents[0], D, s)};                                                            \
  }

UMA_SMOOTH_UNARY(Exp, exp, out)
UMA_SMOOTH_UNARY(Expm1, expm1, add(out, k(1), s))
UMA_SMOOTH_UNARY(Log, log, reciprocal(x, s))
UMA_SMOOTH_UNARY(Log2, log2, reciprocal(multiply(x, k(M_LN2), s), s))
UMA_SMOOTH_UNARY(Log10, log10, reciprocal(multiply(x, k(M_LN10), s), s))
UMA_SMOOTH_UNARY(Log1p, log1p, reciprocal(add(x, k(1), s), s))
UMA_SMOOTH_UNARY(Sqrt, sqrt, divide(k(0.5), out, s))
UMA_SMOOTH_UNARY(Rsqrt, rsqrt, multiply(k(-0.5), divide(out, x, s), s))  // -x^(-3/2) / 2
UMA_SMOOTH_UNARY(Square, square, multiply(k(2), x, s))
UMA_SMOOTH_UNARY(Sin, sin, cos(x, s))
UMA_SMOOTH_UNARY(Cos, cos, negative(sin(x, s), s))
UMA_SMOOTH_UNARY(Tan, tan, add(k(1), square(out, s), s))
UMA_SMOOTH_UNARY(ArcSin, arcsin, rsqrt(subtract(k(1), square(x, s), s), s))
UMA_SMOOTH_UNARY(ArcCos, arccos, negative(rsqrt(subtract(k(1), square(x, s), s), s), s))
UMA_SMOOTH_UNARY(ArcTan, arctan, reciprocal(add(k(1), square(x, s), s), s))
UMA_SMOOTH_UNARY(Sinh, sinh, cosh(x, s))
UMA_SMOOTH_UNARY(Cosh, cosh, sinh(x, s))
UMA_SMOOTH_UNARY(Tanh, tanh, subtract(k(1), square(out, s), s))
UMA_SMOOTH_UNARY(ArcSinh, arcsinh, rsqrt(add(square(x, s), k(1), s), s))
UMA_SMOOTH_UNARY(ArcCosh, arccosh, rsqrt(subtract(square(x, s), k(1), s), s))
UMA_SMOOTH_UNARY(ArcTanh, arctanh, reciprocal(subtract(k(1), square(x, s), s), s))
UMA_SMOOTH_UNARY(Erf, erf, multiply(k(M_2_SQRTPI), exp(negative(square(x, s), s), s), s))
UMA_SMOOTH_UNARY(ErfInv, erfinv, multiply(k(1 / M_2_SQRTPI), exp(square(out, s), s), s))
UMA_SMOOTH_UNARY(Sigmoid, sigmoid, multiply(out, subtract(k(1), out, s), s))
#undef UMA_SMOOTH_UNARY

// --- linear
std::vector<array> Negative::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                 const std::vector<int>&, const std::vector<array>&) {
  return {negative(cotangents[0], stream())};
}
std::vector<array> Negative::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                 const std::vector<int>&) {
  return {negative(tangents[0], stream())};
}

std::vector<array> Conjugate::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>&) {
  return {conjugate(cotangents[0], stream())};
}
std::vector<array> Conjugate::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {conjugate(tangents[0], stream())};
}

// Real and Imag take complex64 to float32: the cotangent c comes back as c
// and i c (the parts it is the derivative with respect to).
std::vector<array> Real::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  return {astype(cotangents[0], primals[0].dtype(), stream())};
}
std::vector<array> Real::jvp(const std::vector<array>&, const std::vector<array>& tangents, const std::vector<int>&) {
  return {real(tangents[0], stream())};
}

std::vector<array> Imag::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  Stream s = stream();
  return {multiply(array(complex64_t(0.f, 1.f), primals[0].dtype()), astype(cotangents[0], primals[0].dtype(), s), s)};
}
std::vector<array> Imag::jvp(const std::vector<array>&, const std::vector<array>& tangents, const std::vector<int>&) {
  return {imag(tangents[0], stream())};
}

// --- |x| and sign(x): sign(x) and zero for real x; for complex z, with
// s = z / |z|, d|z| = Re(conj(s) dz) and d sign(z) = (dz - s Re(conj(s) dz)) / |z|,
// a self-adjoint map.
std::vector<array> Abs::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                            const std::vector<int>&, const std::vector<array>&) {
  Stream s = stream();
  const array& x = primals[0];
  return {multiply(astype(cotangents[0], x.dtype(), s), sign(x, s), s)};
}
std::vector<array> Abs::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>&) {
  Stream s = stream();
  const array& x = primals[0];
  if (x.dtype() != complex64) return {multiply(tangents[0], sign(x, s), s)};
  return {real(multiply(tangents[0], conjugate(sign(x, s), s), s), s)};
}

namespace {
// Zero at z = 0, where sign jumps.
array complex_sign_jvp(const array& z, const array& t, Stream s) {
  array u = sign(z, s), r = abs(z, s);
  array along = astype(real(multiply(conjugate(u, s), t, s), s), complex64, s);
  array d = divide(subtract(t, multiply(u, along, s), s), astype(r, complex64, s), s);
  return where(equal(r, zeros_like(r, s), s), zeros_like(z, s), d, s);
}
}  // namespace

std::vector<array> Sign::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>& argnums, const std::vector<array>&) {
  return jvp(primals, cotangents, argnums);
}
std::vector<array> Sign::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  const array& x = primals[0];
  if (x.dtype() == complex64) return {complex_sign_jvp(x, tangents[0], stream())};
  return {zeros_like(x, stream())};
}

// --- zero gradients: piecewise constant (Floor, Ceil, Round), integer or
// bool valued (LogicalNot, BitwiseInvert), or cut off (StopGradient). The
// output is shaped and typed like the input.
#define UMA_ZERO_GRAD_UNARY(P)                                                                                       \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>&, const std::vector<int>&,   \
                            const std::vector<array>&) {                                                             \
    return {zeros_like(primals[0], stream())};                                                                       \
  }                                                                                                                  \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>&, const std::vector<int>&) { \
    return {zeros_like(primals[0], stream())};                                                                       \
  }
UMA_ZERO_GRAD_UNARY(Floor)
UMA_ZERO_GRAD_UNARY(Ceil)
UMA_ZERO_GRAD_UNARY(Round)
UMA_ZERO_GRAD_UNARY(LogicalNot)
UMA_ZERO_GRAD_UNARY(BitwiseInvert)
UMA_ZERO_GRAD_UNARY(StopGradient)
#undef UMA_ZERO_GRAD_UNARY

// ======== binary and ternary

namespace {

// One cotangent per traced input.
template <typename F>
std::vector<array> per_input(const std::vector<int>& argnums, F&& term) {
  std::vector<array> out;
  for (int i : argnums) out.push_back(term(i));
  return out;
}

// The sum over the traced inputs of term(input, its tangent).
template <typename F>
array sum_over(const std::vector<int>& argnums, const std::vector<array>& tangents, F&& term, Stream s) {
  array out = term(argnums[0], tangents[0]);
  for (size_t i = 1; i < argnums.size(); ++i) out = add(out, term(argnums[i], tangents[i]), s);
  return out;
}

array is_zero(const array& x, Stream s) { return equal(x, zeros_like(x, s), s); }

// d(a^b)/da = b a^(b-1), and 0 where b = 0 (rather than 0 * 0^-1).
array power_da(const array& a, const array& b, Stream s) {
  array d = multiply(b, power(a, subtract(b, ones_like(b, s), s), s), s);
  return where(is_zero(b, s), zeros_like(b, s), d, s);
}

// d(a^b)/db = log(a) a^b, and 0 where a^b = 0 (rather than log 0 * 0);
// zero for integers, whose exponents do not vary continuously.
array power_db(const array& a, const array& out, Stream s) {
  if (!is_inexact(a.dtype())) return zeros_like(a, s);
  return where(is_zero(out, s), zeros_like(out, s), multiply(log(a, s), out, s), s);
}

// a^2 + b^2, the denominator of arctan2's partials.
array norm2(const array& a, const array& b, Stream s) { return add(square(a, s), square(b, s), s); }

}  // namespace

// A smooth binary primitive P built by op, with partials DA and DB:
// expressions in a, b, out (= op(a, b): recorded in vjp, rebuilt in jvp) and
// the stream s. Only the partials of traced inputs are built.
#define UMA_SMOOTH_BINARY(P, op, DA, DB)                                                                          \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,              \
                            const std::vector<int>& argnums, const std::vector<array>& outputs) {                 \
    Stream s = stream();                                                                                          \
    [[maybe_unused]] const array &a = primals[0], &b = primals[1], &out = outputs[0];                             \
    return per_input(argnums, [&](int i) { return multiply(cotangents[0], conjugate(i == 0 ? DA : DB, s), s); }); \
  }                                                                                                               \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,                \
                            const std::vector<int>& argnums) {                                                    \
    Stream s = stream();                                                                                          \
    const array &a = primals[0], &b = primals[1];                                                                 \
    [[maybe_unused]] array out = op(a, b, s);                                                                     \
    auto term = [&](int i, const array& t) { return multiply(t, i == 0 ? DA : DB, s); };                          \
    return {sum_over(argnums, tangents, term, s)};                                                                \
  }

UMA_SMOOTH_BINARY(Multiply, multiply, b, a)
UMA_SMOOTH_BINARY(Divide, divide, reciprocal(b, s), negative(divide(out, b, s), s))
UMA_SMOOTH_BINARY(Power, power, power_da(a, b, s), power_db(a, out, s))
UMA_SMOOTH_BINARY(ArcTan2, arctan2, divide(b, norm2(a, b, s), s), divide(negative(a, s), norm2(a, b, s), s))
UMA_SMOOTH_BINARY(LogAddExp, logaddexp, sigmoid(subtract(a, b, s), s), sigmoid(subtract(b, a, s), s))
#undef UMA_SMOOTH_BINARY

// --- partials of +-1 and 0
std::vector<array> Add::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                            const std::vector<int>& argnums, const std::vector<array>&) {
  return per_input(argnums, [&](int) { return cotangents[0]; });
}
std::vector<array> Add::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                            const std::vector<int>& argnums) {
  auto same = [](int, const array& t) { return t; };
  return {sum_over(argnums, tangents, same, stream())};
}

std::vector<array> Subtract::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>&) {
  return per_input(argnums, [&](int i) { return i == 0 ? cotangents[0] : negative(cotangents[0], stream()); });
}
std::vector<array> Subtract::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) {
  if (argnums.size() == 2) return {subtract(tangents[0], tangents[1], stream())};
  return {argnums[0] == 0 ? tangents[0] : negative(tangents[0], stream())};
}

// a % b = a - b floor(a / b): partials 1 and -floor(a / b) (integer inputs
// included: the quotient is then exact).
std::vector<array> Remainder::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                  const std::vector<int>& argnums, const std::vector<array>&) {
  Stream s = stream();
  return per_input(argnums, [&](int i) {
    if (i == 0) return cotangents[0];
    return negative(multiply(cotangents[0], floor_divide(primals[0], primals[1], s), s), s);
  });
}
std::vector<array> Remainder::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                  const std::vector<int>& argnums) {
  Stream s = stream();
  auto term = [&](int i, const array& t) {
    if (i == 0) return t;
    return negative(multiply(t, floor_divide(primals[0], primals[1], s), s), s);
  };
  return {sum_over(argnums, tangents, term, s)};
}

// --- maximum and minimum: the gradient goes to the chosen input, to b on a
// tie (as MLX), to neither where one is NaN.
namespace {
array pick(const array& mask, const array& x, Stream s) { return where(mask, x, zeros_like(x, s), s); }
}  // namespace

#define UMA_MAX_MIN_GRAD(P, CMP, OTHER)                                                                               \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,                  \
                            const std::vector<int>& argnums, const std::vector<array>&) {                             \
    Stream s = stream();                                                                                              \
    const array &a = primals[0], &b = primals[1];                                                                     \
    return per_input(argnums, [&](int i) { return pick(i == 0 ? CMP(a, b, s) : OTHER(a, b, s), cotangents[0], s); }); \
  }                                                                                                                   \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,                    \
                            const std::vector<int>& argnums) {                                                        \
    Stream s = stream();                                                                                              \
    const array &a = primals[0], &b = primals[1];                                                                     \
    auto term = [&](int i, const array& t) { return pick(i == 0 ? CMP(a, b, s) : OTHER(a, b, s), t, s); };            \
    return {sum_over(argnums, tangents, term, s)};                                                                    \
  }
UMA_MAX_MIN_GRAD(Maximum, greater, less_equal)
UMA_MAX_MIN_GRAD(Minimum, less, greater_equal)
#undef UMA_MAX_MIN_GRAD

// --- select: the condition has no gradient; x and y get the cotangent where
// they were chosen.
std::vector<array> Select::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  Stream s = stream();
  const array &cond = primals[0], &c = cotangents[0];
  return per_input(argnums, [&](int i) {
    if (i == 0) return zeros_like(cond, s);
    return i == 1 ? where(cond, c, zeros_like(c, s), s) : where(cond, zeros_like(c, s), c, s);
  });
}
std::vector<array> Select::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  Stream s = stream();
  const array& cond = primals[0];
  array tx = zeros_like(primals[1], s), ty = zeros_like(primals[2], s);
  for (size_t k = 0; k < argnums.size(); ++k) {
    if (argnums[k] == 1) tx = tangents[k];
    if (argnums[k] == 2) ty = tangents[k];
  }
  return {where(cond, tx, ty, s)};
}

// --- zero gradients: integer or bool results (comparisons, logic, bitwise
// ops and shifts, FloorDivide, which sees integers only).
#define UMA_ZERO_GRAD_BINARY(P, OUT_DTYPE)                                                                           \
  std::vector<array> P::vjp(const std::vector<array>& primals, const std::vector<array>&,                            \
                            const std::vector<int>& argnums, const std::vector<array>&) {                            \
    return per_input(argnums, [&](int i) { return zeros_like(primals[i], stream()); });                              \
  }                                                                                                                  \
  std::vector<array> P::jvp(const std::vector<array>& primals, const std::vector<array>&, const std::vector<int>&) { \
    return {zeros(primals[0].shape(), OUT_DTYPE, stream())};                                                         \
  }
UMA_ZERO_GRAD_BINARY(Equal, bool_)
UMA_ZERO_GRAD_BINARY(NotEqual, bool_)
UMA_ZERO_GRAD_BINARY(Less, bool_)
UMA_ZERO_GRAD_BINARY(LessEqual, bool_)
UMA_ZERO_GRAD_BINARY(Greater, bool_)
UMA_ZERO_GRAD_BINARY(GreaterEqual, bool_)
UMA_ZERO_GRAD_BINARY(LogicalAnd, bool_)
UMA_ZERO_GRAD_BINARY(LogicalOr, bool_)
UMA_ZERO_GRAD_BINARY(BitwiseAnd, primals[0].dtype())
UMA_ZERO_GRAD_BINARY(BitwiseOr, primals[0].dtype())
UMA_ZERO_GRAD_BINARY(BitwiseXor, primals[0].dtype())
UMA_ZERO_GRAD_BINARY(LeftShift, primals[0].dtype())
UMA_ZERO_GRAD_BINARY(RightShift, primals[0].dtype())
UMA_ZERO_GRAD_BINARY(FloorDivide, primals[0].dtype())
#undef UMA_ZERO_GRAD_BINARY

}  // namespace uma
