// Float32 math of the CPU backend, written once against the vector layer
// (vec.h) and instantiated per ISA tier by the file that includes it: the
// elementwise exp/log/tanh/sigmoid kernels and the softmax / logsumexp rows
// (impl.h) at every tier all call these, so `exp` and `softmax` agree to the
// bit wherever they compute the same thing.
#pragma once

#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

// Bounds of exp's range on float32, as float32 values:
// the least x with e^x >= FLT_MIN (e^x at the next float down is below it),
inline constexpr float kExpLo = -87.33654022216797f;
// and the least x whose e^x rounds to +inf (e^x at the next float down is
// below FLT_MAX).
inline constexpr float kExpHi = 88.72283935546875f;

// e^x on float32 lanes. The one exp of the CPU backend.
//
// Method: x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2 (Cody-Waite:
// ln2 in two parts, the first exact in 9 bits); e^r = 1 + r + r^2 P(r) with
// Cephes' degree-5 P; then y * 2^n as two exact power-of-two multiplies
// (n reaches 128 at the top of the range, past the largest float exponent).
//
// Edge behaviour, the same at every tier (tests/core/test_simd_exp.cpp):
//   kExpLo <= x < kExpHi  at most 1.011 ulp from e^x: measured against double
//                         std::exp on every one of the 2.24e9 floats in the
//                         range (22 of them above 1 ulp, the worst at
//                         x = -5.87788439); results are normal, >= FLT_MIN
//   x < kExpLo, -inf      +0: results below FLT_MIN are flushed, never
//                         subnormal. x is clamped first, so no lane ever
//                         computes on a subnormal (Intel CPUs take a microcode
//                         assist of ~100 cycles on subnormal or underflowing
//                         results), and softmax's normalizing multiply never
//                         meets one.
//   x >= kExpHi, +inf     +inf (the last multiply overflows: e^r > 1 there)
//   NaN                   NaN
inline vf exp_v(vf x) {
  // NaN passes both clamps (vmin/vmax return their second operand) and every
  // step after them.
  vf xc = vmax(set1(kExpLo), vmin(set1(kExpHi), x));
  vf n = round_even(xc * set1(1.44269504088896341f));
  vf r = fmadd(n, set1(-0.693359375f), xc);
  r = fmadd(n, set1(2.12194440e-4f), r);
  vf p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  vf y = fmadd(p, r * r, r) + set1(1.0f);
  // n in [-126, 128]: both halves are normal powers of two.
  vi ni = to_int(n);
  vi n1 = sar<1>(ni);
  vi n2 = sub(ni, n1);
  y = y * as_f(shl<23>(add(n1, set1i(127)))) * as_f(shl<23>(add(n2, set1i(127))));
  return zero_where(lt(x, set1(kExpLo)), y);
}

// Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a
// degree-9 polynomial in m - 1.
inline vf log_v(vf x0) {
  vm sub_normal = lt(x0, set1(1.17549435e-38f));
  vf x = select(sub_normal, x0 * set1(8388608.0f), x0);  // 2^23
  vi xi = as_i(x);
  vf e = to_float(sub(shr<23>(xi), set1i(126))) - select(sub_normal, set1(23.0f), set1(0.0f));
  vf m = as_f(bor(band(xi, set1i(0x007fffff)), set1i(0x3f000000)));  // [0.5, 1)
  vm small = lt(m, set1(0.707106781186547524f));
  e = e - select(small, set1(1.0f), set1(0.0f));
  m = select(small, m + m, m) - set1(1.0f);
  vf z = m * m;
  vf p = set1(7.0376836292e-2f);
  p = fmadd(p, m, set1(-1.1514610310e-1f));
  p = fmadd(p, m, set1(1.1676998740e-1f));
  p = fmadd(p, m, set1(-1.2420140846e-1f));
  p = fmadd(p, m, set1(1.4249322787e-1f));
  p = fmadd(p, m, set1(-1.6668057665e-1f));
  p = fmadd(p, m, set1(2.0000714765e-1f));
  p = fmadd(p, m, set1(-2.4999993993e-1f));
  p = fmadd(p, m, set1(3.3333331174e-1f));
  vf y = p * m * z;
  y = fmadd(e, set1(-2.12194440e-4f), y);
  y = fmadd(z, set1(-0.5f), y);
  vf r = fmadd(e, set1(0.693359375f), m + y);
  const vf inf = set1(__builtin_inff());
  r = select(eq(x0, inf), inf, r);
  r = select(eq(x0, set1(0.0f)), set1(-__builtin_inff()), r);
  r = select(lt(x0, set1(0.0f)), set1(__builtin_nanf("")), r);
  return select(isnan(x0), x0, r);
}

// Cephes tanhf: an odd polynomial below 0.625, 1 - 2 / (e^{2|x|} + 1) above.
inline vf tanh_v(vf x) {
  vf z = x * x;
  vf p = set1(-5.70498872745e-3f);
  p = fmadd(p, z, set1(2.06390887954e-2f));
  p = fmadd(p, z, set1(-5.37397155531e-2f));
  p = fmadd(p, z, set1(1.33314422036e-1f));
  p = fmadd(p, z, set1(-3.33332819422e-1f));
  vf small = fmadd(p * z, x, x);
  small = as_f(bor(as_i(vabs(small)), as_i(sign_of(x))));  // tanh(-0) = -0
  vf ax = vabs(x);
  vf e = exp_v(ax + ax);
  vf large = set1(1.0f) - set1(2.0f) / (e + set1(1.0f));
  large = as_f(bor(as_i(large), as_i(sign_of(x))));
  return select(lt(ax, set1(0.625f)), small, large);
}

// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: no overflow, and tiny
// results keep their precision.
inline vf sigmoid_v(vf x) {
  vf e = exp_v(set1(0.0f) - vabs(x));
  vf r = set1(1.0f) / (set1(1.0f) + e);
  return select(ge(x, set1(0.0f)), r, e * r);
}

}  // namespace
}  // namespace uma::cpu::simd::UMA_SIMD_NS
