// Device-side helpers shared by the CUDA kernels: the element types of every
// dtype, conversions between them, and strided addressing.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "uma/backend/cpu/strided.h"
#include "uma/backend/cuda/device.h"

namespace uma::cuda {

// complex64 on the device: two floats, laid out as std::complex<float>.
struct alignas(8) complex64 {
  float re, im;
};
__host__ __device__ inline complex64 operator+(complex64 a, complex64 b) { return {a.re + b.re, a.im + b.im}; }
__host__ __device__ inline complex64 operator-(complex64 a, complex64 b) { return {a.re - b.re, a.im - b.im}; }
__host__ __device__ inline complex64 operator*(complex64 a, complex64 b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
__host__ __device__ inline complex64 operator/(complex64 a, complex64 b) {
  float d = b.re * b.re + b.im * b.im;
  return {(a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d};
}
__host__ __device__ inline bool operator==(complex64 a, complex64 b) { return a.re == b.re && a.im == b.im; }

template <typename T>
struct type_tag {
  using type = T;
};

// Calls f(type_tag<T>{}) with T the device element type of t.
template <typename F>
decltype(auto) dispatch(Dtype t, F&& f) {
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
    case Dtype::float16: return f(type_tag<__half>{});
    case Dtype::bfloat16: return f(type_tag<__nv_bfloat16>{});
    case Dtype::float32: return f(type_tag<float>{});
    case Dtype::float64: return f(type_tag<double>{});
    case Dtype::complex64: return f(type_tag<complex64>{});
  }
  throw std::invalid_argument("[cuda] unknown dtype");
}

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

// Any element type to float / double and back, as the CPU backend converts
// (float -> integer truncates; -> bool is != 0; complex -> real drops the
// imaginary part).
template <typename T>
__device__ inline double to_double(T v) {
  if constexpr (std::is_same_v<T, complex64>) {
    return v.re;
  } else if constexpr (is_half_v<T>) {
    return double(float(v));
  } else {
    return double(v);
  }
}

template <typename To, typename From>
__device__ inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, complex64>) {
    if constexpr (is_half_v<From>) {
      return complex64{float(v), 0.f};
    } else {
      return complex64{float(v), 0.f};
    }
  } else if constexpr (std::is_same_v<From, complex64>) {
    if constexpr (std::is_same_v<To, bool>) {
      return v.re != 0.f || v.im != 0.f;
    } else {
      return convert<To>(v.re);
    }
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (is_half_v<From>) {
      return float(v) != 0.f;
    } else {
      return v != From(0);
    }
  } else if constexpr (std::is_same_v<To, __half>) {
    if constexpr (std::is_same_v<From, double>) {
      return __double2half(v);
    } else if constexpr (std::is_same_v<From, __nv_bfloat16>) {
      return __float2half(__bfloat162float(v));
    } else {
      return __float2half(float(v));
    }
  } else if constexpr (std::is_same_v<To, __nv_bfloat16>) {
    if constexpr (std::is_same_v<From, double>) {
      return __double2bfloat16(v);
    } else if constexpr (std::is_same_v<From, __half>) {
      return __float2bfloat16(__half2float(v));
    } else {
      return __float2bfloat16(float(v));
    }
  } else if constexpr (is_half_v<From>) {
    return static_cast<To>(float(v));
  } else {
    return static_cast<To>(v);
  }
}

// Strided addressing of up to kMaxDims dimensions for K operands sharing a
// shape (dimensions contiguous in every operand are merged first).
constexpr int kMaxDims = 10;

template <int K>
struct Strided {
  int ndim = 0;
  int32_t shape[kMaxDims];
  int64_t strides[K][kMaxDims];

  // Element offsets of linear index i (row-major over shape) in each operand.
  __device__ void offsets(int64_t i, int64_t (&off)[K]) const {
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t q = i / shape[d], r = i - q * shape[d];
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += r * strides[k][d];
      i = q;
    }
  }
};

// Collapses (shape, strides...) and packs them; throws if more than
// kMaxDims dimensions remain, naming `who`.
template <int K>
Strided<K> make_strided(Shape shape, std::array<Strides, K> strides, const char* who) {
  cpu::collapse_dims(shape, strides);
  const Shape& ns = shape;
  const std::array<Strides, K>& nst = strides;
  if (int(ns.size()) > kMaxDims) {
    throw std::invalid_argument(std::string("[") + who + "] views with more than " + std::to_string(kMaxDims) +
                                " non-mergeable dimensions are not supported on the GPU");
  }
  Strided<K> s;
  s.ndim = int(ns.size());
  for (int d = 0; d < s.ndim; ++d) {
    s.shape[d] = ns[d];
    for (int k = 0; k < K; ++k) s.strides[k][d] = nst[k][d];
  }
  return s;
}

}  // namespace uma::cuda
