// Drivers shared by the elementwise kernels (unary.cpp, binary.cpp,
// ternary.cpp): output allocation with buffer donation, the layout paths
// (contiguous, scalar-vector, general strided over collapsed dims),
// threading, and half types computed in float32 block by block.
//
// An op is a functor with `R operator()(C x) const` (or two args) where C
// is the compute type (float for float16/bfloat16). Ops may add a static
// `vec(format, ...)` calling a SIMD kernel (see simd/kernels.h), used for
// contiguous and scalar-broadcast rows of float32, float16 and bfloat16.
#pragma once

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/strided.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/array.h"

namespace uma::cpu {

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;
template <typename T>
using compute_t = std::conditional_t<is_half_v<T>, float, T>;

// The SIMD format of T, or -1 where the SIMD kernels do not apply.
template <typename T>
inline constexpr int simd_format_v = std::is_same_v<T, float>        ? simd::f32
                                     : std::is_same_v<T, float16_t>  ? simd::f16
                                     : std::is_same_v<T, bfloat16_t> ? simd::bf16
                                                                     : -1;

// --- which dtypes a kernel accepts
enum Kinds : unsigned { k_bool = 1, k_int = 2, k_float = 4, k_complex = 8 };
inline constexpr unsigned k_all = k_bool | k_int | k_float | k_complex;
template <typename T>
constexpr unsigned kind_bit() {
  if constexpr (std::is_same_v<T, bool>) return k_bool;
  else if constexpr (std::is_integral_v<T>) return k_int;
  else if constexpr (std::is_same_v<T, complex64_t>) return k_complex;
  else return k_float;
}

// Calls f(type_tag<T>) for dtypes in K; a kernel asked for any other dtype
// (the ops never do that) is an error naming the primitive.
template <unsigned K, typename F>
void dispatch_kinds(Dtype t, const char* prim, F&& f) {
  dispatch_all(t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr ((kind_bit<T>() & K) != 0) {
      f(tag);
    } else {
      throw std::invalid_argument(std::string("[") + prim + "] no CPU kernel for " + dtype_name(t));
    }
  });
}

// --- half <-> float in blocks
inline constexpr int64_t kBlock = 256;

template <typename T>
void load_block(const T* x, int64_t stride, compute_t<T>* y, int64_t n) {
  if (stride == 0) {
    std::fill(y, y + n, compute_t<T>(x[0]));
  } else if (stride != 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = compute_t<T>(x[i * stride]);
  } else if constexpr (std::is_same_v<T, float16_t>) {
    simd::kernels().f16_to_f32(reinterpret_cast<const uint16_t*>(x), y, n);
  } else if constexpr (std::is_same_v<T, bfloat16_t>) {
    simd::kernels().bf16_to_f32(reinterpret_cast<const uint16_t*>(x), y, n);
  } else {
    std::copy(x, x + n, y);
  }
}

template <typename R, typename U>
void store_block(const R* x, U* y, int64_t n) {
  if constexpr (std::is_same_v<U, float16_t> && std::is_same_v<R, float>) {
    simd::kernels().f32_to_f16(x, reinterpret_cast<uint16_t*>(y), n);
  } else if constexpr (std::is_same_v<U, bfloat16_t> && std::is_same_v<R, float>) {
    simd::kernels().f32_to_bf16(x, reinterpret_cast<uint16_t*>(y), n);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = convert<U>(x[i]);
  }
}

// Reuses `in`'s buffer for `out` when nobody else holds it and it already
// has out's item size and row-major layout.
inline bool donate(const array& in, array& out) {
  if (in.is_donatable() && in.itemsize() == out.itemsize() && in.size() == out.size() &&
      in.data_size() == in.size()) {
    out.copy_shared_buffer(in);
    return true;
  }
  return false;
}

inline size_t grain(size_t a, size_t b, size_t c = 0) { return grain_for_bytes(std::max({a, b, c})); }

// ------------------------------------------------------------------ unary
template <typename Op>
concept has_vec1 = requires(const void* x, void* y, int64_t n) { Op::vec(simd::f32, x, y, n); };

// out[i] = op(in[i * s]) for i < n (out contiguous).
template <typename T, typename U, typename Op>
void unary_row(const T* in, int64_t s, U* out, int64_t n, Op op) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<T, U> && simd_format_v<T> >= 0 && has_vec1<Op>) {
    if (s == 1) return Op::vec(simd::Format(simd_format_v<T>), in, out, n);
  }
  if constexpr (is_half_v<T> || is_half_v<U>) {
    // Strided or converting rows of half types: float32 blocks.
    using R = decltype(op(C{}));
    C x[kBlock];
    R r[kBlock];
    for (int64_t i = 0; i < n; i += kBlock) {
      int64_t k = std::min(kBlock, n - i);
      load_block(in + i * s, s, x, k);
      for (int64_t j = 0; j < k; ++j) r[j] = op(x[j]);
      store_block(r, out + i, k);
    }
  } else if (s == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(in[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(in[i * s]));
  }
}

template <typename T, typename U, typename Op>
void unary_apply(const array& in, array& out, Op op) {
  const T* src = static_cast<const T*>(in.raw_ptr());
  if (in.flags().contiguous) {
    // Dense in some order: the output keeps the input's layout.
    size_t n = in.data_size();
    if (sizeof(T) != sizeof(U) || !donate(in, out)) {
      out.set_data(allocator::malloc(n * sizeof(U)), n, in.strides(), in.flags());
    }
    U* dst = static_cast<U*>(out.raw_ptr());
    parallel_for(n, grain(sizeof(T), sizeof(U)),
                 [&](size_t b, size_t e) { unary_row<T, U>(src + b, 1, dst + b, int64_t(e - b), op); });
    return;
  }
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  Shape shape = in.shape();
  std::array<Strides, 2> st{in.strides(), out.strides()};
  collapse_dims(shape, st);
  U* dst = static_cast<U*>(out.raw_ptr());
  for_each_row<2>(shape, st, true, [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& in_st) {
    unary_row<T, U>(src + off[0], in_st[0], dst + off[1], n, op);
  });
}

// Same dtype in and out.
template <unsigned K, typename Op>
void unary_same(const char* prim, const array& in, array& out, Op op) {
  dispatch_kinds<K>(in.dtype(), prim, [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_apply<T, T>(in, out, op);
  });
}

// A fixed output type U.
template <unsigned K, typename U, typename Op>
void unary_to(const char* prim, const array& in, array& out, Op op) {
  dispatch_kinds<K>(in.dtype(), prim, [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_apply<T, U>(in, out, op);
  });
}

// ------------------------------------------------------------------ binary
template <typename Op>
concept has_vec2 = requires(const void* a, const void* b, void* y, int64_t n) {
  Op::vec(simd::f32, a, b, y, n, simd::Mode::vv);
};

// out[i] = op(a[i * sa], b[i * sb]) for i < n (out contiguous).
template <typename T, typename U, typename Op>
void binary_row(const T* a, int64_t sa, const T* b, int64_t sb, U* out, int64_t n, Op op) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<T, U> && simd_format_v<T> >= 0 && has_vec2<Op>) {
    constexpr auto f = simd::Format(simd_format_v<T>);
    if (sa == 1 && sb == 1) return Op::vec(f, a, b, out, n, simd::Mode::vv);
    if (sa == 0 && sb == 1) return Op::vec(f, a, b, out, n, simd::Mode::sv);
    if (sa == 1 && sb == 0) return Op::vec(f, a, b, out, n, simd::Mode::vs);
  }
  if constexpr (is_half_v<T>) {
    using R = decltype(op(C{}, C{}));
    C x[kBlock], y[kBlock];
    R r[kBlock];
    for (int64_t i = 0; i < n; i += kBlock) {
      int64_t k = std::min(kBlock, n - i);
      load_block(a + i * sa, sa, x, k);
      load_block(b + i * sb, sb, y, k);
      for (int64_t j = 0; j < k; ++j) r[j] = op(x[j], y[j]);
      store_block(r, out + i, k);
    }
  } else if (sa == 1 && sb == 1) {
    // Separate loops so that the compiler vectorizes the common cases.
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(a[i], b[i]));
  } else if (sa == 0 && sb == 1) {
    T x = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(x, b[i]));
  } else if (sa == 1 && sb == 0) {
    T y = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(a[i], y));
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = convert<U>(op(a[i * sa], b[i * sb]));
  }
}

template <typename T, typename U, typename Op>
void binary_apply(const array& a, const array& b, array& out, Op op) {
  const T* pa = static_cast<const T*>(a.raw_ptr());
  const T* pb = static_cast<const T*>(b.raw_ptr());
  size_t g = grain(sizeof(T), sizeof(U));
  auto linear = [&](size_t n, int64_t sa, int64_t sb) {
    U* po = static_cast<U*>(out.raw_ptr());
    parallel_for(n, g, [&](size_t s, size_t e) {
      binary_row<T, U>(pa + int64_t(s) * sa, sa, pb + int64_t(s) * sb, sb, po + s, int64_t(e - s), op);
    });
  };
  auto fresh = [&](const array& like) {
    out.set_data(allocator::malloc(like.data_size() * sizeof(U)), like.data_size(), like.strides(), like.flags());
  };
  bool a_one = a.data_size() == 1, b_one = b.data_size() == 1;
  const Flags &fa = a.flags(), &fb = b.flags();
  if (out.size() == 0) {
    out.set_data(allocator::malloc(0));
  } else if (fa.row_contiguous && fb.row_contiguous) {
    if (!donate(a, out) && !donate(b, out)) out.set_data(allocator::malloc(out.nbytes()));
    linear(out.size(), 1, 1);
  } else if (fa.contiguous && fb.contiguous && a.strides() == b.strides() && a.data_size() == b.data_size()) {
    fresh(a);  // both dense in the same order (e.g. both transposed)
    linear(a.data_size(), 1, 1);
  } else if (a_one && fb.contiguous) {
    if (!donate(b, out)) fresh(b);
    linear(b.data_size(), 0, 1);
  } else if (b_one && fa.contiguous) {
    if (!donate(a, out)) fresh(a);
    linear(a.data_size(), 1, 0);
  } else {
    if (!donate(a, out) && !donate(b, out)) out.set_data(allocator::malloc(out.nbytes()));
    Shape shape = out.shape();
    std::array<Strides, 3> st{a.strides(), b.strides(), out.strides()};
    collapse_dims(shape, st);
    U* po = static_cast<U*>(out.raw_ptr());
    for_each_row<3>(shape, st, true, [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& s) {
      binary_row<T, U>(pa + off[0], s[0], pb + off[1], s[1], po + off[2], n, op);
    });
  }
}

template <unsigned K, typename Op>
void binary_same(const char* prim, const std::vector<array>& in, array& out, Op op) {
  dispatch_kinds<K>(in[0].dtype(), prim, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_apply<T, T>(in[0], in[1], out, op);
  });
}

template <unsigned K, typename U, typename Op>
void binary_to(const char* prim, const std::vector<array>& in, array& out, Op op) {
  dispatch_kinds<K>(in[0].dtype(), prim, [&](auto tag) {
    using T = typename decltype(tag)::type;
    binary_apply<T, U>(in[0], in[1], out, op);
  });
}

}  // namespace uma::cpu
