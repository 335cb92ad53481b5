// Helpers shared by the gather/scatter kernels: dispatch on index dtypes and
// item sizes, index fixing (wrap, then clamp or drop), window offsets, and
// elementwise combiners for the scatter reductions.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "uma/backend/cpu/strided.h"
#include "uma/core/array.h"

namespace uma::cpu {

// Index arrays reach the kernels as int32 or int64 (others are widened by
// as_wide_index), which keeps the number of kernel instantiations small.
array as_wide_index(const array& idx);

// Calls f(type_tag<I>{}) for a widened index dtype (int32 or int64).
template <typename F>
void dispatch_index(Dtype t, F&& f) {
  if (t == Dtype::int32) return f(type_tag<int32_t>{});
  if (t == Dtype::int64) return f(type_tag<int64_t>{});
  throw std::invalid_argument(std::string("[indexing] kernels take int32 or int64 indices, got ") + dtype_name(t));
}

// Calls f(type_tag<U>{}) with U an unsigned integer of the given byte size:
// moving elements only needs their size.
template <typename F>
void dispatch_bytes(size_t size, F&& f) {
  switch (size) {
    case 1: return f(type_tag<uint8_t>{});
    case 2: return f(type_tag<uint16_t>{});
    case 4: return f(type_tag<uint32_t>{});
    default: return f(type_tag<uint64_t>{});
  }
}

// out becomes a copy of src, reusing src's buffer when nobody else holds it
// (what makes slice_update / scatter into a KV cache cost O(update)).
void copy_or_donate(const array& src, array& out);

// The entries of an integer `start` array (any integer dtype) as int64, for
// the dynamic slice kernels.
std::vector<int64_t> read_start_indices(const array& start);

// Marks an index position whose window falls outside the array (writes skip it).
inline constexpr int64_t kDropped = std::numeric_limits<int64_t>::min();

// An index into an axis of size n for a window of length w: negative values
// count from the end; then values outside [0, n - w] are clamped (clamp) or
// reported as kDropped.
template <typename I>
inline int64_t fix_index(I raw, int64_t n, int64_t w, bool clamp) {
  int64_t v = int64_t(raw);
  if (v < 0) v += n;
  int64_t hi = n - w;
  if (v >= 0 && v <= hi) return v;
  if (!clamp) return kDropped;
  return v < 0 ? 0 : (hi < 0 ? 0 : hi);
}

// For each position i of the (equal-shaped) index arrays, the element offset
// sum_k fix(indices[k][i]) * strides[axes[k]] of the window of shape `window`
// in an array of `shape`; kDropped when a write must skip it (clamp false).
// With no index arrays there is one position, offset 0.
std::vector<int64_t> window_offsets(const std::vector<array>& indices, const std::vector<int>& axes,
                                    const Shape& shape, const Strides& strides, const Shape& window, bool clamp);

// Visits the elements [begin, end) (row-major) of `shape`, calling
// fn(offsets, n, inner_strides) per run inside one row, like for_each_row.
template <size_t K, typename F>
void for_each_span(const Shape& shape, const std::array<Strides, K>& strides, size_t begin, size_t end, F&& fn) {
  int nd = int(shape.size());
  size_t inner = size_t(shape.back());
  if (inner == 0 || begin >= end) return;
  std::array<int64_t, K> inner_strides;
  for (size_t k = 0; k < K; ++k) inner_strides[k] = strides[k].back();
  size_t row = begin / inner, col = begin % inner;
  std::vector<int64_t> idx(nd > 1 ? nd - 1 : 1, 0);
  std::array<int64_t, K> row_off{};
  for (int d = nd - 2; d >= 0; --d) {
    idx[d] = int64_t(row % size_t(shape[d]));
    row /= size_t(shape[d]);
    for (size_t k = 0; k < K; ++k) row_off[k] += idx[d] * strides[k][d];
  }
  while (begin < end) {
    size_t len = std::min(inner - col, end - begin);
    std::array<int64_t, K> off;
    for (size_t k = 0; k < K; ++k) off[k] = row_off[k] + int64_t(col) * inner_strides[k];
    fn(off, int64_t(len), inner_strides);
    begin += len;
    col = 0;
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        for (size_t k = 0; k < K; ++k) row_off[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < K; ++k) row_off[k] -= (shape[d] - 1) * strides[k][d];
      idx[d] = 0;
    }
  }
}

// --- scatter combiners: x = combine(x, y)

template <typename T>
inline bool greater_than(T a, T b) {
  if constexpr (std::is_same_v<T, complex64_t>) {
    return a.real() > b.real() || (a.real() == b.real() && a.imag() > b.imag());
  } else if constexpr (std::is_same_v<T, bfloat16_t>) {
    return float(a) > float(b);
  } else {
    return a > b;
  }
}

template <typename T>
inline bool is_nan_value(T v) {
  if constexpr (std::is_same_v<T, complex64_t>) {
    return std::isnan(v.real()) || std::isnan(v.imag());
  } else if constexpr (std::is_integral_v<T>) {
    return false;
  } else {
    return std::isnan(float(v));
  }
}

struct CombineAssign {
  template <typename T>
  void operator()(T& x, T y) const { x = y; }
};
struct CombineSum {
  template <typename T>
  void operator()(T& x, T y) const {
    if constexpr (std::is_same_v<T, bool>) {
      x = x || y;
    } else if constexpr (std::is_same_v<T, bfloat16_t>) {
      x = bfloat16_t(float(x) + float(y));
    } else {
      x = T(x + y);
    }
  }
};
struct CombineProd {
  template <typename T>
  void operator()(T& x, T y) const {
    if constexpr (std::is_same_v<T, bool>) {
      x = x && y;
    } else if constexpr (std::is_same_v<T, bfloat16_t>) {
      x = bfloat16_t(float(x) * float(y));
    } else {
      x = T(x * y);
    }
  }
};
struct CombineMax {
  template <typename T>
  void operator()(T& x, T y) const {
    if (is_nan_value(x)) return;
    if (is_nan_value(y) || greater_than(y, x)) x = y;
  }
};
struct CombineMin {
  template <typename T>
  void operator()(T& x, T y) const {
    if (is_nan_value(x)) return;
    if (is_nan_value(y) || greater_than(x, y)) x = y;
  }
};

}  // namespace uma::cpu
