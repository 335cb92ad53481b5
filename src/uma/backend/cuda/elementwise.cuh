// Shared by the elementwise kernels (unary.cu, binary.cu, ternary.cu): which
// dtypes a kernel accepts (and which only the CPU has), half types computed
// in float as the CPU backend does, float/double math overloads, complex64
// functions, and the launchers for the two layouts (linear: each input
// row-major or one broadcast element; general: strided views).
#pragma once

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "uma/backend/cuda/utils.cuh"

namespace uma::cuda::ew {

// --- which dtypes a kernel accepts (cpu/elementwise.h's kinds)
enum Kinds : unsigned { k_bool = 1, k_int = 2, k_float = 4, k_complex = 8 };
inline constexpr unsigned k_all = k_bool | k_int | k_float | k_complex;
inline constexpr unsigned k_num = k_bool | k_int | k_float;
inline constexpr unsigned k_integer = k_bool | k_int;
inline constexpr unsigned k_inexact = k_float | k_complex;

template <typename T>
constexpr unsigned kind_bit() {
  if constexpr (std::is_same_v<T, bool>) return k_bool;
  else if constexpr (std::is_integral_v<T>) return k_int;
  else if constexpr (std::is_same_v<T, complex64>) return k_complex;
  else return k_float;
}

// Calls f(type_tag<T>) when t's kind is in Gpu and returns true; returns
// false when it is in Cpu only (the caller falls back to the CPU kernel);
// any other dtype is an error naming the primitive.
template <unsigned Cpu, unsigned Gpu, typename F>
bool dispatch_kinds(Dtype t, const char* prim, F&& f) {
  static_assert((Gpu & ~Cpu) == 0, "a GPU kernel for a dtype the CPU rejects");
  return dispatch(t, [&](auto tag) -> bool {
    using T = typename decltype(tag)::type;
    if constexpr ((kind_bit<T>() & Gpu) != 0) {
      f(tag);
      return true;
    } else if constexpr ((kind_bit<T>() & Cpu) != 0) {
      return false;
    } else {
      throw std::invalid_argument(std::string("[") + prim + "] no kernel for " + dtype_name(t));
    }
  });
}

// The CPU kernel on host copies (a dtype whose GPU kernel is not written).
inline void fallback(Primitive& p, const std::vector<array>& inputs, array& out) {
  std::vector<array> outs{out};
  cpu_fallback(p, inputs, outs);
}

// Integer arithmetic that wraps (two's complement) instead of being UB.
template <typename T>
using wide_unsigned_t = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

// --- half types are computed in float and rounded once (to nearest even)
template <typename T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

template <typename T>
__device__ inline compute_t<T> load(T v) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(v);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __bfloat162float(v);
  } else {
    return v;
  }
}

// --- device math: one name for float and double (and complex64 below)
namespace dm {
#define UMA_DM1(NAME)                                                  \
  __device__ inline float NAME(float x) { return ::NAME##f(x); }      \
  __device__ inline double NAME(double x) { return ::NAME(x); }
UMA_DM1(exp) UMA_DM1(expm1) UMA_DM1(log) UMA_DM1(log2) UMA_DM1(log10) UMA_DM1(log1p) UMA_DM1(sqrt)
UMA_DM1(sin) UMA_DM1(cos) UMA_DM1(tan) UMA_DM1(asin) UMA_DM1(acos) UMA_DM1(atan) UMA_DM1(sinh)
UMA_DM1(cosh) UMA_DM1(tanh) UMA_DM1(asinh) UMA_DM1(acosh) UMA_DM1(atanh) UMA_DM1(erf) UMA_DM1(floor)
UMA_DM1(ceil) UMA_DM1(rint) UMA_DM1(fabs)
#undef UMA_DM1
#define UMA_DM2(NAME)                                                         \
  __device__ inline float NAME(float x, float y) { return ::NAME##f(x, y); } \
  __device__ inline double NAME(double x, double y) { return ::NAME(x, y); }
UMA_DM2(atan2) UMA_DM2(pow) UMA_DM2(fmod) UMA_DM2(copysign) UMA_DM2(hypot)
#undef UMA_DM2

// complex64 as glibc computes it for finite arguments of moderate size
// (std::complex<float> calls glibc), with the common special values.
__device__ inline float abs(complex64 z) { return ::hypotf(z.re, z.im); }

__device__ inline complex64 exp(complex64 z) {
  if (::isinf(z.re) && z.re < 0 && !::isfinite(z.im)) return {0.f, 0.f};
  float e = ::expf(z.re);
  if (z.im == 0) return {e, z.im};  // the real axis stays exact (e may be inf)
  float s, c;
  ::sincosf(z.im, &s, &c);
  return {e * c, e * s};
}

__device__ inline complex64 log(complex64 z) { return {::logf(::hypotf(z.re, z.im)), ::atan2f(z.im, z.re)}; }

// Principal root, without cancellation (glibc's csqrt).
__device__ inline complex64 sqrt(complex64 z) {
  float x = z.re, y = z.im;
  if (::isinf(y)) return {INFINITY, y};
  if (y == 0) {
    if (x < 0) return {0.f, ::copysignf(::sqrtf(-x), y)};
    return {::sqrtf(x), y};
  }
  if (x == 0) {
    float r = ::sqrtf(0.5f * ::fabsf(y));
    return {r, ::copysignf(r, y)};
  }
  float h = ::hypotf(x, y);
  if (x > 0) {
    float r = ::sqrtf(0.5f * (h + x));
    return {r, 0.5f * y / r};
  }
  float s = ::sqrtf(0.5f * (h - x));
  return {::fabsf(0.5f * y / s), ::copysignf(s, y)};
}

__device__ inline complex64 sin(complex64 z) {
  float s, c;
  ::sincosf(z.re, &s, &c);
  return {s * ::coshf(z.im), c * ::sinhf(z.im)};
}
__device__ inline complex64 cos(complex64 z) {
  float s, c;
  ::sincosf(z.re, &s, &c);
  return {c * ::coshf(z.im), -(s * ::sinhf(z.im))};
}
__device__ inline complex64 sinh(complex64 z) {
  float s, c;
  ::sincosf(z.im, &s, &c);
  return {::sinhf(z.re) * c, ::coshf(z.re) * s};
}
__device__ inline complex64 cosh(complex64 z) {
  float s, c;
  ::sincosf(z.im, &s, &c);
  return {::coshf(z.re) * c, ::sinhf(z.re) * s};
}
// tanh(x+iy) = (sinh x cosh x + i sin y cos y) / (sinh^2 x + cos^2 y): a sum
// of squares below, so no cancellation (glibc's ctanh).
__device__ inline complex64 tanh(complex64 z) {
  float s, c;
  ::sincosf(z.im, &s, &c);
  if (::fabsf(z.re) > 20.f) return {::copysignf(1.f, z.re), 4.f * s * c * ::expf(-2.f * ::fabsf(z.re))};
  float sh = ::sinhf(z.re), ch = ::coshf(z.re);
  float den = sh * sh + c * c;
  return {sh * ch / den, s * c / den};
}
// tan(z) = -i tanh(iz).
__device__ inline complex64 tan(complex64 z) {
  complex64 t = tanh(complex64{-z.im, z.re});
  return {t.im, -t.re};
}
// a^b = exp(b log a), as glibc's cpow.
__device__ inline complex64 pow(complex64 a, complex64 b) { return exp(b * log(a)); }
}  // namespace dm

// --- launchers
constexpr int kThreads = 256;

inline int grid_for(int64_t n) { return std::max(1, std::min(blocks_for(size_t(n), kThreads), 65535 * 4)); }

// An input's stride in the linear kernels: 1 when row-major and dense, 0
// when every element is the same one (a broadcast scalar); -1 otherwise.
inline int64_t linear_stride(const array& a) {
  if (a.data_size() == 1) return 0;
  if (a.flags().row_contiguous && a.data_size() == a.size()) return 1;
  return -1;
}

#define UMA_EW_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// out[i] = op(x[i * sx]), sx 0 or 1.
template <typename T, typename U, typename Op>
__global__ void unary_linear(const T* x, int64_t sx, U* out, int64_t n, Op op) {
  UMA_EW_LOOP(i, n) { out[i] = convert<U>(op(load(x[i * sx]))); }
}

template <typename T, typename U, typename Op>
__global__ void unary_general(const T* x, U* out, int64_t n, Strided<1> layout, Op op) {
  UMA_EW_LOOP(i, n) {
    int64_t off[1];
    layout.offsets(i, off);
    out[i] = convert<U>(op(load(x[off[0]])));
  }
}

template <typename T, typename U, typename Op>
__global__ void binary_linear(const T* a, int64_t sa, const T* b, int64_t sb, U* out, int64_t n, Op op) {
  UMA_EW_LOOP(i, n) { out[i] = convert<U>(op(load(a[i * sa]), load(b[i * sb]))); }
}

template <typename T, typename U, typename Op>
__global__ void binary_general(const T* a, const T* b, U* out, int64_t n, Strided<2> layout, Op op) {
  UMA_EW_LOOP(i, n) {
    int64_t off[2];
    layout.offsets(i, off);
    out[i] = convert<U>(op(load(a[off[0]]), load(b[off[1]])));
  }
}

// out (fresh, row-major) = op(x) elementwise on stream s.
template <typename T, typename U, typename Op>
void unary_launch(const array& x, array& out, const Stream& s, const char* name, Op op) {
  U* po = static_cast<U*>(out_ptr(out, s));
  int64_t n = int64_t(out.size());
  if (n == 0) return;
  const T* px = in<T>(x, s);
  cudaStream_t cs = stream(s);
  int64_t sx = linear_stride(x);
  if (sx >= 0) {
    unary_linear<<<grid_for(n), kThreads, 0, cs>>>(px, sx, po, n, op);
  } else {
    unary_general<<<grid_for(n), kThreads, 0, cs>>>(px, po, n, make_strided<1>(x.shape(), {x.strides()}, name), op);
  }
  UMA_CUDA_LAUNCHED(name);
}

template <typename T, typename U, typename Op>
void binary_launch(const array& a, const array& b, array& out, const Stream& s, const char* name, Op op) {
  U* po = static_cast<U*>(out_ptr(out, s));
  int64_t n = int64_t(out.size());
  if (n == 0) return;
  const T* pa = in<T>(a, s);
  const T* pb = in<T>(b, s);
  cudaStream_t cs = stream(s);
  int64_t sa = linear_stride(a), sb = linear_stride(b);
  if (sa >= 0 && sb >= 0) {
    binary_linear<<<grid_for(n), kThreads, 0, cs>>>(pa, sa, pb, sb, po, n, op);
  } else {
    auto layout = make_strided<2>(out.shape(), {a.strides(), b.strides()}, name);
    binary_general<<<grid_for(n), kThreads, 0, cs>>>(pa, pb, po, n, layout, op);
  }
  UMA_CUDA_LAUNCHED(name);
}

// eval_gpu bodies: out has the input's dtype (_same) or U (_to); dtypes of
// Cpu but not Gpu run the CPU kernel.
template <unsigned Cpu, unsigned Gpu, typename Op>
void unary_same(Primitive& p, const std::vector<array>& inputs, array& out, Op op) {
  bool done = dispatch_kinds<Cpu, Gpu>(inputs[0].dtype(), p.name(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_launch<T, T>(inputs[0], out, p.stream(), p.name(), op);
  });
  if (!done) fallback(p, inputs, out);
}

template <unsigned Cpu, unsigned Gpu, typename U, typename Op>
void unary_to(Primitive& p, const std::vector<array>& inputs, array& out, Op op) {
  bool done = dispatch_kinds<Cpu, Gpu>(inputs[0].dtype(), p.name(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_launch<T, U>(inputs[0], out, p.stream(), p.name(), op);
  });
  if (!done) fallback(p, inputs, out);
}

template <unsigned Cpu, unsigned Gpu, typename Op>
void binary_same(Primitive& p, const std::vector<array>& inputs, array& out, Op op) {
  bool done = dispatch_kinds<Cpu, Gpu>(inputs[0].dtype(), p.name(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_launch<T, T>(inputs[0], inputs[1], out, p.stream(), p.name(), op);
  });
  if (!done) fallback(p, inputs, out);
}

template <unsigned Cpu, unsigned Gpu, typename U, typename Op>
void binary_to(Primitive& p, const std::vector<array>& inputs, array& out, Op op) {
  bool done = dispatch_kinds<Cpu, Gpu>(inputs[0].dtype(), p.name(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_launch<T, U>(inputs[0], inputs[1], out, p.stream(), p.name(), op);
  });
  if (!done) fallback(p, inputs, out);
}

}  // namespace uma::cuda::ew
