// CPU kernel of Scan. The input is viewed row-major as (outer, n, inner) with
// n the scanned axis; a chunk of up to 256 inner columns is carried down the
// axis in an accumulator row, so axis-not-last scans stream whole rows.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

template <typename T>
constexpr bool is_half = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;

// Accumulator type: float64 for float sums/products, wrap-around unsigned ints
// of the output's width for integer ones, float32 for half max/min/logaddexp.
template <Scan::Type type, typename T, typename Out>
auto acc_tag() {
  if constexpr (std::is_same_v<T, complex64_t>) {
    return type_tag<complex64_t>{};
  } else if constexpr (type == Scan::Type::sum || type == Scan::Type::prod) {
    if constexpr (std::is_floating_point_v<Out> || is_half<Out>) {
      return type_tag<double>{};
    } else {
      return type_tag<std::make_unsigned_t<Out>>{};
    }
  } else if constexpr (is_half<T>) {
    return type_tag<float>{};
  } else {
    return type_tag<T>{};
  }
}

template <Scan::Type type, typename Acc>
Acc scan_init() {
  if constexpr (type == Scan::Type::sum) {
    return Acc(0);
  } else if constexpr (type == Scan::Type::prod) {
    return Acc(1);
  } else if constexpr (type == Scan::Type::logaddexp) {
    return -std::numeric_limits<Acc>::infinity();
  } else if constexpr (std::is_floating_point_v<Acc>) {
    return type == Scan::Type::max ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
  } else {
    return type == Scan::Type::max ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
  }
}

template <Scan::Type type, typename Acc>
inline Acc scan_op(Acc a, Acc b) {
  if constexpr (type == Scan::Type::sum) {
    return a + b;
  } else if constexpr (type == Scan::Type::prod) {
    return a * b;
  } else if constexpr (type == Scan::Type::logaddexp) {
    if (std::isnan(a) || std::isnan(b)) return a + b;
    Acc hi = std::max(a, b), lo = std::min(a, b);
    if (std::isinf(hi)) return hi;  // both -inf, or +inf
    return hi + std::log1p(std::exp(lo - hi));
  } else {
    if constexpr (std::is_floating_point_v<Acc>) {
      if (std::isnan(a)) return a;
      if (std::isnan(b)) return b;
    }
    if constexpr (type == Scan::Type::max) {
      return b > a ? b : a;
    } else {
      return b < a ? b : a;
    }
  }
}

template <typename Acc, typename T>
inline Acc to_acc(T v) {
  if constexpr (is_half<T>) {
    return Acc(static_cast<float>(v));
  } else {
    return static_cast<Acc>(v);
  }
}

template <Scan::Type type, typename T, typename Out>
void scan(const T* in, Out* out, int64_t outer, int64_t n, int64_t inner, bool reverse, bool inclusive) {
  using Acc = typename decltype(acc_tag<type, T, Out>())::type;
  constexpr int64_t chunk = 256;
  int64_t chunks = (inner + chunk - 1) / chunk;
  size_t tasks = size_t(outer * chunks);
  size_t grain = size_t(std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, n * std::min(inner, chunk))));
  cpu::parallel_for(tasks, grain, [&](size_t b, size_t e) {
    std::unique_ptr<Acc[]> acc(new Acc[size_t(std::min(inner, chunk))]);
    for (size_t t = b; t < e; ++t) {
      int64_t o = int64_t(t) / chunks, c0 = (int64_t(t) % chunks) * chunk;
      int64_t w = std::min(chunk, inner - c0);
      std::fill(acc.get(), acc.get() + w, scan_init<type, Acc>());
      for (int64_t k = 0; k < n; ++k) {
        int64_t i = reverse ? n - 1 - k : k;
        const T* x = in + (o * n + i) * inner + c0;
        Out* y = out + (o * n + i) * inner + c0;
        if (inclusive) {
          for (int64_t j = 0; j < w; ++j) {
            acc[j] = scan_op<type>(acc[j], to_acc<Acc>(x[j]));
            y[j] = convert<Out>(acc[j]);
          }
        } else {
          for (int64_t j = 0; j < w; ++j) {
            y[j] = convert<Out>(acc[j]);
            acc[j] = scan_op<type>(acc[j], to_acc<Acc>(x[j]));
          }
        }
      }
    }
  });
}

template <Scan::Type type, typename T>
void scan_out(const array& in, array& out, int64_t outer, int64_t n, int64_t inner, bool reverse, bool inclusive) {
  const T* x = static_cast<const T*>(in.raw_ptr());
  if constexpr (std::is_same_v<T, bool> && (type == Scan::Type::sum || type == Scan::Type::prod)) {
    scan<type, T>(x, static_cast<int32_t*>(out.raw_ptr()), outer, n, inner, reverse, inclusive);
  } else if constexpr (type == Scan::Type::logaddexp && !std::is_floating_point_v<T> && !is_half<T>) {
    throw std::invalid_argument(std::string("[logcumsumexp] needs a floating point input, got ") +
                                dtype_name(in.dtype()));
  } else if constexpr (std::is_same_v<T, complex64_t> && type != Scan::Type::sum && type != Scan::Type::prod) {
    throw std::invalid_argument("[scan] complex64 arrays have no order");
  } else {
    scan<type, T>(x, static_cast<T*>(out.raw_ptr()), outer, n, inner, reverse, inclusive);
  }
}

}  // namespace

void Scan::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array in = cpu::row_major(inputs[0]);
  int64_t outer = 1, inner = 1, n = in.shape(axis_);
  for (int d = 0; d < axis_; ++d) outer *= in.shape(d);
  for (int d = axis_ + 1; d < int(in.ndim()); ++d) inner *= in.shape(d);
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (type_) {
      case Type::sum: return scan_out<Type::sum, T>(in, out, outer, n, inner, reverse_, inclusive_);
      case Type::prod: return scan_out<Type::prod, T>(in, out, outer, n, inner, reverse_, inclusive_);
      case Type::max: return scan_out<Type::max, T>(in, out, outer, n, inner, reverse_, inclusive_);
      case Type::min: return scan_out<Type::min, T>(in, out, outer, n, inner, reverse_, inclusive_);
      case Type::logaddexp: return scan_out<Type::logaddexp, T>(in, out, outer, n, inner, reverse_, inclusive_);
    }
  });
}

}  // namespace uma
