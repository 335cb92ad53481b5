// CPU kernels of the binary elementwise primitives. Both inputs have the
// output's shape (broadcast views) and one dtype (the ops promote).
// Integer arithmetic wraps; integer x // 0 and x % 0 give 0 (NumPy's values,
// without its warning); INT_MIN // -1 wraps to INT_MIN.
#include <cmath>
#include <limits>

#include "uma/backend/cpu/elementwise.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

namespace {

using namespace cpu;

template <typename T>
using wide_unsigned_t = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

// Arithmetic: integers in a wide unsigned type (wraps, never UB), bool as
// int then back to bool (true + true == true), floats and complex as is.
#define UMA_ARITH_OP(NAME, OP, SIMD)                                        \
  struct NAME {                                                             \
    template <typename T>                                                   \
    T operator()(T a, T b) const {                                          \
      if constexpr (std::is_same_v<T, bool>) {                              \
        return bool(int(a) OP int(b));                                      \
      } else if constexpr (std::is_integral_v<T>) {                         \
        return T(wide_unsigned_t<T>(a) OP wide_unsigned_t<T>(b));           \
      } else {                                                              \
        return a OP b;                                                      \
      }                                                                     \
    }                                                                       \
    static void vec(simd::Format f, const void* a, const void* b, void* y, int64_t n, simd::Mode m) { \
      simd::kernels().SIMD[f](a, b, y, n, m);                               \
    }                                                                       \
  };
UMA_ARITH_OP(AddOp, +, add)
UMA_ARITH_OP(SubtractOp, -, subtract)
UMA_ARITH_OP(MultiplyOp, *, multiply)
#undef UMA_ARITH_OP

struct DivideOp {
  template <typename T>
  T operator()(T a, T b) const { return a / b; }
  static void vec(simd::Format f, const void* a, const void* b, void* y, int64_t n, simd::Mode m) {
    simd::kernels().divide[f](a, b, y, n, m);
  }
};

struct FloorDivideOp {
  template <typename T>
  T operator()(T a, T b) const {
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
      return std::floor(a / b);
    }
  }
};

// Python's remainder: the result has the sign of the divisor.
struct RemainderOp {
  template <typename T>
  T operator()(T a, T b) const {
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
      T r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r == 0 ? std::copysign(T(0), b) : r;
    }
  }
};

// Integer powers are exact (wrapping) by squaring; a negative exponent
// gives the truncated value: 1 for base 1, +-1 for base -1, else 0.
struct PowerOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else if constexpr (std::is_integral_v<T>) {
      if constexpr (std::is_signed_v<T>) {
        if (b < 0) {
          if (a == 1) return 1;
          if (a == -1) return (b & 1) ? -1 : 1;
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
      return std::pow(a, b);
    }
  }
};

// NaN in either operand propagates.
struct MaximumOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;
    }
    return a > b || (a != a) ? a : b;
  }
  static void vec(simd::Format f, const void* a, const void* b, void* y, int64_t n, simd::Mode m) {
    simd::kernels().maximum[f](a, b, y, n, m);
  }
};
struct MinimumOp {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;
    }
    return a < b || (a != a) ? a : b;
  }
  static void vec(simd::Format f, const void* a, const void* b, void* y, int64_t n, simd::Mode m) {
    simd::kernels().minimum[f](a, b, y, n, m);
  }
};

struct ArcTan2Op {
  template <typename T>
  T operator()(T a, T b) const { return std::atan2(a, b); }
};

// log(e^a + e^b) = max + log1p(e^-|a-b|); infinities handled exactly.
struct LogAddExpOp {
  template <typename T>
  T operator()(T a, T b) const {
    if (std::isnan(a) || std::isnan(b)) return a + b;
    T m = std::max(a, b);
    if (std::isinf(m)) return m;
    return m + std::log1p(std::exp(-std::abs(a - b)));
  }
};

#define UMA_COMPARE_OP(NAME, EXPR)            \
  struct NAME {                               \
    template <typename T>                     \
    bool operator()(T a, T b) const { return EXPR; } \
  };
UMA_COMPARE_OP(EqualOp, a == b)
UMA_COMPARE_OP(NotEqualOp, a != b)
UMA_COMPARE_OP(LessOp, a < b)
UMA_COMPARE_OP(LessEqualOp, a <= b)
UMA_COMPARE_OP(GreaterOp, a > b)
UMA_COMPARE_OP(GreaterEqualOp, a >= b)
UMA_COMPARE_OP(LogicalAndOp, a && b)
UMA_COMPARE_OP(LogicalOrOp, a || b)
#undef UMA_COMPARE_OP

struct NaNEqualOp {
  template <typename T>
  bool operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, complex64_t>) {
      auto same = [](float x, float y) { return x == y || (std::isnan(x) && std::isnan(y)); };
      return same(a.real(), b.real()) && same(a.imag(), b.imag());
    } else if constexpr (std::is_floating_point_v<T>) {
      return a == b || (std::isnan(a) && std::isnan(b));
    } else {
      return a == b;
    }
  }
};

#define UMA_BITWISE_OP(NAME, OP)              \
  struct NAME {                               \
    template <typename T>                     \
    T operator()(T a, T b) const { return T(a OP b); } \
  };
UMA_BITWISE_OP(BitwiseAndOp, &)
UMA_BITWISE_OP(BitwiseOrOp, |)
UMA_BITWISE_OP(BitwiseXorOp, ^)
#undef UMA_BITWISE_OP

// Shifts by a negative amount or by >= the bit width shift everything out.
struct LeftShiftOp {
  template <typename T>
  T operator()(T a, T b) const {
    if (b < 0 || uint64_t(b) >= 8 * sizeof(T)) return 0;
    return T(wide_unsigned_t<T>(a) << b);
  }
};
struct RightShiftOp {
  template <typename T>
  T operator()(T a, T b) const {
    if (b < 0 || uint64_t(b) >= 8 * sizeof(T)) return (std::is_signed_v<T> && a < 0) ? T(-1) : T(0);
    return T(a >> b);
  }
};

constexpr unsigned k_num = k_bool | k_int | k_float;
constexpr unsigned k_integer = k_bool | k_int;

}  // namespace

#define UMA_BINARY_KERNEL(PRIM, OP, KINDS) \
  void PRIM::eval_cpu(const std::vector<array>& in, array& out) { binary_same<KINDS>(name(), in, out, OP{}); }
UMA_BINARY_KERNEL(Add, AddOp, k_all)
UMA_BINARY_KERNEL(Subtract, SubtractOp, k_all)
UMA_BINARY_KERNEL(Multiply, MultiplyOp, k_all)
UMA_BINARY_KERNEL(Divide, DivideOp, k_float | k_complex)
UMA_BINARY_KERNEL(FloorDivide, FloorDivideOp, k_num)
UMA_BINARY_KERNEL(Remainder, RemainderOp, k_num)
UMA_BINARY_KERNEL(Power, PowerOp, k_all)
UMA_BINARY_KERNEL(Maximum, MaximumOp, k_num)
UMA_BINARY_KERNEL(Minimum, MinimumOp, k_num)
UMA_BINARY_KERNEL(ArcTan2, ArcTan2Op, k_float)
UMA_BINARY_KERNEL(LogAddExp, LogAddExpOp, k_float)
UMA_BINARY_KERNEL(BitwiseAnd, BitwiseAndOp, k_integer)
UMA_BINARY_KERNEL(BitwiseOr, BitwiseOrOp, k_integer)
UMA_BINARY_KERNEL(BitwiseXor, BitwiseXorOp, k_integer)
UMA_BINARY_KERNEL(LeftShift, LeftShiftOp, k_int)
UMA_BINARY_KERNEL(RightShift, RightShiftOp, k_int)
#undef UMA_BINARY_KERNEL

#define UMA_COMPARE_KERNEL(PRIM, OP, KINDS) \
  void PRIM::eval_cpu(const std::vector<array>& in, array& out) { binary_to<KINDS, bool>(name(), in, out, OP{}); }
UMA_COMPARE_KERNEL(NotEqual, NotEqualOp, k_all)
UMA_COMPARE_KERNEL(Less, LessOp, k_num)
UMA_COMPARE_KERNEL(LessEqual, LessEqualOp, k_num)
UMA_COMPARE_KERNEL(Greater, GreaterOp, k_num)
UMA_COMPARE_KERNEL(GreaterEqual, GreaterEqualOp, k_num)
UMA_COMPARE_KERNEL(LogicalAnd, LogicalAndOp, k_bool)
UMA_COMPARE_KERNEL(LogicalOr, LogicalOrOp, k_bool)
#undef UMA_COMPARE_KERNEL

void Equal::eval_cpu(const std::vector<array>& in, array& out) {
  if (equal_nan_) {
    binary_to<k_all, bool>(name(), in, out, NaNEqualOp{});
  } else {
    binary_to<k_all, bool>(name(), in, out, EqualOp{});
  }
}

}  // namespace uma
