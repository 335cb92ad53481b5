// Softmax and LogSumExp over the last axis on the GPU, computed in float32
// for float32 and the half types (as the CPU, so `precise` changes nothing)
// and in float64 for float64. As the CPU: a row holding NaN or +inf, or all
// -inf, gives NaN everywhere in softmax; logsumexp gives the row's max then
// (NaN, +inf, -inf), and -inf for an empty row.
//   x: (rows, n) row-major -> softmax: (rows, n), logsumexp: (rows, 1)
// Softmax rows that fit in registers are read once (16-byte loads when rows
// are aligned): a warp per row up to 32 * E elements, else a block of up to
// 512 threads; longer rows make three passes over global memory (L2-hot).
#include <optional>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/reduce.cuh"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

using cuda::red::group_reduce;
using cuda::red::smem_t;
using cuda::red::visit_row;
template <typename C>
using MaxOp = cuda::red::ExtremeOp<true, C>;  // NaN wins
template <typename C>
using SumOp = cuda::red::SumOp<C>;

template <typename C>
__device__ inline C exp_c(C v) {
  if constexpr (std::is_same_v<C, float>) {
    return expf(v);
  } else {
    return exp(v);
  }
}

template <typename C, typename T>
__device__ inline C to_c(T v) {
  if constexpr (cuda::is_half_v<T>) {
    return C(float(v));
  } else {
    return C(v);
  }
}

// Elements per thread kept in registers: 32 float32 or 16 float64, in blocks
// of up to 512 threads (128 registers a thread: no spills, double exp included).
constexpr int kMaxGroup = 512;
template <typename C>
constexpr int kRegElems = sizeof(C) == 4 ? 32 : 16;

// Each thread holds NV vectors of V elements: element (k * group + t) * V + j.
// V > 1 needs n % V == 0 and 16-byte aligned x and y.
template <typename T, typename C, int V, int NV>
__global__ void __launch_bounds__(kMaxGroup)
    softmax_regs(const T* x, T* y, int64_t rows, int64_t n, int group) {
  __shared__ smem_t<C> buf[32];
  C* sm = reinterpret_cast<C*>(buf);
  int gpb = blockDim.x / group, g = threadIdx.x / group, t = threadIdx.x % group;
  // Block mode: gpb == 1, so the trip count is the same for the whole block.
  for (int64_t r = int64_t(blockIdx.x) * gpb + g; r < rows; r += int64_t(gridDim.x) * gpb) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    C v[NV][V];
    C m = MaxOp<C>::init();
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      int64_t base = (int64_t(k) * group + t) * V;
      if (base < n) {
        if constexpr (V > 1) {
          uint4 raw = *reinterpret_cast<const uint4*>(xr + base);
          T e[V];
          memcpy(static_cast<void*>(e), &raw, 16);
#pragma unroll
          for (int j = 0; j < V; ++j) v[k][j] = to_c<C>(e[j]);
        } else {
          v[k][0] = to_c<C>(xr[base]);
        }
#pragma unroll
        for (int j = 0; j < V; ++j) m = MaxOp<C>::combine(m, v[k][j]);
      }
    }
    m = group_reduce<MaxOp<C>>(m, group, sm);
    C s = 0;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      if ((int64_t(k) * group + t) * V < n) {
#pragma unroll
        for (int j = 0; j < V; ++j) {
          v[k][j] = exp_c(v[k][j] - m);
          s += v[k][j];
        }
      }
    }
    s = group_reduce<SumOp<C>>(s, group, sm);
    C inv = C(1) / s;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
      int64_t base = (int64_t(k) * group + t) * V;
      if (base < n) {
        if constexpr (V > 1) {
          T e[V];
#pragma unroll
          for (int j = 0; j < V; ++j) e[j] = cuda::convert<T>(v[k][j] * inv);
          uint4 raw;
          memcpy(&raw, static_cast<const void*>(e), 16);
          *reinterpret_cast<uint4*>(yr + base) = raw;
        } else {
          yr[base] = cuda::convert<T>(v[k][0] * inv);
        }
      }
    }
  }
}

// Any row length: max, sum of exp, then write, each a pass over the row.
template <typename T, typename C>
__global__ void __launch_bounds__(512)
    softmax_loop(const T* x, T* y, int64_t rows, int64_t n, int group) {
  __shared__ smem_t<C> buf[32];
  C* sm = reinterpret_cast<C*>(buf);
  int gpb = blockDim.x / group, g = threadIdx.x / group, t = threadIdx.x % group;
  for (int64_t r = int64_t(blockIdx.x) * gpb + g; r < rows; r += int64_t(gridDim.x) * gpb) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    C m = MaxOp<C>::init();
    visit_row(xr, n, t, group, [&](int64_t, T e) { m = MaxOp<C>::combine(m, to_c<C>(e)); });
    m = group_reduce<MaxOp<C>>(m, group, sm);
    C s = 0;
    visit_row(xr, n, t, group, [&](int64_t, T e) { s += exp_c(to_c<C>(e) - m); });
    s = group_reduce<SumOp<C>>(s, group, sm);
    C inv = C(1) / s;
    visit_row(xr, n, t, group,
              [&](int64_t i, T e) { yr[i] = cuda::convert<T>(exp_c(to_c<C>(e) - m) * inv); });
  }
}

// out[r] = log(sum(exp(x[r, :]))); a NaN/inf max (or an empty row) is the answer.
template <typename T, typename C>
__global__ void __launch_bounds__(512)
    logsumexp_rows(const T* x, T* out, int64_t rows, int64_t n, int group) {
  __shared__ smem_t<C> buf[32];
  C* sm = reinterpret_cast<C*>(buf);
  int gpb = blockDim.x / group, g = threadIdx.x / group, t = threadIdx.x % group;
  for (int64_t r = int64_t(blockIdx.x) * gpb + g; r < rows; r += int64_t(gridDim.x) * gpb) {
    const T* xr = x + r * n;
    C m = MaxOp<C>::init();
    visit_row(xr, n, t, group, [&](int64_t, T e) { m = MaxOp<C>::combine(m, to_c<C>(e)); });
    m = group_reduce<MaxOp<C>>(m, group, sm);
    // m is the same on every thread of the group: the branch is uniform.
    if (m != m || m == MaxOp<C>::init() || m == -MaxOp<C>::init()) {
      if (t == 0) out[r] = cuda::convert<T>(m);
      continue;
    }
    C s = 0;
    visit_row(xr, n, t, group, [&](int64_t, T e) { s += exp_c(to_c<C>(e) - m); });
    s = group_reduce<SumOp<C>>(s, group, sm);
    if (t == 0) out[r] = cuda::convert<T>(double(m) + log(double(s)));
  }
}

constexpr int64_t kMaxGrid = int64_t(1) << 20;

// Threads per block and blocks for `rows` rows with `group` threads each.
std::pair<int, int> shape_for(int64_t rows, int group) {
  int threads = group == 32 ? 256 : group;
  int64_t blocks = group == 32 ? (rows + 7) / 8 : rows;
  return {threads, int(std::min(blocks, kMaxGrid))};
}

// Calls f(std::integral_constant<int, NV>) for NV in {1, 2, ..., 32} up to Max.
template <int Max, typename F>
void dispatch_nv(int64_t nv, F&& f) {
  if (nv <= 1) return f(std::integral_constant<int, 1>{});
  if (nv <= 2 && Max >= 2) return f(std::integral_constant<int, 2>{});
  if constexpr (Max >= 4) {
    if (nv <= 4) return f(std::integral_constant<int, 4>{});
  }
  if constexpr (Max >= 8) {
    if (nv <= 8) return f(std::integral_constant<int, 8>{});
  }
  if constexpr (Max >= 16) {
    if (nv <= 16) return f(std::integral_constant<int, 16>{});
  }
  if constexpr (Max >= 32) {
    if (nv <= 32) return f(std::integral_constant<int, 32>{});
  }
  throw std::logic_error("[softmax] unreachable register count");
}

// Launches the register kernel with vectors of V elements; false when the
// row does not fit in registers.
template <typename T, typename C, int V>
bool softmax_in_regs(const T* x, T* y, int64_t rows, int64_t n, cudaStream_t cs) {
  constexpr int max_nv = kRegElems<C> / V;
  int64_t vecs = n / V;  // n % V == 0 here
  int group;
  int64_t nv;
  if (vecs <= 32 * max_nv) {
    group = 32;
    nv = cuda::red::next_pow2(cuda::red::ceil_div(vecs, 32));
  } else {
    group = int(std::min<int64_t>(kMaxGroup, cuda::red::next_pow2(cuda::red::ceil_div(vecs, 2))));
    nv = cuda::red::next_pow2(cuda::red::ceil_div(vecs, group));
    if (nv > max_nv) return false;
  }
  auto [threads, grid] = shape_for(rows, group);
  dispatch_nv<max_nv>(nv, [&](auto c) {
    softmax_regs<T, C, V, decltype(c)::value><<<grid, threads, 0, cs>>>(x, y, rows, n, group);
  });
  UMA_CUDA_LAUNCHED("softmax");
  return true;
}

int loop_group(int64_t n) { return n <= 1024 ? 32 : (n <= 8192 ? 256 : 512); }

// The compute type of T: float64 for float64, float32 otherwise.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename F>
void dispatch_float(Dtype t, const char* prim, F&& f) {
  switch (t) {
    case Dtype::float16:
      return f(cuda::type_tag<__half>{});
    case Dtype::bfloat16:
      return f(cuda::type_tag<__nv_bfloat16>{});
    case Dtype::float32:
      return f(cuda::type_tag<float>{});
    case Dtype::float64:
      return f(cuda::type_tag<double>{});
    default:
      throw std::invalid_argument(std::string("[") + prim + "] unsupported dtype " + dtype_name(t));
  }
}

}  // namespace

void Softmax::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  const array in = cuda::row_major(inputs[0], s);
  dispatch_float(in.dtype(), "softmax", [](auto) {});  // rejects other dtypes first
  void* yp = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  int64_t n = in.shape(-1), rows = int64_t(in.size()) / n;
  const void* xp = cuda::in_ptr(in, s);
  cudaStream_t cs = cuda::stream(s);
  dispatch_float(in.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = compute_t<T>;
    constexpr int V = int(16 / sizeof(T));
    auto* x = static_cast<const T*>(xp);
    auto* y = static_cast<T*>(yp);
    bool aligned = n % V == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                   reinterpret_cast<uintptr_t>(y) % 16 == 0;
    if (aligned ? softmax_in_regs<T, C, V>(x, y, rows, n, cs)
                : softmax_in_regs<T, C, 1>(x, y, rows, n, cs))
      return;
    auto [threads, grid] = shape_for(rows, loop_group(n));
    softmax_loop<T, C><<<grid, threads, 0, cs>>>(x, y, rows, n, loop_group(n));
    UMA_CUDA_LAUNCHED("softmax (long rows)");
  });
}

void LogSumExp::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  const array in = cuda::row_major(inputs[0], s);
  dispatch_float(in.dtype(), "logsumexp", [](auto) {});
  void* yp = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  int64_t rows = int64_t(out.size()), n = in.ndim() ? in.shape(-1) : 1;
  const void* xp = cuda::in_ptr(in, s);
  cudaStream_t cs = cuda::stream(s);
  dispatch_float(in.dtype(), "logsumexp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto [threads, grid] = shape_for(rows, loop_group(n));
    logsumexp_rows<T, compute_t<T>><<<grid, threads, 0, cs>>>(
        static_cast<const T*>(xp), static_cast<T*>(yp), rows, n, loop_group(n));
    UMA_CUDA_LAUNCHED("logsumexp");
  });
}

}  // namespace uma
