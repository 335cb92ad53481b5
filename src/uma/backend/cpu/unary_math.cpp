// CPU kernels of the unary float math primitives. Inputs are floating or
// complex (the ops cast integers to float32). exp, log, tanh and sigmoid on
// float32 (and on half types, through float32 blocks) use the SIMD kernels.
#include <cmath>
#include <limits>

#include "uma/backend/cpu/elementwise.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

namespace {

using namespace cpu;

constexpr unsigned k_real = k_float;
constexpr unsigned k_inexact = k_float | k_complex;

// One functor per std:: function; `vec` where a SIMD kernel exists.
#define UMA_MATH_OP(NAME, EXPR)          \
  struct NAME {                          \
    template <typename T>                \
    T operator()(T x) const {            \
      using std::EXPR;                   \
      return EXPR(x);                    \
    }                                    \
  };
UMA_MATH_OP(Expm1Op, expm1)
UMA_MATH_OP(Log10Op, log10)
UMA_MATH_OP(Log1pOp, log1p)
UMA_MATH_OP(SqrtOp, sqrt)
UMA_MATH_OP(SinOp, sin)
UMA_MATH_OP(CosOp, cos)
UMA_MATH_OP(TanOp, tan)
UMA_MATH_OP(ArcSinOp, asin)
UMA_MATH_OP(ArcCosOp, acos)
UMA_MATH_OP(ArcTanOp, atan)
UMA_MATH_OP(SinhOp, sinh)
UMA_MATH_OP(CoshOp, cosh)
UMA_MATH_OP(ArcSinhOp, asinh)
UMA_MATH_OP(ArcCoshOp, acosh)
UMA_MATH_OP(ArcTanhOp, atanh)
UMA_MATH_OP(ErfOp, erf)
#undef UMA_MATH_OP

// std:: for every type; the SIMD table for contiguous float32, float16 and
// bfloat16.
#define UMA_SIMD_MATH_OP(NAME, FN)                                                          \
  struct NAME {                                                                             \
    template <typename T>                                                                   \
    T operator()(T x) const {                                                               \
      return std::FN(x);                                                                    \
    }                                                                                       \
    static void vec(simd::Format f, const void* x, void* y, int64_t n) { simd::kernels().FN[f](x, y, n); } \
  };
UMA_SIMD_MATH_OP(ExpOp, exp)
UMA_SIMD_MATH_OP(LogOp, log)
UMA_SIMD_MATH_OP(TanhOp, tanh)
#undef UMA_SIMD_MATH_OP

struct SigmoidOp {
  template <typename T>
  T operator()(T x) const {
    T e = std::exp(-std::abs(x));
    T r = T(1) / (T(1) + e);
    return x >= 0 ? r : e * r;
  }
  static void vec(simd::Format f, const void* x, void* y, int64_t n) { simd::kernels().sigmoid[f](x, y, n); }
};

struct Log2Op {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64_t>) {
      return std::log(x) / float(M_LN2);
    } else {
      return std::log2(x);
    }
  }
};

struct RsqrtOp {
  template <typename T>
  T operator()(T x) const { return T(1) / std::sqrt(x); }
};

// Inverse error function: a float32-accurate start (Giles 2010) refined by
// two Newton steps in double, so float64 inputs are accurate too.
struct ErfInvOp {
  template <typename T>
  T operator()(T y) const {
    double yd = double(y);
    if (std::isnan(yd) || yd < -1 || yd > 1) return std::numeric_limits<T>::quiet_NaN();
    if (yd == 1) return std::numeric_limits<T>::infinity();
    if (yd == -1) return -std::numeric_limits<T>::infinity();
    double w = -std::log((1.0 - yd) * (1.0 + yd)), p;
    if (w < 5.0) {
      w -= 2.5;
      p = 2.81022636e-08;
      for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                       -0.00417768164, 0.246640727, 1.50140941}) {
        p = c + p * w;
      }
    } else {
      w = std::sqrt(w) - 3.0;
      p = -0.000200214257;
      for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                       0.00943887047, 1.00167406, 2.83297682}) {
        p = c + p * w;
      }
    }
    double x = p * yd;
    const double k = 2.0 / std::sqrt(M_PI);
    for (int i = 0; i < 2; ++i) {
      double d = k * std::exp(-x * x);
      if (d == 0) break;
      // Near +-1 the residual comes from erfc, which keeps its relative precision.
      double r = yd > 0.5 ? (1.0 - yd) - std::erfc(x) : yd < -0.5 ? std::erfc(-x) - (1.0 + yd) : std::erf(x) - yd;
      x -= r / d;
    }
    return T(x);
  }
};

}  // namespace

#define UMA_MATH_KERNEL(PRIM, OP, KINDS) \
  void PRIM::eval_cpu(const std::vector<array>& in, array& out) { unary_same<KINDS>(name(), in[0], out, OP{}); }
UMA_MATH_KERNEL(Exp, ExpOp, k_inexact)
UMA_MATH_KERNEL(Expm1, Expm1Op, k_real)
UMA_MATH_KERNEL(Log, LogOp, k_inexact)
UMA_MATH_KERNEL(Log2, Log2Op, k_inexact)
UMA_MATH_KERNEL(Log10, Log10Op, k_inexact)
UMA_MATH_KERNEL(Log1p, Log1pOp, k_real)
UMA_MATH_KERNEL(Sqrt, SqrtOp, k_inexact)
UMA_MATH_KERNEL(Rsqrt, RsqrtOp, k_inexact)
UMA_MATH_KERNEL(Sin, SinOp, k_inexact)
UMA_MATH_KERNEL(Cos, CosOp, k_inexact)
UMA_MATH_KERNEL(Tan, TanOp, k_inexact)
UMA_MATH_KERNEL(ArcSin, ArcSinOp, k_inexact)
UMA_MATH_KERNEL(ArcCos, ArcCosOp, k_inexact)
UMA_MATH_KERNEL(ArcTan, ArcTanOp, k_inexact)
UMA_MATH_KERNEL(Sinh, SinhOp, k_inexact)
UMA_MATH_KERNEL(Cosh, CoshOp, k_inexact)
UMA_MATH_KERNEL(Tanh, TanhOp, k_inexact)
UMA_MATH_KERNEL(ArcSinh, ArcSinhOp, k_inexact)
UMA_MATH_KERNEL(ArcCosh, ArcCoshOp, k_inexact)
UMA_MATH_KERNEL(ArcTanh, ArcTanhOp, k_inexact)
UMA_MATH_KERNEL(Erf, ErfOp, k_real)
UMA_MATH_KERNEL(ErfInv, ErfInvOp, k_real)
UMA_MATH_KERNEL(Sigmoid, SigmoidOp, k_real)
#undef UMA_MATH_KERNEL

}  // namespace uma
