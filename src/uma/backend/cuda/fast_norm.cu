// CUDA kernels of fast::RMSNorm and fast::LayerNorm: rows of the last axis,
// a warp per row (D <= 1024) or a block per row, float32 sums, 16-byte
// loads where rows and parameters are aligned. Same arithmetic as the CPU
// kernels (backend/cpu/fast.cpp): y = x * inv * w for RMSNorm,
// (x - mean) * inv * w + b for LayerNorm, inv = 1 / sqrt(. / D + eps).
#include <optional>

#include "uma/backend/cuda/fast_utils.cuh"
#include "uma/core/primitives/fast.h"

namespace uma::fast {

namespace {

using cuda::group_sum;

constexpr int kWarpRowsThreads = 128;  // 4 rows per block
constexpr int kBlockRowThreads = 256;

// The sum of v over the threads of a row: a warp, or the whole block
// (smem: 32 floats; every thread of the block calls it).
template <bool kBlock>
__device__ inline float row_sum(float v, float* smem) {
  v = group_sum(v);
  if constexpr (kBlock) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = group_sum(lane < warps ? smem[lane] : 0.f);
    __syncthreads();  // smem is reused by the next call
  }
  return v;
}

struct RowGrid {
  int64_t first, step;  // rows this thread's group handles: first, first + step, ...
  int tid, threads;     // the thread within its row group
};

template <bool kBlock>
__device__ inline RowGrid row_grid() {
  if constexpr (kBlock) {
    return {int64_t(blockIdx.x), int64_t(gridDim.x), int(threadIdx.x), int(blockDim.x)};
  } else {
    const int warps = blockDim.x / 32;
    return {int64_t(blockIdx.x) * warps + threadIdx.x / 32, int64_t(gridDim.x) * warps, int(threadIdx.x % 32), 32};
  }
}

// Calls f(i, vals) for each chunk of V elements of the row owned by this
// thread (i its first index); D % V == 0.
template <int V, typename T, typename F>
__device__ inline void for_chunks(const T* row, int64_t D, const RowGrid& g, F&& f) {
  for (int64_t i = int64_t(g.tid) * V; i < D; i += int64_t(g.threads) * V) {
    float v[V];
    cuda::load_floats<T, V>(row + i, v);
    f(i, v);
  }
}

// x, out: (rows, D) row-major. w: (D) or null.
template <typename T, int V, bool kBlock>
__global__ void rms_norm_kernel(const T* x, const T* w, T* out, int64_t rows, int64_t D, float eps) {
  __shared__ float smem[32];
  const RowGrid g = row_grid<kBlock>();
  // The loop is uniform over a row group (a warp, or the block), which
  // row_sum's shuffles and barriers need.
  for (int64_t row = g.first; row < rows; row += g.step) {
    const T* xr = x + row * D;
    float ss = 0.f;
    for_chunks<V>(xr, D, g, [&](int64_t, const float(&v)[V]) {
#pragma unroll
      for (int u = 0; u < V; ++u) ss += v[u] * v[u];
    });
    ss = row_sum<kBlock>(ss, smem);
    const float inv = 1.0f / sqrtf(ss / float(D) + eps);
    T* orow = out + row * D;
    for_chunks<V>(xr, D, g, [&](int64_t i, const float(&v)[V]) {
      float y[V], wv[V];
      if (w) {
        cuda::load_floats<T, V>(w + i, wv);
#pragma unroll
        for (int u = 0; u < V; ++u) y[u] = v[u] * inv * wv[u];
      } else {
#pragma unroll
        for (int u = 0; u < V; ++u) y[u] = v[u] * inv;
      }
      cuda::store_floats<T, V>(orow + i, y);
    });
  }
}

// x, out: (rows, D) row-major. w, b: (D) or null.
template <typename T, int V, bool kBlock>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, T* out, int64_t rows, int64_t D, float eps) {
  __shared__ float smem[32];
  const RowGrid g = row_grid<kBlock>();
  for (int64_t row = g.first; row < rows; row += g.step) {  // uniform over the row group
    const T* xr = x + row * D;
    float sum = 0.f;
    for_chunks<V>(xr, D, g, [&](int64_t, const float(&v)[V]) {
#pragma unroll
      for (int u = 0; u < V; ++u) sum += v[u];
    });
    const float mean = row_sum<kBlock>(sum, smem) / float(D);
    float var = 0.f;
    for_chunks<V>(xr, D, g, [&](int64_t, const float(&v)[V]) {
#pragma unroll
      for (int u = 0; u < V; ++u) var += (v[u] - mean) * (v[u] - mean);
    });
    var = row_sum<kBlock>(var, smem);
    const float inv = 1.0f / sqrtf(var / float(D) + eps);
    T* orow = out + row * D;
    for_chunks<V>(xr, D, g, [&](int64_t i, const float(&v)[V]) {
      float y[V], wv[V], bv[V];
#pragma unroll
      for (int u = 0; u < V; ++u) wv[u] = 1.f, bv[u] = 0.f;
      if (w) cuda::load_floats<T, V>(w + i, wv);
      if (b) cuda::load_floats<T, V>(b + i, bv);
#pragma unroll
      for (int u = 0; u < V; ++u) y[u] = (v[u] - mean) * inv * wv[u] + bv[u];
      cuda::store_floats<T, V>(orow + i, y);
    });
  }
}

// Launches kernel<T, V, block> with the vector width the pointers allow.
template <typename T, typename Launch>
void launch_rows(int64_t rows, int64_t D, std::initializer_list<const void*> ptrs, const Stream& s, Launch&& launch) {
  constexpr int V = cuda::kVec<T>;
  bool vec = D % V == 0;
  for (const void* p : ptrs) vec &= p == nullptr || cuda::aligned16(p);
  const bool block = D > 1024;
  const int threads = block ? kBlockRowThreads : kWarpRowsThreads;
  const int64_t per_block = block ? 1 : threads / 32;
  const int grid = int(std::min<int64_t>((rows + per_block - 1) / per_block, int64_t(1) << 30));
  cudaStream_t cs = cuda::stream(s);
  auto tags = [&](auto v, auto b) { launch(v, b, grid, threads, cs); };
  using One = std::integral_constant<int, 1>;
  using Vec = std::integral_constant<int, V>;
  if (vec) {
    block ? tags(Vec{}, std::true_type{}) : tags(Vec{}, std::false_type{});
  } else {
    block ? tags(One{}, std::true_type{}) : tags(One{}, std::false_type{});
  }
}

// The (D) parameter as a unit-stride device array.
const void* param_ptr(const std::optional<array>& p, const Stream& s, std::optional<array>& keep) {
  if (!p) return nullptr;
  keep = cuda::row_major(*p, s);
  return cuda::in_ptr(*keep, s);
}

}  // namespace

void RMSNorm::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  array x = cuda::row_major(inputs[0], s);
  std::optional<array> w, wk;
  if (has_weight_) w = inputs[1];
  const void* xp = cuda::in_ptr(x, s);
  const void* wp = param_ptr(w, s, wk);
  void* op = cuda::out_ptr(out, s);
  const int64_t D = x.ndim() ? x.shape().back() : 1;
  if (D == 0 || x.size() == 0) return;
  const int64_t rows = int64_t(x.size()) / D;
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || cuda::is_half_v<T>) {
      launch_rows<T>(rows, D, {xp, wp}, s, [&](auto v, auto block, int grid, int threads, cudaStream_t cs) {
        rms_norm_kernel<T, decltype(v)::value, decltype(block)::value><<<grid, threads, 0, cs>>>(
            static_cast<const T*>(xp), static_cast<const T*>(wp), static_cast<T*>(op), rows, D, eps_);
        UMA_CUDA_LAUNCHED("rms_norm");
      });
    } else {
      throw std::invalid_argument(std::string("[rms_norm] no CUDA kernel for dtype ") + dtype_name(out.dtype()));
    }
  });
}

void LayerNorm::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  array x = cuda::row_major(inputs[0], s);
  std::optional<array> w, b, wk, bk;
  size_t k = 1;
  if (has_weight_) w = inputs[k++];
  if (has_bias_) b = inputs[k++];
  const void* xp = cuda::in_ptr(x, s);
  const void* wp = param_ptr(w, s, wk);
  const void* bp = param_ptr(b, s, bk);
  void* op = cuda::out_ptr(out, s);
  const int64_t D = x.ndim() ? x.shape().back() : 1;
  if (D == 0 || x.size() == 0) return;
  const int64_t rows = int64_t(x.size()) / D;
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || cuda::is_half_v<T>) {
      launch_rows<T>(rows, D, {xp, wp, bp}, s, [&](auto v, auto block, int grid, int threads, cudaStream_t cs) {
        layer_norm_kernel<T, decltype(v)::value, decltype(block)::value><<<grid, threads, 0, cs>>>(
            static_cast<const T*>(xp), static_cast<const T*>(wp), static_cast<const T*>(bp), static_cast<T*>(op),
            rows, D, eps_);
        UMA_CUDA_LAUNCHED("layer_norm");
      });
    } else {
      throw std::invalid_argument(std::string("[layer_norm] no CUDA kernel for dtype ") + dtype_name(out.dtype()));
    }
  });
}

}  // namespace uma::fast
