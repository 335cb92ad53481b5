// CPU kernels of the unary elementwise primitives that keep their dtype or
// act on any dtype (arithmetic, rounding, logic). The float math functions
// are in unary_math.cpp.
#include <cmath>
#include <limits>

#include "uma/backend/cpu/elementwise.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

namespace {

using namespace cpu;

// Integer arithmetic that wraps (two's complement) instead of being UB.
template <typename T>
using wide_unsigned_t = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

struct AbsOp {
  template <typename T>
  auto operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64_t>) {
      return std::abs(x);
    } else if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      return x < 0 ? T(wide_unsigned_t<T>(0) - wide_unsigned_t<T>(x)) : x;
    } else {
      return std::abs(x);
    }
  }
};

struct NegativeOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return T(wide_unsigned_t<T>(0) - wide_unsigned_t<T>(x));
    } else {
      return -x;
    }
  }
};

// -1, 0 or 1 (NaN stays NaN); complex: x / |x|.
struct SignOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_same_v<T, complex64_t>) {
      float m = std::abs(x);
      return m == 0 ? complex64_t(0) : x / m;
    } else if constexpr (std::is_unsigned_v<T>) {
      return T(x != 0);
    } else if constexpr (std::is_integral_v<T>) {
      return T((x > 0) - (x < 0));
    } else {
      return std::isnan(x) ? x : T((x > 0) - (x < 0));
    }
  }
};

struct SquareOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) {
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      return T(wide_unsigned_t<T>(x) * wide_unsigned_t<T>(x));
    } else {
      return x * x;
    }
  }
};

struct FloorOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) return x;
    else return std::floor(x);
  }
};

struct CeilOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) return x;
    else return std::ceil(x);
  }
};

// Half to even under the default rounding mode.
struct RoundOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) return x;
    else return std::nearbyint(x);
  }
};

struct LogicalNotOp {
  bool operator()(bool x) const { return !x; }
};

struct BitwiseInvertOp {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) return !x;
    else return T(~x);
  }
};

struct RealOp {
  float operator()(complex64_t x) const { return x.real(); }
};
struct ImagOp {
  float operator()(complex64_t x) const { return x.imag(); }
};
struct ConjugateOp {
  complex64_t operator()(complex64_t x) const { return std::conj(x); }
};

}  // namespace

void Abs::eval_cpu(const std::vector<array>& in, array& out) {
  if (in[0].dtype() == complex64) {
    unary_to<k_complex, float>(name(), in[0], out, AbsOp{});
  } else {
    unary_same<k_bool | k_int | k_float>(name(), in[0], out, AbsOp{});
  }
}
void Negative::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_int | k_float | k_complex>(name(), in[0], out, NegativeOp{});
}
void Sign::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_int | k_float | k_complex>(name(), in[0], out, SignOp{});
}
void Square::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_all>(name(), in[0], out, SquareOp{});
}
void Floor::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_bool | k_int | k_float>(name(), in[0], out, FloorOp{});
}
void Ceil::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_bool | k_int | k_float>(name(), in[0], out, CeilOp{});
}
void Round::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_bool | k_int | k_float>(name(), in[0], out, RoundOp{});
}
void LogicalNot::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_bool>(name(), in[0], out, LogicalNotOp{});
}
void BitwiseInvert::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_bool | k_int>(name(), in[0], out, BitwiseInvertOp{});
}
void Real::eval_cpu(const std::vector<array>& in, array& out) {
  unary_to<k_complex, float>(name(), in[0], out, RealOp{});
}
void Imag::eval_cpu(const std::vector<array>& in, array& out) {
  unary_to<k_complex, float>(name(), in[0], out, ImagOp{});
}
void Conjugate::eval_cpu(const std::vector<array>& in, array& out) {
  unary_same<k_complex>(name(), in[0], out, ConjugateOp{});
}

// The value is the input's: share its buffer and layout.
void StopGradient::eval_cpu(const std::vector<array>& in, array& out) { out.copy_shared_buffer(in[0]); }

}  // namespace uma
