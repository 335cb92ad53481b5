// GPU kernels of the unary elementwise primitives: the same functions as the
// CPU backend's unary.cpp and unary_math.cpp (half types computed in float,
// integers wrapping, Round half to even, ErfInv by the same refinement).
// complex64 inverse trigonometric and hyperbolic functions run on the CPU.
#include "uma/backend/cuda/elementwise.cuh"
#include "uma/core/primitives/elementwise.h"

namespace uma::cuda::ew {
namespace {

// --- arithmetic, rounding, logic (cpu/unary.cpp)
struct AbsOp {
  template <typename T>
  __device__ auto operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64>) {
      return dm::abs(x);
    } else if constexpr (std::is_unsigned_v<T>) {  // bool too
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      return x < 0 ? T(wide_unsigned_t<T>(0) - wide_unsigned_t<T>(x)) : x;
    } else {
      return dm::fabs(x);
    }
  }
};

struct NegativeOp {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return T(wide_unsigned_t<T>(0) - wide_unsigned_t<T>(x));
    } else if constexpr (std::is_same_v<T, complex64>) {
      return {-x.re, -x.im};
    } else {
      return -x;
    }
  }
};

// -1, 0 or 1 (NaN stays NaN); complex: x / |x|.
struct SignOp {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64>) {
      float m = dm::abs(x);
      return m == 0 ? complex64{0.f, 0.f} : complex64{x.re / m, x.im / m};
    } else if constexpr (std::is_unsigned_v<T>) {
      return T(x != 0);
    } else if constexpr (std::is_integral_v<T>) {
      return T((x > 0) - (x < 0));
    } else {
      return ::isnan(x) ? x : T((x > 0) - (x < 0));
    }
  }
};

struct SquareOp {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) {
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      return T(wide_unsigned_t<T>(x) * wide_unsigned_t<T>(x));
    } else {
      return x * x;
    }
  }
};

#define UMA_ROUNDING_OP(NAME, FN)                  \
  struct NAME {                                    \
    template <typename T>                          \
    __device__ T operator()(T x) const {           \
      if constexpr (std::is_integral_v<T>) {       \
        return x;                                  \
      } else {                                     \
        return dm::FN(x);                          \
      }                                            \
    }                                              \
  };
UMA_ROUNDING_OP(FloorOp, floor)
UMA_ROUNDING_OP(CeilOp, ceil)
UMA_ROUNDING_OP(RoundOp, rint)  // half to even, as nearbyint in the default mode
#undef UMA_ROUNDING_OP

struct LogicalNotOp {
  __device__ bool operator()(bool x) const { return !x; }
};

struct BitwiseInvertOp {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) {
      return !x;
    } else {
      return T(~x);
    }
  }
};

struct RealOp {
  __device__ float operator()(complex64 x) const { return x.re; }
};
struct ImagOp {
  __device__ float operator()(complex64 x) const { return x.im; }
};
struct ConjugateOp {
  __device__ complex64 operator()(complex64 x) const { return {x.re, -x.im}; }
};

// --- float math (cpu/unary_math.cpp): float, double, and complex64 where
// dm:: has it.
#define UMA_MATH_OP(NAME, FN)                \
  struct NAME {                              \
    template <typename T>                    \
    __device__ T operator()(T x) const {     \
      return dm::FN(x);                      \
    }                                        \
  };
UMA_MATH_OP(ExpOp, exp)
UMA_MATH_OP(Expm1Op, expm1)
UMA_MATH_OP(LogOp, log)
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
UMA_MATH_OP(TanhOp, tanh)
UMA_MATH_OP(ArcSinhOp, asinh)
UMA_MATH_OP(ArcCoshOp, acosh)
UMA_MATH_OP(ArcTanhOp, atanh)
UMA_MATH_OP(ErfOp, erf)
#undef UMA_MATH_OP

// The CPU divides the complex logarithm by a float constant, componentwise.
struct Log2Op {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64>) {
      complex64 l = dm::log(x);
      return {l.re / float(M_LN2), l.im / float(M_LN2)};
    } else {
      return dm::log2(x);
    }
  }
};
struct Log10Op {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64>) {
      complex64 l = dm::log(x);
      float ln10 = ::logf(10.f);  // libstdc++: log(z) / log(T(10))
      return {l.re / ln10, l.im / ln10};
    } else {
      return dm::log10(x);
    }
  }
};

// 1 / sqrt(x), both correctly rounded (rsqrt() is not), as the CPU.
struct RsqrtOp {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64>) {
      return complex64{1.f, 0.f} / dm::sqrt(x);
    } else {
      return T(1) / dm::sqrt(x);
    }
  }
};

struct SigmoidOp {
  template <typename T>
  __device__ T operator()(T x) const {
    T e = dm::exp(-dm::fabs(x));
    T r = T(1) / (T(1) + e);
    return x >= 0 ? r : e * r;
  }
};

// Inverse error function: a float32-accurate start (Giles 2010) refined by
// two Newton steps in double (cpu/unary_math.cpp's ErfInvOp).
struct ErfInvOp {
  template <typename T>
  __device__ T operator()(T y) const {
    double yd = double(y);
    if (::isnan(yd) || yd < -1 || yd > 1) return std::numeric_limits<T>::quiet_NaN();
    if (yd == 1) return std::numeric_limits<T>::infinity();
    if (yd == -1) return -std::numeric_limits<T>::infinity();
    double w = -::log((1.0 - yd) * (1.0 + yd)), p;
    if (w < 5.0) {
      const double c[] = {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                          -0.00417768164, 0.246640727,    1.50140941};
      w -= 2.5;
      p = 2.81022636e-08;
#pragma unroll
      for (int i = 0; i < 8; ++i) p = c[i] + p * w;
    } else {
      const double c[] = {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                          0.00943887047,  1.00167406,    2.83297682};
      w = ::sqrt(w) - 3.0;
      p = -0.000200214257;
#pragma unroll
      for (int i = 0; i < 8; ++i) p = c[i] + p * w;
    }
    double x = p * yd;
    const double k = 2.0 / ::sqrt(M_PI);
    for (int i = 0; i < 2; ++i) {
      double d = k * ::exp(-x * x);
      if (d == 0) break;
      // Near +-1 the residual comes from erfc, which keeps its relative precision.
      double r = yd > 0.5 ? (1.0 - yd) - ::erfc(x) : yd < -0.5 ? ::erfc(-x) - (1.0 + yd) : ::erf(x) - yd;
      x -= r / d;
    }
    return T(x);
  }
};

constexpr unsigned k_real = k_float;

}  // namespace
}  // namespace uma::cuda::ew

namespace uma {

namespace ew = cuda::ew;

// eval_gpu with out's dtype the input's: the kinds the CPU accepts, then the
// kinds with a GPU kernel (the rest fall back).
#define UMA_UNARY_KERNEL(PRIM, OP, CPU, GPU) \
  void PRIM::eval_gpu(const std::vector<array>& in, array& out) { ew::unary_same<CPU, GPU>(*this, in, out, ew::OP{}); }
UMA_UNARY_KERNEL(Negative, NegativeOp, ew::k_int | ew::k_inexact, ew::k_int | ew::k_inexact)
UMA_UNARY_KERNEL(Sign, SignOp, ew::k_int | ew::k_inexact, ew::k_int | ew::k_inexact)
UMA_UNARY_KERNEL(Square, SquareOp, ew::k_all, ew::k_all)
UMA_UNARY_KERNEL(Floor, FloorOp, ew::k_num, ew::k_num)
UMA_UNARY_KERNEL(Ceil, CeilOp, ew::k_num, ew::k_num)
UMA_UNARY_KERNEL(Round, RoundOp, ew::k_num, ew::k_num)
UMA_UNARY_KERNEL(LogicalNot, LogicalNotOp, ew::k_bool, ew::k_bool)
UMA_UNARY_KERNEL(BitwiseInvert, BitwiseInvertOp, ew::k_integer, ew::k_integer)
UMA_UNARY_KERNEL(Conjugate, ConjugateOp, ew::k_complex, ew::k_complex)
UMA_UNARY_KERNEL(Exp, ExpOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Expm1, Expm1Op, ew::k_real, ew::k_real)
UMA_UNARY_KERNEL(Log, LogOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Log2, Log2Op, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Log10, Log10Op, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Log1p, Log1pOp, ew::k_real, ew::k_real)
UMA_UNARY_KERNEL(Sqrt, SqrtOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Rsqrt, RsqrtOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Sin, SinOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Cos, CosOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Tan, TanOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(ArcSin, ArcSinOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(ArcCos, ArcCosOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(ArcTan, ArcTanOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(Sinh, SinhOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Cosh, CoshOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(Tanh, TanhOp, ew::k_inexact, ew::k_inexact)
UMA_UNARY_KERNEL(ArcSinh, ArcSinhOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(ArcCosh, ArcCoshOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(ArcTanh, ArcTanhOp, ew::k_inexact, ew::k_real)
UMA_UNARY_KERNEL(Erf, ErfOp, ew::k_real, ew::k_real)
UMA_UNARY_KERNEL(ErfInv, ErfInvOp, ew::k_real, ew::k_real)
UMA_UNARY_KERNEL(Sigmoid, SigmoidOp, ew::k_real, ew::k_real)
#undef UMA_UNARY_KERNEL

// complex64 -> float32; the other dtypes keep theirs.
void Abs::eval_gpu(const std::vector<array>& in, array& out) {
  if (in[0].dtype() == Dtype::complex64) {
    ew::unary_to<ew::k_complex, ew::k_complex, float>(*this, in, out, ew::AbsOp{});
  } else {
    ew::unary_same<ew::k_num, ew::k_num>(*this, in, out, ew::AbsOp{});
  }
}
void Real::eval_gpu(const std::vector<array>& in, array& out) {
  ew::unary_to<ew::k_complex, ew::k_complex, float>(*this, in, out, ew::RealOp{});
}
void Imag::eval_gpu(const std::vector<array>& in, array& out) {
  ew::unary_to<ew::k_complex, ew::k_complex, float>(*this, in, out, ew::ImagOp{});
}

// The value is the input's: share its data and layout.
void StopGradient::eval_gpu(const std::vector<array>& in, array& out) { out.copy_shared_buffer(in[0]); }

}  // namespace uma
