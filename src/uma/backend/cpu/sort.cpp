// CPU kernels of Sort, ArgSort, Partition and ArgPartition. The input is made
// row-major and viewed as (outer, n, inner) with n the sorted axis; each of
// the outer*inner lines is sorted in place (inner == 1) or through a buffer.
// NaNs order after everything; index sorts carry (value, index) pairs with
// the index as tie-break, which makes argsort stable.
#include <algorithm>
#include <cmath>
#include <vector>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/sort.h"

namespace uma {

namespace {

template <typename T>
using key_t = std::conditional_t<std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>, float, T>;

// a < b with NaN greater than every number (a strict weak order).
template <typename T>
inline bool less_nan_last(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return a < b || (std::isnan(b) && !std::isnan(a));
  } else {
    return a < b;
  }
}

struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  // Offset of line l's first element; elements are `inner` apart.
  int64_t start(int64_t l) const { return (l / inner) * n * inner + l % inner; }
};

Lines lines_of(const array& a, int axis) {
  Lines L;
  L.n = a.shape(axis);
  for (int d = 0; d < axis; ++d) L.outer *= a.shape(d);
  for (int d = axis + 1; d < int(a.ndim()); ++d) L.inner *= a.shape(d);
  return L;
}

template <typename F>
void for_lines(const Lines& L, F&& f) {
  size_t grain = size_t(std::max<int64_t>(1, (int64_t(1) << 13) / std::max<int64_t>(L.n, 1)));
  cpu::parallel_for(size_t(L.count()), grain, [&](size_t b, size_t e) { f(int64_t(b), int64_t(e)); });
}

// Sorts (partial = false) or partitions at kth each line of `out` in place.
template <typename T>
void sort_values(T* data, const Lines& L, bool partial, int kth) {
  using K = key_t<T>;
  for_lines(L, [&](int64_t b, int64_t e) {
    std::vector<K> buf(size_t(L.n));
    auto cmp = [](K a, K b) { return less_nan_last(a, b); };
    for (int64_t l = b; l < e; ++l) {
      T* p = data + L.start(l);
      if constexpr (std::is_same_v<K, T>) {
        if (L.inner == 1) {  // in place
          partial ? std::nth_element(p, p + kth, p + L.n, cmp) : std::sort(p, p + L.n, cmp);
          continue;
        }
      }
      for (int64_t i = 0; i < L.n; ++i) buf[i] = static_cast<K>(p[i * L.inner]);
      if (partial) {
        std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), cmp);
      } else {
        std::sort(buf.begin(), buf.end(), cmp);
      }
      for (int64_t i = 0; i < L.n; ++i) p[i * L.inner] = T(buf[i]);
    }
  });
}

template <typename T>
void sort_indices(const T* data, uint32_t* out, const Lines& L, bool partial, int kth) {
  using K = key_t<T>;
  using P = std::pair<K, uint32_t>;
  for_lines(L, [&](int64_t b, int64_t e) {
    std::vector<P> buf(size_t(L.n));
    for (int64_t l = b; l < e; ++l) {
      const T* p = data + L.start(l);
      for (int64_t i = 0; i < L.n; ++i) buf[i] = {static_cast<K>(p[i * L.inner]), uint32_t(i)};
      auto cmp = [](const P& a, const P& b) {
        if (less_nan_last(a.first, b.first)) return true;
        if (less_nan_last(b.first, a.first)) return false;
        return a.second < b.second;
      };
      if (partial) {
        std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), cmp);
      } else {
        std::sort(buf.begin(), buf.end(), cmp);
      }
      uint32_t* q = out + L.start(l);
      for (int64_t i = 0; i < L.n; ++i) q[i * L.inner] = buf[i].second;
    }
  });
}

template <typename F>
void dispatch_ordered(Dtype t, const char* op, F&& f) {
  dispatch_all(t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, complex64_t>) {
      throw std::invalid_argument(std::string("[") + op + "] complex64 arrays have no order");
    } else {
      f(tag);
    }
  });
}

void eval_values(const array& in, array& out, int axis, bool partial, int kth, const char* op) {
  cpu::copy_to_new(in, out);
  if (out.size() == 0) return;
  Lines L = lines_of(out, axis);
  dispatch_ordered(out.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    sort_values(static_cast<T*>(out.raw_ptr()), L, partial, kth);
  });
}

void eval_indices(const array& input, array& out, int axis, bool partial, int kth, const char* op) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array in = cpu::row_major(input);
  Lines L = lines_of(in, axis);
  dispatch_ordered(in.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    sort_indices(static_cast<const T*>(in.raw_ptr()), static_cast<uint32_t*>(out.raw_ptr()), L, partial, kth);
  });
}

}  // namespace

void Sort::eval_cpu(const std::vector<array>& inputs, array& out) {
  eval_values(inputs[0], out, axis_, false, 0, "sort");
}

void ArgSort::eval_cpu(const std::vector<array>& inputs, array& out) {
  eval_indices(inputs[0], out, axis_, false, 0, "argsort");
}

void Partition::eval_cpu(const std::vector<array>& inputs, array& out) {
  eval_values(inputs[0], out, axis_, true, kth_, "partition");
}

void ArgPartition::eval_cpu(const std::vector<array>& inputs, array& out) {
  eval_indices(inputs[0], out, axis_, true, kth_, "argpartition");
}

}  // namespace uma
