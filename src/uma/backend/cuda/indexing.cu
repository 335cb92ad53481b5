// CUDA kernels of gather, scatter and their along-axis forms, with the CPU
// backend's semantics (backend/cpu/indexing.cpp): indices wrap once, then
// clamp (reads) or drop (writes); dropped gathers read zeros. Scatter
// reductions combine duplicates with atomics (sum/prod of floats then depend
// on the order, as any parallel sum); assignment with duplicate indices keeps
// one of the writes. ScatterAxis runs one thread per line along the axis, so
// its duplicates apply in order exactly as on the CPU.
#include "uma/backend/cuda/indexing_utils.cuh"
#include "uma/backend/cuda/scatter_combine.cuh"
#include "uma/core/primitives/indexing.h"

namespace uma {

namespace cuda::ix {
namespace {

constexpr int kThreads = 256;

// base[i] (+)= fix(idx[i]) * stride: the offset of the window picked by index
// position i, accumulated over the index arrays (kDropped sticks).
template <typename I>
__global__ void window_offsets_kernel(const I* idx, Strided<1> lay, int64_t n, int64_t dim,
                                      int64_t w, int64_t stride, bool clamp, bool first,
                                      int64_t* base) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    lay.offsets(i, off);
    int64_t v = fix_index(int64_t(idx[off[0]]), dim, w, clamp);
    int64_t prev = first ? 0 : base[i];
    base[i] = (prev == kDropped || v == kDropped) ? kDropped : prev + v * stride;
  }
}

// The window offsets of every index position as an int64 device array of
// n entries (n = 1 with no index arrays: offset 0).
array window_offsets(const std::vector<array>& indices, const std::vector<int>& axes,
                     const Shape& shape, const Strides& strides, const Shape& window, bool clamp,
                     const Stream& s) {
  int64_t n = indices.empty() ? 1 : int64_t(indices[0].size());
  array base = scratch({int32_t(std::max<int64_t>(n, 1))}, int64, s);
  auto* bp = static_cast<int64_t*>(const_cast<void*>(in_ptr(base, s)));
  cudaStream_t cs = cuda::stream(s);
  if (indices.empty()) {
    UMA_CUDA_CHECK(cudaMemsetAsync(bp, 0, sizeof(int64_t), cs));
    return base;
  }
  for (size_t k = 0; k < indices.size(); ++k) {
    array idx = as_wide_index(indices[k], s);
    int ax = axes[k];
    Shape ish = idx.shape();
    Strides ist = idx.strides();
    if (ish.empty()) ish = {1}, ist = {0};
    auto lay = make_strided<1>(ish, {ist}, "gather");
    dispatch_index(idx.dtype(), [&](auto tag) {
      using I = typename decltype(tag)::type;
      window_offsets_kernel<<<grid_for(n, kThreads), kThreads, 0, cs>>>(
          in<I>(idx, s), lay, n, shape[ax], window[ax], strides[ax], clamp, k == 0, bp);
      UMA_CUDA_LAUNCHED("gather_offsets");
    });
  }
  return base;
}

// The window base of index position i: read from a precomputed array, or
// (one index array, the take / embedding case) computed in place.
struct BaseFromArray {
  const int64_t* p;
  __device__ int64_t operator()(int64_t i) const { return p[i]; }
};
template <typename I>
struct BaseFromIndex {
  const I* p;
  Strided<1> lay;
  int64_t dim, w, stride;
  bool clamp;
  __device__ int64_t operator()(int64_t i) const {
    int64_t off[1];
    lay.offsets(i, off);
    int64_t v = fix_index(int64_t(p[off[0]]), dim, w, clamp);
    return v == kDropped ? kDropped : v * stride;
  }
};

// Contiguous windows (rows of an embedding table): each thread moves one
// vector V of a row of R vectors. Bases are in V units.
template <typename V, typename Base>
__global__ void gather_rows(const V* src, V* dst, Base base, int64_t n, int64_t R, int64_t scale) {
  int64_t total = n * R;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = u / R, j = u - i * R;
    int64_t b = base(i);
    if (b == kDropped) {
      dst[u] = V{};
    } else {
      dst[u] = src[b / scale + j];
    }
  }
}

// Any window: slice element j of position i at a's offset base + lay(j).
template <typename U, typename Base>
__global__ void gather_general(const U* src, U* dst, Base base, int64_t n, int64_t S,
                               Strided<1> lay) {
  int64_t total = n * S;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = o / S, j = o - i * S;
    int64_t b = base(i);
    if (b == kDropped) {
      dst[o] = U(0);
    } else {
      int64_t off[1];
      lay.offsets(j, off);
      dst[o] = src[b + off[0]];
    }
  }
}

template <typename Base>
void launch_gather(const array& a, const void* src, void* dst, Base base, int64_t n, int64_t S,
                   const Strided<1>& lay, bool rows, int64_t vec_bytes, cudaStream_t cs) {
  size_t isz = a.itemsize();
  int64_t total = n * S;
  if (rows) {
    int64_t scale = vec_bytes / int64_t(isz);  // elements per vector
    int64_t R = S / scale;
    auto go = [&](auto tag) {
      using V = typename decltype(tag)::type;
      gather_rows<<<grid_for(n * R, kThreads), kThreads, 0, cs>>>(
          static_cast<const V*>(src), static_cast<V*>(dst), base, n, R, scale);
    };
    switch (vec_bytes) {
      case 16:
        go(type_tag<uint4>{});
        break;
      case 8:
        go(type_tag<uint2>{});
        break;
      case 4:
        go(type_tag<uint32_t>{});
        break;
      case 2:
        go(type_tag<uint16_t>{});
        break;
      default:
        go(type_tag<uint8_t>{});
        break;
    }
  } else {
    dispatch_bytes(isz, [&](auto tag) {
      using U = typename decltype(tag)::type;
      gather_general<<<grid_for(total, kThreads), kThreads, 0, cs>>>(
          static_cast<const U*>(src), static_cast<U*>(dst), base, n, S, lay);
    });
  }
  UMA_CUDA_LAUNCHED("gather");
}

}  // namespace
}  // namespace cuda::ix

void Gather::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda;
  using namespace cuda::ix;
  const Stream& s = stream();
  const array& a = inputs[0];
  void* dst = out_ptr(out, s);
  if (out.size() == 0) return;
  std::vector<array> idx(inputs.begin() + 1, inputs.end());
  int64_t n = idx.empty() ? 1 : int64_t(idx[0].size());
  int64_t S = int64_t(out.size()) / n;
  const void* src = in_ptr(a, s);
  cudaStream_t cs = cuda::stream(s);
  size_t isz = a.itemsize();
  auto lay = make_strided<1>(slice_sizes_, {a.strides()}, "gather");
  bool rows = lay.ndim == 0 || (lay.ndim == 1 && lay.strides[0][0] == 1);
  // Widest vector that every row start, row length and pointer allow.
  int64_t vec = 1;
  if (rows) {
    vec = 16;
    auto fits = [&](int64_t v) {
      if (int64_t(S * isz) % v || reinterpret_cast<uintptr_t>(src) % v || int64_t(isz) > v)
        return false;
      for (int ax : axes_) {
        if ((a.strides()[ax] * int64_t(isz)) % v) return false;
      }
      return true;
    };
    while (vec > int64_t(isz) && !fits(vec)) vec /= 2;
    if (vec < int64_t(isz)) vec = int64_t(isz);
  }
  if (idx.size() == 1) {
    array ix = as_wide_index(idx[0], s);
    int ax = axes_[0];
    Shape ish = ix.shape();
    Strides ist = ix.strides();
    if (ish.empty()) ish = {1}, ist = {0};
    auto ilay = make_strided<1>(ish, {ist}, "gather");
    dispatch_index(ix.dtype(), [&](auto tag) {
      using I = typename decltype(tag)::type;
      BaseFromIndex<I> base{in<I>(ix, s),    ilay,  a.shape(ax), slice_sizes_[ax],
                            a.strides()[ax], clamp_};
      launch_gather(a, src, dst, base, n, S, lay, rows, vec, cs);
    });
  } else {
    array base = window_offsets(idx, axes_, a.shape(), a.strides(), slice_sizes_, clamp_, s);
    launch_gather(a, src, dst, BaseFromArray{in<int64_t>(base, s)}, n, S, lay, rows, vec, cs);
  }
}

namespace cuda::ix {
namespace {

// Window element w of position i: update at uoff(i * W + w), output at
// base(i) + ooff(w).
template <typename T, typename Combine>
__global__ void scatter_kernel(const T* upd, T* out, const int64_t* base, int64_t n, int64_t W,
                               Strided<1> ulay, Strided<1> olay, Combine combine) {
  int64_t total = n * W;
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t i = o / W, w = o - i * W;
    int64_t b = base[i];
    if (b == kDropped) continue;
    int64_t uo[1], oo[1];
    ulay.offsets(o, uo);
    olay.offsets(w, oo);
    combine(out + b + oo[0], upd[uo[0]]);
  }
}

}  // namespace
}  // namespace cuda::ix

void Scatter::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda;
  using namespace cuda::ix;
  const Stream& s = stream();
  const array& a = inputs[0];
  const array& upd = inputs.back();
  copy_or_donate(a, out, s);
  if (upd.size() == 0 || out.size() == 0) return;
  size_t idx_nd = upd.ndim() - a.ndim();
  std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  Shape window(upd.shape().begin() + idx_nd, upd.shape().end());
  array base = window_offsets(idx, axes_, out.shape(), out.strides(), window, clamp_, s);
  int64_t n = idx.empty() ? 1 : int64_t(idx[0].size());
  int64_t W = int64_t(upd.size()) / n;
  Shape ush = upd.shape();
  Strides ust = upd.strides();
  if (ush.empty()) ush = {1}, ust = {0};
  auto ulay = make_strided<1>(ush, {ust}, "scatter");
  Shape wsh = window;
  Strides wst = out.strides();
  if (wsh.empty()) wsh = {1}, wst = {0};
  auto olay = make_strided<1>(wsh, {wst}, "scatter");
  cudaStream_t cs = cuda::stream(s);
  const int64_t* bp = in<int64_t>(base, s);
  const void* up = in_ptr(upd, s);
  void* op = const_cast<void*>(in_ptr(out, s));
  int grid = grid_for(n * W, kThreads);
  if (reduce_ == ScatterReduce::none) {
    dispatch_bytes(out.itemsize(), [&](auto tag) {
      using U = typename decltype(tag)::type;
      scatter_kernel<<<grid, kThreads, 0, cs>>>(static_cast<const U*>(up), static_cast<U*>(op), bp,
                                                n, W, ulay, olay, CombineStore{});
    });
  } else {
    dispatch(out.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto go = [&](auto combine) {
        scatter_kernel<<<grid, kThreads, 0, cs>>>(static_cast<const T*>(up), static_cast<T*>(op),
                                                  bp, n, W, ulay, olay, combine);
      };
      switch (reduce_) {
        case ScatterReduce::sum:
          go(AtomicSum{});
          break;
        case ScatterReduce::prod:
          go(AtomicProd{});
          break;
        case ScatterReduce::max:
          go(AtomicMax{});
          break;
        default:
          go(AtomicMin{});
          break;
      }
    });
  }
  UMA_CUDA_LAUNCHED("scatter");
}

namespace cuda::ix {
namespace {

// out[o] = a[aoff(o) + fix(idx[ioff(o)]) * axis_stride] (zero when dropped).
template <typename U, typename I>
__global__ void gather_axis_kernel(const U* a, const I* idx, U* out, int64_t total, Strided<2> lay,
                                   int64_t dim, int64_t axis_stride, bool clamp) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    lay.offsets(o, off);
    int64_t j = fix_index(int64_t(idx[off[1]]), dim, 1, clamp);
    out[o] = j == kDropped ? U(0) : a[off[0] + j * axis_stride];
  }
}

// One thread per line along the axis: its writes apply in order (the last
// assignment wins, sums add in the CPU's order).
template <typename T, typename I, typename Combine>
__global__ void scatter_axis_lines(T* out, const I* idx, const T* val, int64_t lines,
                                   Strided<3> lay, int64_t m, int64_t idx_step, int64_t val_step,
                                   int64_t dim, int64_t axis_stride, bool clamp, Combine combine) {
  for (int64_t l = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; l < lines;
       l += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    lay.offsets(l, off);
    for (int64_t t = 0; t < m; ++t) {
      int64_t j = fix_index(int64_t(idx[off[1] + t * idx_step]), dim, 1, clamp);
      if (j == kDropped) continue;
      combine(out + off[0] + j * axis_stride, val[off[2] + t * val_step]);
    }
  }
}

// One thread per element, atomically (few long lines).
template <typename T, typename I>
__global__ void scatter_axis_atomic(T* out, const I* idx, const T* val, int64_t total,
                                    Strided<3> lay, int64_t dim, int64_t axis_stride, bool clamp) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total;
       o += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    lay.offsets(o, off);
    int64_t j = fix_index(int64_t(idx[off[1]]), dim, 1, clamp);
    if (j == kDropped) continue;
    AtomicSum{}(out + off[0] + j * axis_stride, val[off[2]]);
  }
}

}  // namespace
}  // namespace cuda::ix

void GatherAxis::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda;
  using namespace cuda::ix;
  const Stream& s = stream();
  const array& a = inputs[0];
  void* dst = out_ptr(out, s);
  if (out.size() == 0) return;
  array idx = as_wide_index(inputs[1], s);
  Strides as = a.strides();
  as[axis_] = 0;
  auto lay = make_strided<2>(out.shape(), {as, idx.strides()}, "take_along_axis");
  int64_t total = int64_t(out.size());
  cudaStream_t cs = cuda::stream(s);
  dispatch_bytes(a.itemsize(), [&](auto dtag) {
    using U = typename decltype(dtag)::type;
    dispatch_index(idx.dtype(), [&](auto itag) {
      using I = typename decltype(itag)::type;
      gather_axis_kernel<<<grid_for(total, kThreads), kThreads, 0, cs>>>(
          in<U>(a, s), in<I>(idx, s), static_cast<U*>(dst), total, lay, a.shape(axis_),
          a.strides()[axis_], clamp_);
      UMA_CUDA_LAUNCHED("gather_axis");
    });
  });
}

void ScatterAxis::eval_gpu(const std::vector<array>& inputs, array& out) {
  using namespace cuda;
  using namespace cuda::ix;
  const Stream& s = stream();
  if (reduce_ != ScatterReduce::none && reduce_ != ScatterReduce::sum) {
    throw std::logic_error("[scatter] unsupported reduction for this kernel");
  }
  array idx = as_wide_index(inputs[1], s);
  const array& val = inputs[2];
  copy_or_donate(inputs[0], out, s);
  if (idx.size() == 0 || out.size() == 0) return;
  int64_t dim = out.shape(axis_), axis_stride = out.strides()[axis_];
  int64_t m = idx.shape(axis_), total = int64_t(idx.size()), lines = total / m;
  cudaStream_t cs = cuda::stream(s);
  void* op = const_cast<void*>(in_ptr(out, s));
  const void* vp = in_ptr(val, s);
  // Few long lines of a sum: atomics over every element instead.
  bool atomic = reduce_ == ScatterReduce::sum && lines < 4096 && m > 64;
  if (atomic) {
    Strides os = out.strides();
    os[axis_] = 0;
    auto lay = make_strided<3>(idx.shape(), {os, idx.strides(), val.strides()}, "scatter_add_axis");
    dispatch(out.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      dispatch_index(idx.dtype(), [&](auto itag) {
        using I = typename decltype(itag)::type;
        scatter_axis_atomic<<<grid_for(total, kThreads), kThreads, 0, cs>>>(
            static_cast<T*>(op), in<I>(idx, s), static_cast<const T*>(vp), total, lay, dim,
            axis_stride, clamp_);
      });
    });
    UMA_CUDA_LAUNCHED("scatter_axis");
    return;
  }
  Shape sh;
  std::array<Strides, 3> st;
  for (int d = 0; d < int(idx.ndim()); ++d) {
    if (d == axis_) continue;
    sh.push_back(idx.shape(d));
    st[0].push_back(out.strides()[d]);
    st[1].push_back(idx.strides()[d]);
    st[2].push_back(val.strides()[d]);
  }
  if (sh.empty()) {
    sh = {1};
    st = {Strides{0}, Strides{0}, Strides{0}};
  }
  auto lay = make_strided<3>(sh, st, "put_along_axis");
  int64_t idx_step = idx.strides()[axis_], val_step = val.strides()[axis_];
  int grid = grid_for(lines, 128);
  dispatch_index(idx.dtype(), [&](auto itag) {
    using I = typename decltype(itag)::type;
    if (reduce_ == ScatterReduce::none) {
      dispatch_bytes(out.itemsize(), [&](auto tag) {
        using U = typename decltype(tag)::type;
        scatter_axis_lines<<<grid, 128, 0, cs>>>(
            static_cast<U*>(op), in<I>(idx, s), static_cast<const U*>(vp), lines, lay, m, idx_step,
            val_step, dim, axis_stride, clamp_, CombineStore{});
      });
    } else {
      dispatch(out.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        scatter_axis_lines<<<grid, 128, 0, cs>>>(static_cast<T*>(op), in<I>(idx, s),
                                                 static_cast<const T*>(vp), lines, lay, m, idx_step,
                                                 val_step, dim, axis_stride, clamp_, PlainSum{});
      });
    }
  });
  UMA_CUDA_LAUNCHED("scatter_axis");
}

}  // namespace uma
