// Scan on the GPU (cumsum, cumprod, cummax, cummin, logcumsumexp; inclusive
// or exclusive, forward or reverse) with the CPU's accumulators: float64 for
// float sums/products, wrap-around unsigned ints of the output's width for
// integer ones, complex64 for complex, float32 for half max/min/logaddexp.
// The input is viewed row-major as (outer, n, inner), n the scanned axis:
//   inner == 1: a warp (short rows) or a block per row walks the row in tiles
//               of group * K elements: a scan in registers, a warp scan of
//               the thread totals, a block scan of the warp totals, a carry;
//   inner > 1:  a thread per (outer, inner) column walks n sequentially
//               (coalesced over inner); with few columns the axis is moved
//               last by a copy instead, so the row kernel has parallelism.
#include <cmath>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/reduce.cuh"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

using cuda::red::shfl_idx;
using cuda::red::shfl_up;
using cuda::red::smem_t;

template <Scan::Type type, typename Acc>
struct ScanOp {
  __device__ static Acc init() {
    if constexpr (type == Scan::Type::sum) {
      if constexpr (std::is_same_v<Acc, cuda::complex64>) {
        return {0.f, 0.f};
      } else {
        return Acc(0);
      }
    } else if constexpr (type == Scan::Type::prod) {
      if constexpr (std::is_same_v<Acc, cuda::complex64>) {
        return {1.f, 0.f};
      } else {
        return Acc(1);
      }
    } else if constexpr (type == Scan::Type::logaddexp) {
      return -std::numeric_limits<Acc>::infinity();
    } else if constexpr (std::is_floating_point_v<Acc>) {
      return type == Scan::Type::max ? -std::numeric_limits<Acc>::infinity()
                                     : std::numeric_limits<Acc>::infinity();
    } else if constexpr (std::is_same_v<Acc, bool>) {
      return type == Scan::Type::max ? false : true;
    } else {
      return type == Scan::Type::max ? std::numeric_limits<Acc>::lowest()
                                     : std::numeric_limits<Acc>::max();
    }
  }
  __device__ static Acc combine(Acc a, Acc b) {
    if constexpr (type == Scan::Type::sum) {
      return Acc(a + b);
    } else if constexpr (type == Scan::Type::prod) {
      if constexpr (std::is_integral_v<Acc> && sizeof(Acc) < 4) {
        return Acc(uint32_t(a) * uint32_t(b));  // no int promotion overflow
      } else {
        return Acc(a * b);
      }
    } else if constexpr (type == Scan::Type::logaddexp) {
      if (a != a || b != b) return a + b;
      Acc hi = a > b ? a : b, lo = a > b ? b : a;
      if (hi == std::numeric_limits<Acc>::infinity() || hi == -std::numeric_limits<Acc>::infinity())
        return hi;
      if constexpr (std::is_same_v<Acc, float>) {
        return hi + log1pf(expf(lo - hi));
      } else {
        return hi + log1p(exp(lo - hi));
      }
    } else {
      if (cuda::red::is_nan(a)) return a;
      if (cuda::red::is_nan(b)) return b;
      if constexpr (type == Scan::Type::max) {
        return b > a ? b : a;
      } else {
        return b < a ? b : a;
      }
    }
  }
};

template <typename Acc, typename T>
__device__ inline Acc to_acc(T v) {
  if constexpr (std::is_same_v<Acc, T>) {
    return v;
  } else if constexpr (cuda::is_half_v<T>) {
    return Acc(float(v));
  } else {
    return static_cast<Acc>(v);
  }
}

constexpr int kItems = 4;  // consecutive elements per thread and tile

// x, y: (rows, n) row-major; `group` threads (32, or the block) per row.
template <typename Op, typename Acc, typename T, typename Out>
__global__ void __launch_bounds__(256) scan_rows(const T* x, Out* y, int64_t rows, int64_t n,
                                                 bool reverse, bool inclusive, int group) {
  __shared__ smem_t<Acc> buf[32];
  Acc* sm = reinterpret_cast<Acc*>(buf);
  int gpb = blockDim.x / group, g = threadIdx.x / group, t = threadIdx.x % group;
  int lane = threadIdx.x & 31, w = t >> 5, nw = group >> 5;
  // Block mode: gpb == 1, so the trip counts are the same for the whole block.
  for (int64_t r = int64_t(blockIdx.x) * gpb + g; r < rows; r += int64_t(gridDim.x) * gpb) {
    const T* xr = x + r * n;
    Out* yr = y + r * n;
    Acc carry = Op::init();
    for (int64_t base = 0; base < n; base += int64_t(group) * kItems) {
      int64_t p0 = base + int64_t(t) * kItems;  // logical positions p0 .. p0 + kItems - 1
      Acc v[kItems];
#pragma unroll
      for (int k = 0; k < kItems; ++k) {
        int64_t pos = p0 + k;
        v[k] = pos < n ? to_acc<Acc>(xr[reverse ? n - 1 - pos : pos]) : Op::init();
      }
#pragma unroll
      for (int k = 1; k < kItems; ++k) v[k] = Op::combine(v[k - 1], v[k]);
      // Inclusive warp scan of the thread totals.
      Acc incl = v[kItems - 1];
#pragma unroll
      for (int d = 1; d < 32; d <<= 1) {
        Acc o = shfl_up(incl, d);
        if (lane >= d) incl = Op::combine(o, incl);
      }
      Acc before = shfl_up(incl, 1);  // this thread's exclusive prefix within the warp
      if (lane == 0) before = Op::init();
      Acc tile_total;
      if (group <= 32) {
        tile_total = cuda::red::shfl_idx(incl, 31);
      } else {
        __syncthreads();  // sm may still be read for the previous tile
        if (lane == 31) sm[w] = incl;
        __syncthreads();
        Acc warp_prefix = Op::init();
        for (int i = 0; i < w; ++i) warp_prefix = Op::combine(warp_prefix, sm[i]);
        before = Op::combine(warp_prefix, before);
        tile_total = sm[0];
        for (int i = 1; i < nw; ++i) tile_total = Op::combine(tile_total, sm[i]);
      }
      Acc pre = Op::combine(carry, before);
#pragma unroll
      for (int k = 0; k < kItems; ++k) {
        int64_t pos = p0 + k;
        if (pos < n) {
          Acc a = inclusive ? Op::combine(pre, v[k]) : (k == 0 ? pre : Op::combine(pre, v[k - 1]));
          yr[reverse ? n - 1 - pos : pos] = cuda::convert<Out>(a);
        }
      }
      carry = Op::combine(carry, tile_total);
    }
  }
}

// x, y: (outer, n, inner) row-major; a thread per (outer, inner) column.
template <typename Op, typename Acc, typename T, typename Out>
__global__ void scan_cols(const T* x, Out* y, int64_t outer, int64_t n, int64_t inner, bool reverse,
                          bool inclusive) {
  int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols;
       c += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, j = c - o * inner;
    const T* xc = x + o * n * inner + j;
    Out* yc = y + o * n * inner + j;
    Acc acc = Op::init();
    for (int64_t k = 0; k < n; ++k) {
      int64_t i = (reverse ? n - 1 - k : k) * inner;
      Acc v = to_acc<Acc>(xc[i]);
      if (inclusive) {
        acc = Op::combine(acc, v);
        yc[i] = cuda::convert<Out>(acc);
      } else {
        yc[i] = cuda::convert<Out>(acc);
        acc = Op::combine(acc, v);
      }
    }
  }
}

template <Scan::Type type, typename T, typename Out>
auto acc_tag() {
  if constexpr (std::is_same_v<T, cuda::complex64>) {
    return cuda::type_tag<cuda::complex64>{};
  } else if constexpr (type == Scan::Type::sum || type == Scan::Type::prod) {
    if constexpr (std::is_floating_point_v<Out> || cuda::is_half_v<Out>) {
      return cuda::type_tag<double>{};
    } else if constexpr (std::is_same_v<Out, bool>) {
      return cuda::type_tag<bool>{};  // not reached: bool scans output int32
    } else {
      return cuda::type_tag<std::make_unsigned_t<Out>>{};
    }
  } else if constexpr (cuda::is_half_v<T>) {
    return cuda::type_tag<float>{};
  } else {
    return cuda::type_tag<T>{};
  }
}

struct ScanArgs {
  const void* x;
  void* y;
  int64_t outer, n, inner;
  bool reverse, inclusive;
};

// Scans rows (inner == 1) of x into y.
template <Scan::Type type, typename T, typename Out>
void launch_rows(const void* x, void* y, int64_t rows, int64_t n, bool reverse, bool inclusive,
                 cudaStream_t cs) {
  using Acc = typename decltype(acc_tag<type, T, Out>())::type;
  int group = n <= 32 * kItems * 2 ? 32 : 256;
  int64_t blocks = group == 32 ? (rows + 7) / 8 : rows;
  int grid = int(std::min<int64_t>(blocks, int64_t(1) << 20));
  scan_rows<ScanOp<type, Acc>, Acc><<<grid, 256, 0, cs>>>(
      static_cast<const T*>(x), static_cast<Out*>(y), rows, n, reverse, inclusive, group);
  UMA_CUDA_LAUNCHED("scan (rows)");
}

template <Scan::Type type, typename T, typename Out>
void launch_cols(const ScanArgs& a, cudaStream_t cs) {
  using Acc = typename decltype(acc_tag<type, T, Out>())::type;
  int64_t cols = a.outer * a.inner;
  int grid = int(std::min<int64_t>((cols + 255) / 256, int64_t(1) << 20));
  scan_cols<ScanOp<type, Acc>, Acc><<<grid, 256, 0, cs>>>(static_cast<const T*>(a.x),
                                                          static_cast<Out*>(a.y), a.outer, a.n,
                                                          a.inner, a.reverse, a.inclusive);
  UMA_CUDA_LAUNCHED("scan (columns)");
}

// Moves axis 1 of (outer, n, inner) views last: dst (outer, inner, n), or back.
void move_axis(const array& src, array& dst, int64_t outer, int64_t n, int64_t inner, bool to_last,
               const Stream& s) {
  Shape shape = {int32_t(outer), int32_t(inner), int32_t(n)};
  Strides src_st = {n * inner, 1, inner}, dst_st = {n * inner, n, 1};
  if (!to_last) std::swap(src_st, dst_st);
  cuda::copy_strided(src, shape, src_st, 0, dst, dst_st, 0, s);
}

template <Scan::Type type, typename T, typename Out>
void run(const array& in, array& out, const ScanArgs& a, const Stream& s) {
  cudaStream_t cs = cuda::stream(s);
  if (a.inner == 1)
    return launch_rows<type, T, Out>(a.x, a.y, a.outer, a.n, a.reverse, a.inclusive, cs);
  // Few columns and a long axis: the columns would walk n alone.
  if (a.outer * a.inner < 2048 && a.n >= 256) {
    array xt(Shape{int32_t(a.outer), int32_t(a.inner), int32_t(a.n)}, in.dtype(), nullptr, {});
    array yt(xt.shape(), out.dtype(), nullptr, {});
    cuda::out_ptr(xt, s);
    void* yp = cuda::out_ptr(yt, s);
    move_axis(in, xt, a.outer, a.n, a.inner, true, s);
    launch_rows<type, T, Out>(cuda::in_ptr(xt, s), yp, a.outer * a.inner, a.n, a.reverse,
                              a.inclusive, cs);
    move_axis(yt, out, a.outer, a.n, a.inner, false, s);
    return;
  }
  launch_cols<type, T, Out>(a, cs);
}

template <Scan::Type type, typename T>
void scan_typed(const array& in, array& out, const ScanArgs& a, const Stream& s) {
  constexpr bool is_float = std::is_floating_point_v<T> || cuda::is_half_v<T>;
  if constexpr (std::is_same_v<T, bool> && (type == Scan::Type::sum || type == Scan::Type::prod)) {
    run<type, T, int32_t>(in, out, a, s);
  } else if constexpr (type == Scan::Type::logaddexp && !is_float) {
    throw std::invalid_argument(std::string("[logcumsumexp] needs a floating point input, got ") +
                                dtype_name(in.dtype()));
  } else if constexpr (std::is_same_v<T, cuda::complex64> && type != Scan::Type::sum &&
                       type != Scan::Type::prod) {
    throw std::invalid_argument("[scan] complex64 arrays have no order");
  } else {
    run<type, T, T>(in, out, a, s);
  }
}

}  // namespace

void Scan::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  void* y = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const array in = cuda::row_major(inputs[0], s);
  ScanArgs a{cuda::in_ptr(in, s), y, 1, in.shape(axis_), 1, reverse_, inclusive_};
  for (int d = 0; d < axis_; ++d) a.outer *= in.shape(d);
  for (int d = axis_ + 1; d < int(in.ndim()); ++d) a.inner *= in.shape(d);
  cuda::dispatch(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (type_) {
      case Type::sum:
        return scan_typed<Type::sum, T>(in, out, a, s);
      case Type::prod:
        return scan_typed<Type::prod, T>(in, out, a, s);
      case Type::max:
        return scan_typed<Type::max, T>(in, out, a, s);
      case Type::min:
        return scan_typed<Type::min, T>(in, out, a, s);
      case Type::logaddexp:
        return scan_typed<Type::logaddexp, T>(in, out, a, s);
    }
  });
}

}  // namespace uma
