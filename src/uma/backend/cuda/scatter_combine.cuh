// Scatter combiners on the device, with the CPU's arithmetic (cpu::Combine*
// in backend/cpu/indexing_utils.h): bool sums are "or" and products "and",
// half types compute in float, max/min propagate NaN and order complex
// numbers lexicographically. The Atomic* forms are safe for duplicate
// indices: native atomics where CUDA has them, else a compare-and-swap loop
// on the aligned word that holds the element.
#pragma once

#include <cstring>

#include "uma/backend/cuda/utils.cuh"

// Nested in ix (indexing) so these inline helpers never meet another
// family's of the same name.
namespace uma::cuda::ix {

template <typename T>
__device__ inline bool nan_value(T v) {
  if constexpr (std::is_same_v<T, complex64>) {
    return isnan(v.re) || isnan(v.im);
  } else if constexpr (is_half_v<T>) {
    return isnan(float(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return isnan(v);
  } else {
    return false;
  }
}

template <typename T>
__device__ inline bool greater(T a, T b) {
  if constexpr (std::is_same_v<T, complex64>) {
    return a.re > b.re || (a.re == b.re && a.im > b.im);
  } else if constexpr (is_half_v<T>) {
    return float(a) > float(b);
  } else {
    return a > b;
  }
}

template <typename T>
__device__ inline T sum_of(T x, T y) {
  if constexpr (std::is_same_v<T, bool>) {
    return x || y;
  } else if constexpr (is_half_v<T>) {
    return convert<T>(float(x) + float(y));
  } else if constexpr (std::is_same_v<T, complex64>) {
    return x + y;
  } else {
    return T(x + y);
  }
}

template <typename T>
__device__ inline T prod_of(T x, T y) {
  if constexpr (std::is_same_v<T, bool>) {
    return x && y;
  } else if constexpr (is_half_v<T>) {
    return convert<T>(float(x) * float(y));
  } else if constexpr (std::is_same_v<T, complex64>) {
    return x * y;
  } else if constexpr (std::is_integral_v<T> && sizeof(T) < 4) {
    return T(uint32_t(x) * uint32_t(y));  // the CPU's wrap-around, without int overflow
  } else {
    return T(x * y);
  }
}

template <typename T>
__device__ inline T max_of(T x, T y) {
  if (nan_value(x)) return x;
  return (nan_value(y) || greater(y, x)) ? y : x;
}

template <typename T>
__device__ inline T min_of(T x, T y) {
  if (nan_value(x)) return x;
  return (nan_value(y) || greater(x, y)) ? y : x;
}

// *p = f(*p) atomically, by compare-and-swap on the word holding *p.
template <typename T, typename F>
__device__ inline void atomic_apply(T* p, F f) {
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    using W = std::conditional_t<sizeof(T) == 4, unsigned int, unsigned long long>;
    W* w = reinterpret_cast<W*>(p);
    W old = *reinterpret_cast<volatile W*>(w), assumed;
    do {
      assumed = old;
      T x;
      memcpy(&x, &assumed, sizeof(T));
      T y = f(x);
      W nv;
      memcpy(&nv, &y, sizeof(T));
      if (nv == assumed) return;
      old = atomicCAS(w, assumed, nv);
    } while (old != assumed);
  } else {
    static_assert(sizeof(T) == 1 || sizeof(T) == 2);
    using B = std::conditional_t<sizeof(T) == 1, uint8_t, uint16_t>;
    uintptr_t addr = reinterpret_cast<uintptr_t>(p);
    auto* w = reinterpret_cast<unsigned int*>(addr & ~uintptr_t(3));
    unsigned int shift = unsigned(addr & 3) * 8;
    unsigned int mask = (sizeof(T) == 1 ? 0xFFu : 0xFFFFu) << shift;
    unsigned int old = *reinterpret_cast<volatile unsigned int*>(w), assumed;
    do {
      assumed = old;
      B bits = B((assumed & mask) >> shift);
      T x;
      memcpy(&x, &bits, sizeof(T));
      T y = f(x);
      B nb;
      memcpy(&nb, &y, sizeof(T));
      unsigned int nv = (assumed & ~mask) | (unsigned(nb) << shift);
      if (nv == assumed) return;
      old = atomicCAS(w, assumed, nv);
    } while (old != assumed);
  }
}

// Plain combiners (one writer per element).
struct CombineStore {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    *p = v;
  }
};
struct PlainSum {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    *p = sum_of(*p, v);
  }
};

struct AtomicSum {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> ||
                  std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16> ||
                  std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) {
      atomicAdd(p, v);
    } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) {
      atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
    } else if constexpr (std::is_same_v<T, complex64>) {
      atomicAdd(&p->re, v.re);
      atomicAdd(&p->im, v.im);
    } else {
      atomic_apply(p, [v](T x) { return sum_of(x, v); });
    }
  }
};
struct AtomicProd {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    atomic_apply(p, [v](T x) { return prod_of(x, v); });
  }
};
struct AtomicMax {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) {
      atomicMax(p, v);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      atomicMax(reinterpret_cast<long long*>(p), static_cast<long long>(v));
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      atomicMax(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
    } else {
      atomic_apply(p, [v](T x) { return max_of(x, v); });
    }
  }
};
struct AtomicMin {
  template <typename T>
  __device__ void operator()(T* p, T v) const {
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) {
      atomicMin(p, v);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      atomicMin(reinterpret_cast<long long*>(p), static_cast<long long>(v));
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      atomicMin(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
    } else {
      atomic_apply(p, [v](T x) { return min_of(x, v); });
    }
  }
};

}  // namespace uma::cuda::ix
