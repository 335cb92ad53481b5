// Shared by the reduction kernels (reduce.cu, arg_reduce.cu, scan.cu,
// softmax.cu): shuffles of any accumulator, warp/group reductions, rows
// visited with 16-byte loads, and the reduction driver. A reduction is seen
// as M outputs, each reducing R elements `r_stride` apart that start at an
// offset given by the kept dims (row-major over the outputs):
//   row mode    (r_stride == 1):  a warp (short rows) or a block per output,
//                                 16-byte loads, warp shuffles;
//   column mode (outputs adjacent in memory): a thread per output walks R,
//                                 (bx, by) tiles split R over by threads;
// both split R over several blocks when the outputs are too few to fill the
// GPU, writing partial accumulators that a second pass reduces (two passes,
// no atomics: results do not depend on scheduling).
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "uma/backend/cuda/utils.cuh"

namespace uma::cuda::red {

// complex128 accumulator of complex sums and products (as the CPU's).
struct alignas(16) cdouble {
  double re, im;
};
__device__ inline cdouble operator+(cdouble a, cdouble b) { return {a.re + b.re, a.im + b.im}; }
__device__ inline cdouble operator*(cdouble a, cdouble b) {
  return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}

// ------------------------------------------------------------ shuffles
// Any trivially copyable value, 32 bits at a time, all 32 lanes taking part:
// shfl(v, x, F) moves each word w with F(w, x) (a __shfl*_sync of the full mask).
template <typename A, typename F>
__device__ inline A shfl(A v, int x, F f) {
  constexpr int W = int((sizeof(A) + 3) / 4);
  uint32_t w[W] = {};
  memcpy(w, &v, sizeof(A));
#pragma unroll
  for (int k = 0; k < W; ++k) w[k] = f(w[k], x);
  A r;
  memcpy(&r, w, sizeof(A));
  return r;
}
template <typename A>
__device__ inline A shfl_xor(A v, int mask) {
  return shfl(v, mask, [](uint32_t w, int m) { return __shfl_xor_sync(0xffffffffu, w, m); });
}
template <typename A>
__device__ inline A shfl_up(A v, int delta) {
  return shfl(v, delta, [](uint32_t w, int d) { return __shfl_up_sync(0xffffffffu, w, d); });
}
template <typename A>
__device__ inline A shfl_idx(A v, int src_lane) {
  return shfl(v, src_lane, [](uint32_t w, int l) { return __shfl_sync(0xffffffffu, w, l); });
}

// Butterfly: every lane gets the combination of the warp's 32 values (the
// same on every lane, since combine is commutative).
template <typename Op, typename A>
__device__ inline A warp_reduce(A v) {
#pragma unroll
  for (int m = 16; m > 0; m >>= 1) v = Op::combine(v, shfl_xor(v, m));
  return v;
}

// Reduction over a group of `group` threads: 32 (a warp) or the whole block
// (a multiple of 32). Every thread of the group gets the result. `sm` holds
// 32 values; the block form syncs, so all of the block must call it.
template <typename Op, typename A>
__device__ inline A group_reduce(A v, int group, A* sm) {
  v = warp_reduce<Op>(v);
  if (group <= 32) return v;
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = group >> 5;
  __syncthreads();  // sm may still be read by the previous call
  if (lane == 0) sm[w] = v;
  __syncthreads();
  v = sm[0];
  for (int i = 1; i < nw; ++i) v = Op::combine(v, sm[i]);  // fixed order: deterministic
  return v;
}

// f(i, p[i]) for i in [0, n) split over nt threads (this one is t), with
// 16-byte loads between a scalar head (to alignment) and tail.
template <typename T, typename F>
__device__ inline void visit_row(const T* p, int64_t n, int t, int nt, F&& f) {
  constexpr int V = sizeof(T) < 16 ? int(16 / sizeof(T)) : 1;
  if constexpr (V == 1) {
    for (int64_t i = t; i < n; i += nt) f(i, p[i]);
  } else {
    // p is aligned to sizeof(T), which divides 16: the head is whole elements.
    int64_t head = int64_t((16 - reinterpret_cast<uintptr_t>(p) % 16) % 16 / sizeof(T));
    if (head > n) head = n;
    for (int64_t i = t; i < head; i += nt) f(i, p[i]);
    int64_t nv = (n - head) / V;
    const uint4* q = reinterpret_cast<const uint4*>(p + head);
    for (int64_t k = t; k < nv; k += nt) {
      uint4 raw = q[k];
      T e[V];
      memcpy(static_cast<void*>(e), &raw, 16);
#pragma unroll
      for (int j = 0; j < V; ++j) f(head + k * V + j, e[j]);
    }
    for (int64_t i = head + nv * V + t; i < n; i += nt) f(i, p[i]);
  }
}

// ------------------------------------------------------------ accumulators
template <typename T>
__device__ inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}

// An element as accumulator type Acc, as the CPU's to_acc converts.
template <typename Acc, typename T>
__device__ inline Acc cast_acc(T v) {
  if constexpr (std::is_same_v<Acc, T>) {
    return v;
  } else if constexpr (std::is_same_v<Acc, cdouble>) {
    if constexpr (std::is_same_v<T, complex64>) {
      return cdouble{double(v.re), double(v.im)};
    } else {
      return cdouble{to_double(v), 0.0};
    }
  } else if constexpr (std::is_same_v<T, complex64>) {
    return convert<Acc>(v);
  } else if constexpr (is_half_v<T>) {
    return static_cast<Acc>(float(v));
  } else {
    return static_cast<Acc>(v);
  }
}

template <typename T>
__device__ inline bool nonzero(T v) {
  return convert<bool>(v);
}

// out[j] = v converted to dtype od (complex128 through complex64, as the CPU).
template <typename A>
__device__ inline void store_as(void* out, Dtype od, int64_t j, A v) {
  if constexpr (std::is_same_v<A, cdouble>) {
    store_as(out, od, j, complex64{float(v.re), float(v.im)});
  } else {
    switch (od) {
      case Dtype::bool_:
        static_cast<bool*>(out)[j] = convert<bool>(v);
        break;
      case Dtype::uint8:
        static_cast<uint8_t*>(out)[j] = convert<uint8_t>(v);
        break;
      case Dtype::uint16:
        static_cast<uint16_t*>(out)[j] = convert<uint16_t>(v);
        break;
      case Dtype::uint32:
        static_cast<uint32_t*>(out)[j] = convert<uint32_t>(v);
        break;
      case Dtype::uint64:
        static_cast<uint64_t*>(out)[j] = convert<uint64_t>(v);
        break;
      case Dtype::int8:
        static_cast<int8_t*>(out)[j] = convert<int8_t>(v);
        break;
      case Dtype::int16:
        static_cast<int16_t*>(out)[j] = convert<int16_t>(v);
        break;
      case Dtype::int32:
        static_cast<int32_t*>(out)[j] = convert<int32_t>(v);
        break;
      case Dtype::int64:
        static_cast<int64_t*>(out)[j] = convert<int64_t>(v);
        break;
      case Dtype::float16:
        static_cast<__half*>(out)[j] = convert<__half>(v);
        break;
      case Dtype::bfloat16:
        static_cast<__nv_bfloat16*>(out)[j] = convert<__nv_bfloat16>(v);
        break;
      case Dtype::float32:
        static_cast<float*>(out)[j] = convert<float>(v);
        break;
      case Dtype::float64:
        static_cast<double*>(out)[j] = convert<double>(v);
        break;
      case Dtype::complex64:
        static_cast<complex64*>(out)[j] = convert<complex64>(v);
        break;
    }
  }
}

// Op: acc_t, init(), make(element, index), combine(a, b) (associative and
// commutative), store(out, dtype, j, acc).
template <typename Acc>
struct SumOp {
  using acc_t = Acc;
  __device__ static Acc init() { return Acc{}; }
  template <typename T>
  __device__ static Acc make(T v, int64_t) {
    return cast_acc<Acc>(v);
  }
  __device__ static Acc combine(Acc a, Acc b) { return a + b; }
  __device__ static void store(void* out, Dtype od, int64_t j, Acc v) { store_as(out, od, j, v); }
};

template <typename Acc>
struct ProdOp : SumOp<Acc> {
  __device__ static Acc init() {
    if constexpr (std::is_same_v<Acc, cdouble>) {
      return cdouble{1.0, 0.0};
    } else {
      return Acc(1);
    }
  }
  __device__ static Acc combine(Acc a, Acc b) { return a * b; }
};

// max / min; NaN wins.
template <bool Max, typename Acc>
struct ExtremeOp : SumOp<Acc> {
  __device__ static Acc init() {
    if constexpr (std::is_same_v<Acc, bool>) {
      return !Max;
    } else if constexpr (std::is_floating_point_v<Acc>) {
      return Max ? -std::numeric_limits<Acc>::infinity() : std::numeric_limits<Acc>::infinity();
    } else {
      return Max ? std::numeric_limits<Acc>::lowest() : std::numeric_limits<Acc>::max();
    }
  }
  __device__ static Acc combine(Acc a, Acc b) {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return Max ? (b > a ? b : a) : (b < a ? b : a);
  }
};

// all (Any = false) / any.
template <bool Any>
struct LogicalOp {
  using acc_t = bool;
  __device__ static bool init() { return !Any; }
  template <typename T>
  __device__ static bool make(T v, int64_t) {
    return nonzero(v);
  }
  __device__ static bool combine(bool a, bool b) { return Any ? (a || b) : (a && b); }
  __device__ static void store(void* out, Dtype, int64_t j, bool v) {
    static_cast<bool*>(out)[j] = v;
  }
};

// argmax / argmin: the first index of the extreme; NaN is the extreme (the
// first NaN wins). Ties and NaNs pick the smaller index, so the result does
// not depend on the order of combination.
template <typename V>
struct ArgPair {
  V v;
  uint32_t i;
};

template <bool Max, typename V>
struct ArgOp {
  using acc_t = ArgPair<V>;
  __device__ static acc_t init() {
    if constexpr (std::is_same_v<V, bool>) {
      return {!Max, 0xffffffffu};
    } else if constexpr (std::is_floating_point_v<V>) {
      return {Max ? -std::numeric_limits<V>::infinity() : std::numeric_limits<V>::infinity(),
              0xffffffffu};
    } else {
      return {Max ? std::numeric_limits<V>::lowest() : std::numeric_limits<V>::max(), 0xffffffffu};
    }
  }
  template <typename T>
  __device__ static acc_t make(T v, int64_t i) {
    if constexpr (std::is_same_v<T, acc_t>) {
      return v;
    } else {
      return {cast_acc<V>(v), uint32_t(i)};
    }
  }
  __device__ static acc_t combine(acc_t a, acc_t b) {
    bool na = is_nan(a.v), nb = is_nan(b.v);
    if (na || nb) {
      if (na && nb) return a.i < b.i ? a : b;
      return na ? a : b;
    }
    if (Max ? b.v > a.v : b.v < a.v) return b;
    if (Max ? a.v > b.v : a.v < b.v) return a;
    return a.i < b.i ? a : b;
  }
  __device__ static void store(void* out, Dtype, int64_t j, acc_t v) {
    static_cast<uint32_t*>(out)[j] = v.i;
  }
};

// ------------------------------------------------------------ kernels
// Raw shared storage for an accumulator (no constructors run).
template <typename A>
struct alignas(alignof(A)) smem_t {
  unsigned char b[sizeof(A)];
};

// Row mode: `group` threads (32, or the block) per (output, split).
// x: outputs' runs of R elements, each reduced in `splits` chunks.
template <typename Op, typename T>
__global__ void __launch_bounds__(256)
    row_reduce(const T* in, void* out, Dtype od, typename Op::acc_t* partial, int64_t M, int64_t R,
               int64_t r_stride, const __grid_constant__ Strided<1> kept, int splits, int64_t chunk,
               int group) {
  using Acc = typename Op::acc_t;
  __shared__ smem_t<Acc> buf[32];
  Acc* sm = reinterpret_cast<Acc*>(buf);
  int gpb = blockDim.x / group, g = threadIdx.x / group, t = threadIdx.x % group;
  int64_t jobs = M * splits;
  // Block mode: gpb == 1, so the trip count is the same for the whole block.
  for (int64_t job = int64_t(blockIdx.x) * gpb + g; job < jobs; job += int64_t(gridDim.x) * gpb) {
    int64_t row = job / splits, b = (job % splits) * chunk, e = min(R, b + chunk);
    int64_t off[1];
    kept.offsets(row, off);
    const T* p = in + off[0];
    Acc acc = Op::init();
    if (r_stride == 1) {
      visit_row(p + b, e - b, t, group,
                [&](int64_t i, T v) { acc = Op::combine(acc, Op::make(v, b + i)); });
    } else {
#pragma unroll 4
      for (int64_t i = b + t; i < e; i += group)
        acc = Op::combine(acc, Op::make(p[i * r_stride], i));
    }
    acc = group_reduce<Op>(acc, group, sm);
    if (t == 0) {
      if (partial) {
        partial[job] = acc;
      } else {
        Op::store(out, od, row, acc);
      }
    }
  }
}

// Column mode: blocks of (by, bx) threads; x runs over bx adjacent outputs,
// y over the reduced elements of this block's chunk (blockIdx.y), then the
// by partial values of each output are combined in shared memory.
template <typename Op, typename T>
__global__ void __launch_bounds__(256)
    col_reduce(const T* in, void* out, Dtype od, typename Op::acc_t* partial, int64_t M, int64_t R,
               int64_t r_stride, const __grid_constant__ Strided<1> kept, int bx, int64_t chunk) {
  using Acc = typename Op::acc_t;
  __shared__ smem_t<Acc> buf[256];
  Acc* sm = reinterpret_cast<Acc*>(buf);
  int x = threadIdx.x % bx, y = threadIdx.x / bx, by = blockDim.x / bx;
  int64_t b = int64_t(blockIdx.y) * chunk, e = min(R, b + chunk);
  for (int64_t o0 = int64_t(blockIdx.x) * bx; o0 < M; o0 += int64_t(gridDim.x) * bx) {
    int64_t o = o0 + x;
    Acc acc = Op::init();
    if (o < M) {
      int64_t off[1];
      kept.offsets(o, off);
      const T* p = in + off[0];
#pragma unroll 4
      for (int64_t i = b + y; i < e; i += by) acc = Op::combine(acc, Op::make(p[i * r_stride], i));
    }
    sm[threadIdx.x] = acc;
    __syncthreads();
    for (int s = by / 2; s > 0; s >>= 1) {
      if (y < s) sm[threadIdx.x] = Op::combine(sm[threadIdx.x], sm[threadIdx.x + s * bx]);
      __syncthreads();
    }
    if (y == 0 && o < M) {
      if (partial) {
        partial[int64_t(blockIdx.y) * M + o] = sm[x];
      } else {
        Op::store(out, od, o, sm[x]);
      }
    }
    __syncthreads();  // sm is written again by the next tile
  }
}

// ------------------------------------------------------------ host driver
struct ReducePlan {
  int64_t M = 1, R = 1;    // outputs, elements reduced into each
  int64_t r_stride = 0;    // between the elements of one output
  Strided<1> kept;         // first element of each output (row-major order)
  int64_t kept_inner = 0;  // |stride| of the innermost kept dim; 0 if none
};

// Plans reducing `axes` of a view; false when the reduced dims do not merge
// into one run (the caller makes a copy with them innermost).
inline bool plan_reduce(const Shape& shape, const Strides& strides, const std::vector<int>& axes,
                        ReducePlan& p) {
  int nd = int(shape.size());
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a] = true;
  Shape ks;
  Strides kst;
  std::vector<std::pair<int64_t, int64_t>> rd;  // (extent, stride)
  p.M = 1;
  for (int d = 0; d < nd; ++d) {
    if (!red[d]) {
      ks.push_back(shape[d]);
      kst.push_back(strides[d]);
      p.M *= shape[d];
    } else if (shape[d] != 1) {
      rd.push_back({shape[d], strides[d]});
    }
  }
  // Order does not matter to a reduction: outermost (largest stride) first,
  // broadcast dims before all, then merge contiguous neighbours.
  auto key = [](int64_t s) {
    return s == 0 ? std::numeric_limits<int64_t>::max() : (s < 0 ? -s : s);
  };
  std::stable_sort(rd.begin(), rd.end(),
                   [&](auto& a, auto& b) { return key(a.second) > key(b.second); });
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (auto& d : rd) {
    if (!merged.empty() && merged.back().second == d.second * d.first) {
      merged.back() = {merged.back().first * d.first, d.second};
    } else {
      merged.push_back(d);
    }
  }
  if (merged.size() > 1) return false;
  p.R = merged.empty() ? 1 : merged[0].first;
  p.r_stride = merged.empty() ? 0 : merged[0].second;
  p.kept = make_strided<1>(ks, {kst}, "reduce");
  p.kept_inner = p.kept.ndim ? std::abs(p.kept.strides[0][p.kept.ndim - 1]) : 0;
  return true;
}

inline int64_t next_pow2(int64_t v) {
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Device scratch of `bytes`, held by `keep` (freed stream-ordered with it).
inline void* scratch(size_t bytes, const Stream& s, std::optional<array>& keep) {
  keep.emplace(Shape{int32_t(bytes)}, uint8, nullptr, std::vector<array>{});
  return out_ptr(*keep, s);
}

// Runs the reduction planned by p over `in` into out (dtype od).
template <typename Op, typename T>
void reduce_launch(const T* in, const ReducePlan& p, void* out, Dtype od, const Stream& s,
                   bool allow_split = true) {
  using Acc = typename Op::acc_t;
  cudaStream_t cs = stream(s);
  const int64_t target = 4 * int64_t(sm_count(s.device.index));
  constexpr int64_t max_grid = int64_t(1) << 20;
  int64_t M = p.M, R = p.R, rs = p.r_stride < 0 ? -p.r_stride : p.r_stride;
  bool row = R > 16 && (rs == 1 || p.kept_inner == 0 || p.kept_inner > rs);
  if (row) {
    int group = R <= 512 ? 32 : 256;
    int64_t splits = 1;
    if (group == 256 && allow_split && M < target) {
      splits = std::min<int64_t>({ceil_div(target, M), ceil_div(R, 4096), 1024});
    }
    int64_t chunk = ceil_div(ceil_div(R, splits), 64) * 64;
    splits = ceil_div(R, chunk);
    void* part = nullptr;
    std::optional<array> keep;
    if (splits > 1) part = scratch(size_t(M * splits) * sizeof(Acc), s, keep);
    int64_t jobs = M * splits;
    int grid = int(std::min(max_grid, group == 32 ? ceil_div(jobs, 8) : jobs));
    row_reduce<Op, T><<<grid, 256, 0, cs>>>(in, out, od, static_cast<Acc*>(part), M, R, p.r_stride,
                                            p.kept, int(splits), chunk, group);
    UMA_CUDA_LAUNCHED("reduce (rows)");
    if (splits > 1) {
      // partial: (M, splits) row-major.
      ReducePlan q;
      q.M = M;
      q.R = splits;
      q.r_stride = 1;
      q.kept = make_strided<1>({int32_t(M)}, {Strides{splits}}, "reduce");
      q.kept_inner = q.kept.ndim ? splits : 0;
      reduce_launch<Op, Acc>(static_cast<const Acc*>(part), q, out, od, s, false);
    }
    return;
  }
  int64_t bx = std::min<int64_t>(32, next_pow2(std::min<int64_t>(M, 256)));
  int64_t by =
      std::min<int64_t>(256 / bx, next_pow2(std::min<int64_t>(std::max<int64_t>(R, 1), 256)));
  if (bx * by < 256) bx = std::min<int64_t>(256 / by, next_pow2(std::min<int64_t>(M, 256)));
  int64_t gx = std::min(max_grid, ceil_div(M, bx));
  int64_t splits = 1;
  if (allow_split && gx < target && R > by * 64) {
    splits = std::min<int64_t>({ceil_div(target, gx), ceil_div(R, by * 64), 1024});
  }
  int64_t chunk = R > 0 ? ceil_div(R, splits) : 0;
  if (R > 0) splits = ceil_div(R, chunk);
  void* part = nullptr;
  std::optional<array> keep;
  if (splits > 1) part = scratch(size_t(M * splits) * sizeof(Acc), s, keep);
  dim3 grid{unsigned(gx), unsigned(splits)};
  col_reduce<Op, T><<<grid, unsigned(bx * by), 0, cs>>>(in, out, od, static_cast<Acc*>(part), M, R,
                                                        p.r_stride, p.kept, int(bx), chunk);
  UMA_CUDA_LAUNCHED("reduce (columns)");
  if (splits > 1) {
    // partial: (splits, M) row-major.
    ReducePlan q;
    q.M = M;
    q.R = splits;
    q.r_stride = M;
    q.kept = make_strided<1>({int32_t(M)}, {Strides{1}}, "reduce");
    q.kept_inner = q.kept.ndim ? 1 : 0;
    reduce_launch<Op, Acc>(static_cast<const Acc*>(part), q, out, od, s, false);
  }
}

}  // namespace uma::cuda::red
