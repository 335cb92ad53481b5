// Elementwise ops: unary math, binary arithmetic/comparison/logic/bitwise,
// where and clip. Binary ops broadcast and promote (uma::promote_types).
// Unary float math on integer inputs computes in float32 (MLX's rule).
#pragma once

#include <optional>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// --- unary
array abs(const array& a, StreamOrDevice s = {});
array positive(const array& a, StreamOrDevice s = {});  // a itself (as MLX)
array negative(const array& a, StreamOrDevice s = {});
array sign(const array& a, StreamOrDevice s = {});  // -1, 0, 1; NaN stays NaN; complex: a / |a|
array exp(const array& a, StreamOrDevice s = {});
array expm1(const array& a, StreamOrDevice s = {});
array log(const array& a, StreamOrDevice s = {});
array log1p(const array& a, StreamOrDevice s = {});
array log2(const array& a, StreamOrDevice s = {});
array log10(const array& a, StreamOrDevice s = {});
array sqrt(const array& a, StreamOrDevice s = {});
array rsqrt(const array& a, StreamOrDevice s = {});
array square(const array& a, StreamOrDevice s = {});
array reciprocal(const array& a, StreamOrDevice s = {});
array sin(const array& a, StreamOrDevice s = {});
array cos(const array& a, StreamOrDevice s = {});
array tan(const array& a, StreamOrDevice s = {});
array arcsin(const array& a, StreamOrDevice s = {});
array arccos(const array& a, StreamOrDevice s = {});
array arctan(const array& a, StreamOrDevice s = {});
array sinh(const array& a, StreamOrDevice s = {});
array cosh(const array& a, StreamOrDevice s = {});
array tanh(const array& a, StreamOrDevice s = {});
array arcsinh(const array& a, StreamOrDevice s = {});
array arccosh(const array& a, StreamOrDevice s = {});
array arctanh(const array& a, StreamOrDevice s = {});
array degrees(const array& a, StreamOrDevice s = {});
array radians(const array& a, StreamOrDevice s = {});
array erf(const array& a, StreamOrDevice s = {});
array erfinv(const array& a, StreamOrDevice s = {});
array sigmoid(const array& a, StreamOrDevice s = {});
array floor(const array& a, StreamOrDevice s = {});
array ceil(const array& a, StreamOrDevice s = {});
array trunc(const array& a, StreamOrDevice s = {});  // toward zero; ints and bool unchanged; not complex
array round(const array& a, int decimals = 0, StreamOrDevice s = {});  // half to even
array isnan(const array& a, StreamOrDevice s = {});
array isinf(const array& a, StreamOrDevice s = {});
array isfinite(const array& a, StreamOrDevice s = {});
array isposinf(const array& a, StreamOrDevice s = {});
array isneginf(const array& a, StreamOrDevice s = {});
array nan_to_num(const array& a, float nan = 0.0f, std::optional<float> posinf = std::nullopt,
                 std::optional<float> neginf = std::nullopt, StreamOrDevice s = {});
array logical_not(const array& a, StreamOrDevice s = {});
array bitwise_invert(const array& a, StreamOrDevice s = {});
array stop_gradient(const array& a, StreamOrDevice s = {});
array real(const array& a, StreamOrDevice s = {});
array imag(const array& a, StreamOrDevice s = {});
array conjugate(const array& a, StreamOrDevice s = {});

// --- binary
array add(const array& a, const array& b, StreamOrDevice s = {});
array subtract(const array& a, const array& b, StreamOrDevice s = {});
array multiply(const array& a, const array& b, StreamOrDevice s = {});
array divide(const array& a, const array& b, StreamOrDevice s = {});  // true division: ints -> float32
// Integers: floor of the exact quotient, x // 0 == 0, INT_MIN // -1 wraps.
// Floats: floor(a / b) as MLX (NumPy's fmod-based result can differ by one).
array floor_divide(const array& a, const array& b, StreamOrDevice s = {});
array remainder(const array& a, const array& b, StreamOrDevice s = {});  // sign of the divisor (Python); int x % 0 == 0
std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s = {});
// Integers: exact, wrapping; a negative exponent gives 0 unless |base| == 1.
array power(const array& a, const array& b, StreamOrDevice s = {});
array maximum(const array& a, const array& b, StreamOrDevice s = {});  // NaN propagates
array minimum(const array& a, const array& b, StreamOrDevice s = {});
array arctan2(const array& a, const array& b, StreamOrDevice s = {});
array logaddexp(const array& a, const array& b, StreamOrDevice s = {});
array equal(const array& a, const array& b, StreamOrDevice s = {});
array not_equal(const array& a, const array& b, StreamOrDevice s = {});
array less(const array& a, const array& b, StreamOrDevice s = {});
array less_equal(const array& a, const array& b, StreamOrDevice s = {});
array greater(const array& a, const array& b, StreamOrDevice s = {});
array greater_equal(const array& a, const array& b, StreamOrDevice s = {});
array logical_and(const array& a, const array& b, StreamOrDevice s = {});
array logical_or(const array& a, const array& b, StreamOrDevice s = {});
array logical_xor(const array& a, const array& b, StreamOrDevice s = {});  // bool(a) != bool(b)
array bitwise_and(const array& a, const array& b, StreamOrDevice s = {});
array bitwise_or(const array& a, const array& b, StreamOrDevice s = {});
array bitwise_xor(const array& a, const array& b, StreamOrDevice s = {});
// Shifts by a negative amount or >= the bit width give 0 (-1 for a negative
// value shifted right); bool inputs shift as uint8.
array left_shift(const array& a, const array& b, StreamOrDevice s = {});
array right_shift(const array& a, const array& b, StreamOrDevice s = {});
array isclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false,
              StreamOrDevice s = {});
array allclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false,
               StreamOrDevice s = {});
array array_equal(const array& a, const array& b, bool equal_nan = false, StreamOrDevice s = {});

// --- ternary
array where(const array& condition, const array& x, const array& y, StreamOrDevice s = {});
array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max,
           StreamOrDevice s = {});

// --- operators. A C++ number next to an array takes the array's dtype when
// that loses nothing of its kind (x_bf16 * 0.5 stays bfloat16; int_array *
// 0.5 becomes float32), as MLX's Python scalars do.
array operator-(const array& a);
array operator!(const array& a);
array operator~(const array& a);
#define UMA_BINARY_OPERATOR(OP)                        \
  array operator OP(const array& a, const array& b);   \
  array operator OP(const array& a, double b);         \
  array operator OP(double a, const array& b);
UMA_BINARY_OPERATOR(+)
UMA_BINARY_OPERATOR(-)
UMA_BINARY_OPERATOR(*)
UMA_BINARY_OPERATOR(/)
UMA_BINARY_OPERATOR(%)
UMA_BINARY_OPERATOR(==)
UMA_BINARY_OPERATOR(!=)
UMA_BINARY_OPERATOR(<)
UMA_BINARY_OPERATOR(<=)
UMA_BINARY_OPERATOR(>)
UMA_BINARY_OPERATOR(>=)
UMA_BINARY_OPERATOR(&&)
UMA_BINARY_OPERATOR(||)
UMA_BINARY_OPERATOR(&)
UMA_BINARY_OPERATOR(|)
UMA_BINARY_OPERATOR(^)
UMA_BINARY_OPERATOR(<<)
UMA_BINARY_OPERATOR(>>)
#undef UMA_BINARY_OPERATOR

// The array a C++ scalar becomes next to `like` (the weak scalar rule above).
array weak_scalar(double v, const array& like);

}  // namespace uma
