// GPU kernels of the binary elementwise primitives: the same functions as the
// CPU backend's binary.cpp. Both inputs have the output's shape (broadcast
// views) and one dtype. Integer arithmetic wraps; integer x // 0 and x % 0
// give 0; shifts by a negative amount or >= the bit width shift everything
// out; half types are computed in float and rounded once.
#include "uma/backend/cuda/elementwise.cuh"
#include "uma/core/primitives/elementwise.h"

namespace uma::cuda::ew {
namespace {

// Arithmetic: integers in a wide unsigned type (wraps, never UB), bool as
// int then back to bool (true + true == true), floats and complex as is.
#define UMA_ARITH_OP(NAME, OP)                                      \
  struct NAME {                                                     \
    template <typename T>                                           \
    __device__ T operator()(T a, T b) const {                       \
      if constexpr (std::is_same_v<T, bool>) {                      \
        return bool(int(a) OP int(b));                              \
      } else if constexpr (std::is_integral_v<T>) {                 \
        return T(wide_unsigned_t<T>(a) OP wide_unsigned_t<T>(b));   \
      } else {                                                      \
        return a OP b;                                              \
      }                                                             \
    }                                                               \
  };
UMA_ARITH_OP(AddOp, +)
UMA_ARITH_OP(SubtractOp, -)
UMA_ARITH_OP(MultiplyOp, *)
#undef UMA_ARITH_OP

struct DivideOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return a / b;
  }
};

struct FloorDivideOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return b && a;
    } else if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return T(wide_unsigned_t<T>(0) - wide_unsigned_t<T>(a));
        T q = T(a / b);
        return (a % b != 0 && ((a < 0) != (b < 0))) ? T(q - 1) : q;
      } else {
        return T(a / b);
      }
    } else {
      return dm::floor(a / b);
    }
  }
};

// Python's remainder: the result has the sign of the divisor.
struct RemainderOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return false;
    } else if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
        T r = T(a % b);
        return (r != 0 && ((r < 0) != (b < 0))) ? T(r + b) : r;
      } else {
        return T(a % b);
      }
    } else {
      T r = dm::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r == 0 ? dm::copysign(T(0), b) : r;
    }
  }
};

// Integer powers are exact (wrapping) by squaring; a negative exponent
// gives the truncated value: 1 for base 1, +-1 for base -1, else 0.
struct PowerOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else if constexpr (std::is_integral_v<T>) {
      if constexpr (std::is_signed_v<T>) {
        if (b < 0) {
          if (a == 1) return 1;
          if (a == -1) return (b & 1) ? T(-1) : T(1);
          return 0;
        }
      }
      wide_unsigned_t<T> r = 1, base = wide_unsigned_t<T>(a);
      auto e = std::make_unsigned_t<T>(b);
      while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
      }
      return T(r);
    } else {
      return dm::pow(a, b);
    }
  }
};

// NaN in either operand propagates.
struct MaximumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (::isnan(a)) return a;
    }
    return a > b || (a != a) ? a : b;
  }
};
struct MinimumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (::isnan(a)) return a;
    }
    return a < b || (a != a) ? a : b;
  }
};

struct ArcTan2Op {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    return dm::atan2(a, b);
  }
};

// log(e^a + e^b) = max + log1p(e^-|a-b|); infinities handled exactly.
struct LogAddExpOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if (::isnan(a) || ::isnan(b)) return a + b;
    T m = a < b ? b : a;  // std::max
    if (::isinf(m)) return m;
    return m + dm::log1p(dm::exp(-dm::fabs(a - b)));
  }
};

#define UMA_COMPARE_OP(NAME, EXPR)               \
  struct NAME {                                  \
    template <typename T>                        \
    __device__ bool operator()(T a, T b) const { \
      return EXPR;                               \
    }                                            \
  };
UMA_COMPARE_OP(EqualOp, a == b)
UMA_COMPARE_OP(NotEqualOp, !(a == b))  // complex64 has == only; the same for NaN
UMA_COMPARE_OP(LessOp, a < b)
UMA_COMPARE_OP(LessEqualOp, a <= b)
UMA_COMPARE_OP(GreaterOp, a > b)
UMA_COMPARE_OP(GreaterEqualOp, a >= b)
UMA_COMPARE_OP(LogicalAndOp, a && b)
UMA_COMPARE_OP(LogicalOrOp, a || b)
#undef UMA_COMPARE_OP

struct NaNEqualOp {
  template <typename T>
  __device__ bool operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, complex64>) {
      auto same = [](float x, float y) { return x == y || (::isnan(x) && ::isnan(y)); };
      return same(a.re, b.re) && same(a.im, b.im);
    } else if constexpr (std::is_floating_point_v<T>) {
      return a == b || (::isnan(a) && ::isnan(b));
    } else {
      return a == b;
    }
  }
};

#define UMA_BITWISE_OP(NAME, OP)              \
  struct NAME {                               \
    template <typename T>                     \
    __device__ T operator()(T a, T b) const { \
      return T(a OP b);                       \
    }                                         \
  };
UMA_BITWISE_OP(BitwiseAndOp, &)
UMA_BITWISE_OP(BitwiseOrOp, |)
UMA_BITWISE_OP(BitwiseXorOp, ^)
#undef UMA_BITWISE_OP

template <typename T>
__device__ inline bool shifts_out(T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b < 0) return true;
  }
  return uint64_t(b) >= 8 * sizeof(T);
}

struct LeftShiftOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if (shifts_out(b)) return 0;
    return T(wide_unsigned_t<T>(a) << b);
  }
};
struct RightShiftOp {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if (shifts_out(b)) {
      if constexpr (std::is_signed_v<T>) {
        return a < 0 ? T(-1) : T(0);
      } else {
        return 0;
      }
    }
    return T(a >> b);
  }
};

}  // namespace
}  // namespace uma::cuda::ew

namespace uma {

namespace ew = cuda::ew;

// CPU kinds, then the kinds with a GPU kernel (all of them).
#define UMA_BINARY_KERNEL(PRIM, OP, KINDS)                          \
  void PRIM::eval_gpu(const std::vector<array>& in, array& out) { \
    ew::binary_same<KINDS, KINDS>(*this, in, out, ew::OP{});      \
  }
UMA_BINARY_KERNEL(Add, AddOp, ew::k_all)
UMA_BINARY_KERNEL(Subtract, SubtractOp, ew::k_all)
UMA_BINARY_KERNEL(Multiply, MultiplyOp, ew::k_all)
UMA_BINARY_KERNEL(Divide, DivideOp, ew::k_inexact)
UMA_BINARY_KERNEL(FloorDivide, FloorDivideOp, ew::k_num)
UMA_BINARY_KERNEL(Remainder, RemainderOp, ew::k_num)
UMA_BINARY_KERNEL(Power, PowerOp, ew::k_all)
UMA_BINARY_KERNEL(Maximum, MaximumOp, ew::k_num)
UMA_BINARY_KERNEL(Minimum, MinimumOp, ew::k_num)
UMA_BINARY_KERNEL(ArcTan2, ArcTan2Op, ew::k_float)
UMA_BINARY_KERNEL(LogAddExp, LogAddExpOp, ew::k_float)
UMA_BINARY_KERNEL(BitwiseAnd, BitwiseAndOp, ew::k_integer)
UMA_BINARY_KERNEL(BitwiseOr, BitwiseOrOp, ew::k_integer)
UMA_BINARY_KERNEL(BitwiseXor, BitwiseXorOp, ew::k_integer)
UMA_BINARY_KERNEL(LeftShift, LeftShiftOp, ew::k_int)
UMA_BINARY_KERNEL(RightShift, RightShiftOp, ew::k_int)
#undef UMA_BINARY_KERNEL

#define UMA_COMPARE_KERNEL(PRIM, OP, KINDS)                         \
  void PRIM::eval_gpu(const std::vector<array>& in, array& out) { \
    ew::binary_to<KINDS, KINDS, bool>(*this, in, out, ew::OP{});  \
  }
UMA_COMPARE_KERNEL(NotEqual, NotEqualOp, ew::k_all)
UMA_COMPARE_KERNEL(Less, LessOp, ew::k_num)
UMA_COMPARE_KERNEL(LessEqual, LessEqualOp, ew::k_num)
UMA_COMPARE_KERNEL(Greater, GreaterOp, ew::k_num)
UMA_COMPARE_KERNEL(GreaterEqual, GreaterEqualOp, ew::k_num)
UMA_COMPARE_KERNEL(LogicalAnd, LogicalAndOp, ew::k_bool)
UMA_COMPARE_KERNEL(LogicalOr, LogicalOrOp, ew::k_bool)
#undef UMA_COMPARE_KERNEL

void Equal::eval_gpu(const std::vector<array>& in, array& out) {
  if (equal_nan_) {
    ew::binary_to<ew::k_all, ew::k_all, bool>(*this, in, out, ew::NaNEqualOp{});
  } else {
    ew::binary_to<ew::k_all, ew::k_all, bool>(*this, in, out, ew::EqualOp{});
  }
}

}  // namespace uma
