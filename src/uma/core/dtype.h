// Element types, their sizes and names, and NumPy/MLX-style type promotion.
#pragma once

#include <complex>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <type_traits>

namespace uma {

// IEEE half precision (hardware conversions through F16C).
using float16_t = _Float16;

// bfloat16: the upper 16 bits of a float32; conversion rounds to nearest even.
struct bfloat16_t {
  uint16_t bits = 0;

  bfloat16_t() = default;
  static constexpr bfloat16_t from_bits(uint16_t b) {
    bfloat16_t r;
    r.bits = b;
    return r;
  }
  bfloat16_t(float f) {  // NOLINT: implicit like a built-in float type
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  bfloat16_t(T v) : bfloat16_t(static_cast<float>(v)) {}  // NOLINT
  operator float() const {  // NOLINT
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

using complex64_t = std::complex<float>;

enum class Dtype : uint8_t {
  bool_,
  uint8,
  uint16,
  uint32,
  uint64,
  int8,
  int16,
  int32,
  int64,
  float16,
  bfloat16,
  float32,
  float64,
  complex64,
};
inline constexpr int num_dtypes = 14;

inline constexpr Dtype bool_ = Dtype::bool_;
inline constexpr Dtype uint8 = Dtype::uint8;
inline constexpr Dtype uint16 = Dtype::uint16;
inline constexpr Dtype uint32 = Dtype::uint32;
inline constexpr Dtype uint64 = Dtype::uint64;
inline constexpr Dtype int8 = Dtype::int8;
inline constexpr Dtype int16 = Dtype::int16;
inline constexpr Dtype int32 = Dtype::int32;
inline constexpr Dtype int64 = Dtype::int64;
inline constexpr Dtype float16 = Dtype::float16;
inline constexpr Dtype bfloat16 = Dtype::bfloat16;
inline constexpr Dtype float32 = Dtype::float32;
inline constexpr Dtype float64 = Dtype::float64;
inline constexpr Dtype complex64 = Dtype::complex64;

// The category of a dtype, as MLX's `Dtype::Category` / NumPy's kind.
enum class DtypeKind : uint8_t { boolean, unsigned_int, signed_int, floating, complex };

size_t size_of(Dtype t);
const char* dtype_name(Dtype t);
DtypeKind kind_of(Dtype t);
inline bool is_floating_point(Dtype t) { return kind_of(t) == DtypeKind::floating; }
inline bool is_complex(Dtype t) { return kind_of(t) == DtypeKind::complex; }
inline bool is_inexact(Dtype t) { return is_floating_point(t) || is_complex(t); }
inline bool is_integral(Dtype t) {
  return kind_of(t) == DtypeKind::signed_int || kind_of(t) == DtypeKind::unsigned_int;
}
inline bool is_unsigned(Dtype t) { return kind_of(t) == DtypeKind::unsigned_int; }
// Parses "float32", "bfloat16", "bool", ...; throws std::invalid_argument.
Dtype dtype_from_string(const std::string& name);

// The smallest type both a and b convert to without loss (MLX's table):
// bool < ints < floats < complex; int + float16 -> float16; float16 + bfloat16
// -> float32; uint64 + int -> float32 as MLX does.
Dtype promote_types(Dtype a, Dtype b);

std::ostream& operator<<(std::ostream& os, Dtype t);

template <typename T>
struct dtype_of_t;
#define UMA_DTYPE_OF(T, D) \
  template <>              \
  struct dtype_of_t<T> {   \
    static constexpr Dtype value = D; \
  };
UMA_DTYPE_OF(bool, bool_)
UMA_DTYPE_OF(uint8_t, uint8)
UMA_DTYPE_OF(uint16_t, uint16)
UMA_DTYPE_OF(uint32_t, uint32)
UMA_DTYPE_OF(uint64_t, uint64)
UMA_DTYPE_OF(int8_t, int8)
UMA_DTYPE_OF(int16_t, int16)
UMA_DTYPE_OF(int32_t, int32)
UMA_DTYPE_OF(int64_t, int64)
UMA_DTYPE_OF(float16_t, float16)
UMA_DTYPE_OF(bfloat16_t, bfloat16)
UMA_DTYPE_OF(float, float32)
UMA_DTYPE_OF(double, float64)
UMA_DTYPE_OF(complex64_t, complex64)
#undef UMA_DTYPE_OF
template <typename T>
inline constexpr Dtype dtype_of = dtype_of_t<T>::value;

// Element types an array can be built from.
template <typename T>
concept ArrayElement = requires { dtype_of_t<std::remove_cvref_t<T>>::value; };

template <typename T>
struct type_tag {
  using type = T;
};

// Calls f(type_tag<T>{}) with T the C++ type of dtype t:
//   dispatch_all(a.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ... });
template <typename F>
decltype(auto) dispatch_all(Dtype t, F&& f) {
  switch (t) {
    case Dtype::bool_: return f(type_tag<bool>{});
    case Dtype::uint8: return f(type_tag<uint8_t>{});
    case Dtype::uint16: return f(type_tag<uint16_t>{});
    case Dtype::uint32: return f(type_tag<uint32_t>{});
    case Dtype::uint64: return f(type_tag<uint64_t>{});
    case Dtype::int8: return f(type_tag<int8_t>{});
    case Dtype::int16: return f(type_tag<int16_t>{});
    case Dtype::int32: return f(type_tag<int32_t>{});
    case Dtype::int64: return f(type_tag<int64_t>{});
    case Dtype::float16: return f(type_tag<float16_t>{});
    case Dtype::bfloat16: return f(type_tag<bfloat16_t>{});
    case Dtype::float32: return f(type_tag<float>{});
    case Dtype::float64: return f(type_tag<double>{});
    case Dtype::complex64: return f(type_tag<complex64_t>{});
  }
  return f(type_tag<float>{});  // unreachable
}

// Converts between any two element types (complex -> real takes the real part;
// anything -> bool is `!= 0`).
template <typename To, typename From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, complex64_t>) {
    if constexpr (std::is_same_v<To, bool>) {
      return v != complex64_t(0);
    } else {
      return convert<To>(v.real());
    }
  } else if constexpr (std::is_same_v<To, complex64_t>) {
    return complex64_t(static_cast<float>(v), 0.f);
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<float>(v) != 0.f || (std::is_integral_v<From> && v != From(0));
  } else if constexpr (std::is_same_v<From, bfloat16_t> || std::is_same_v<From, float16_t>) {
    return static_cast<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bfloat16_t>) {
    return bfloat16_t(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace uma
