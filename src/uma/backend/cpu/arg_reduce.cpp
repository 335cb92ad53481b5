// CPU kernel of ArgReduce: the index of the first max/min along one axis,
// NaN counting as the extreme (NumPy). Outputs (the remaining dims) are split
// in parallel; each output scans its axis with the axis stride.
#include <cmath>

#include "uma/backend/cpu/strided.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

template <bool Max, typename T>
uint32_t arg_extreme(const T* p, int64_t n, int64_t s) {
  using V = std::conditional_t<std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>, float, T>;
  V best = static_cast<V>(p[0]);
  uint32_t bi = 0;
  if constexpr (std::is_floating_point_v<V>) {
    if (std::isnan(best)) return 0;
  }
  for (int64_t i = 1; i < n; ++i) {
    V v = static_cast<V>(p[i * s]);
    if constexpr (std::is_floating_point_v<V>) {
      if (std::isnan(v)) return uint32_t(i);
    }
    if (Max ? v > best : v < best) {
      best = v;
      bi = uint32_t(i);
    }
  }
  return bi;
}

}  // namespace

void ArgReduce::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  int64_t n = in.shape(axis_), axis_stride = in.strides()[axis_];
  // The other dims, with input strides and the output's row-major strides.
  Shape shape;
  std::array<Strides, 2> strides;
  Strides ost = detail::row_strides(out.shape());
  for (int d = 0; d < int(in.ndim()); ++d) {
    if (d == axis_) continue;
    shape.push_back(in.shape(d));
    strides[0].push_back(in.strides()[d]);
    strides[1].push_back(ost[d]);
  }
  if (shape.empty()) {
    shape = {1};
    strides = {Strides{0}, Strides{0}};
  }
  cpu::collapse_dims(shape, strides);
  uint32_t* o = static_cast<uint32_t*>(out.raw_ptr());
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, complex64_t>) {
      throw std::invalid_argument(std::string("[") + name() + "] complex64 arrays have no order");
    } else {
      const T* x = static_cast<const T*>(in.raw_ptr());
      bool is_max = type_ == Type::argmax;
      int nd = int(shape.size());
      size_t outs = out.size();
      size_t grain = size_t(std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(n, 1)));
      cpu::parallel_for(outs, grain, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          int64_t io = 0, oo = 0, r = int64_t(i);
          for (int d = nd - 1; d >= 0; --d) {
            int64_t k = r % shape[d];
            r /= shape[d];
            io += k * strides[0][d];
            oo += k * strides[1][d];
          }
          const T* p = x + io;
          o[oo] = is_max ? arg_extreme<true>(p, n, axis_stride) : arg_extreme<false>(p, n, axis_stride);
        }
      });
    }
  });
}

}  // namespace uma
