// CUDA kernels of Sort, ArgSort, Partition and ArgPartition. Each line along
// the axis is radix-sorted on an unsigned key that orders as the CPU's
// comparison does (NaN after everything, NaNs equal to each other; for index
// sorts -0 equals +0): radix sorts are stable, so index sorts break ties by
// position exactly as the CPU's (value, index) order. Lines of up to 4096
// elements sort in one block (cub::BlockRadixSort); longer ones with CUB's
// device-wide radix sorts. Partitions are full sorts: a valid partition, with
// the kth element equal to the CPU's.
//
//   in (any layout) --keys--> (rows, n) keys --sort--> out (row-major)
#include <cub/cub.cuh>
#include <optional>

#include "uma/backend/cuda/indexing_utils.cuh"
#include "uma/backend/cuda/scatter_combine.cuh"
#include "uma/core/primitives/sort.h"

namespace uma {

namespace cuda::ix {
namespace {

template <typename T>
using key_of =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;

template <typename K>
Dtype key_dtype() {
  return sizeof(K) == 1 ? uint8 : sizeof(K) == 2 ? uint16 : sizeof(K) == 4 ? uint32 : uint64;
}

template <typename T>
inline constexpr bool is_float_v = std::is_floating_point_v<T> || is_half_v<T>;

// Order-preserving map to an unsigned key (NaN to the largest key).
template <typename T, typename K>
__device__ inline K to_key(T v, bool equal_zeros) {
  constexpr K sign = K(K(1) << (8 * sizeof(K) - 1));
  K b;
  memcpy(&b, &v, sizeof(T));
  if constexpr (is_float_v<T>) {
    if (nan_value(v)) return K(~K(0));
    if (equal_zeros && K(b & K(~sign)) == 0) b = 0;
    return (b & sign) ? K(~b) : K(b | sign);
  } else if constexpr (std::is_signed_v<T>) {
    return K(b ^ sign);
  } else {
    return b;
  }
}

template <typename T, typename K>
__device__ inline T from_key(K k) {
  constexpr K sign = K(K(1) << (8 * sizeof(K) - 1));
  K b = k;
  if constexpr (is_float_v<T>) {
    b = (k & sign) ? K(k ^ sign) : K(~k);
  } else if constexpr (std::is_signed_v<T>) {
    b = K(k ^ sign);
  }
  T v;
  memcpy(&v, &b, sizeof(T));
  return v;
}

// keys[i] = key(in[lay(i)]), i row-major over (lines..., n).
template <typename T, typename K>
__global__ void make_keys(const T* in, K* keys, int64_t total, Strided<1> lay, bool equal_zeros) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    lay.offsets(i, off);
    keys[i] = to_key<T, K>(in[off[0]], equal_zeros);
  }
}

// Line r = (outer o, inner j) element p sits at o * n * inner + p * inner + j
// of the row-major output.
__device__ inline int64_t out_offset(int64_t r, int64_t p, int64_t n, int64_t inner) {
  int64_t o = r / inner, j = r - o * inner;
  return (o * n + p) * inner + j;
}

template <typename T, typename K>
__global__ void emit_values(const K* keys, T* out, int64_t total, int64_t n, int64_t inner) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = i / n;
    out[out_offset(r, i - r * n, n, inner)] = from_key<T, K>(keys[i]);
  }
}

__global__ void emit_indices(const uint32_t* idx, uint32_t* out, int64_t total, int64_t n,
                             int64_t inner) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = i / n;
    out[out_offset(r, i - r * n, n, inner)] = idx[i];
  }
}

__global__ void line_iota(uint32_t* v, int64_t total, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    v[i] = uint32_t(i % n);
  }
}

__global__ void line_offsets(int* off, int64_t count, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i <= count;
       i += int64_t(gridDim.x) * blockDim.x) {
    off[i] = int(i * n);
  }
}

// One line per block, in registers and shared memory. Pairs: writes the
// sorted positions straight to the (row-major) output; keys only: writes the
// sorted keys contiguously.
template <typename K, int kThreadsPer, int kItems, bool kPairs>
__global__ void __launch_bounds__(kThreadsPer)
    block_sort(const K* keys, K* keys_out, uint32_t* idx_out, int64_t rows, int n, int64_t inner) {
  using V = std::conditional_t<kPairs, uint32_t, cub::NullType>;
  using Sorter = cub::BlockRadixSort<K, kThreadsPer, kItems, V>;
  __shared__ typename Sorter::TempStorage tmp;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const K* src = keys + r * n;
    K k[kItems];
    V v[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      int pos = threadIdx.x * kItems + j;
      // Padding sorts last: the largest key, and (stable) after real ones.
      k[j] = pos < n ? src[pos] : K(~K(0));
      if constexpr (kPairs) v[j] = uint32_t(pos);
    }
    if constexpr (kPairs) {
      Sorter(tmp).SortBlockedToStriped(k, v);
    } else {
      Sorter(tmp).SortBlockedToStriped(k);
    }
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      int pos = j * kThreadsPer + threadIdx.x;
      if (pos < n) {
        if constexpr (kPairs) {
          idx_out[out_offset(r, pos, n, inner)] = v[j];
        } else {
          keys_out[r * n + pos] = k[j];
        }
      }
    }
    __syncthreads();  // tmp is reused by the next line
  }
}

template <typename K, int kThreadsPer, int kItems>
void launch_block_sort(const K* keys, K* keys_out, uint32_t* idx_out, int64_t rows, int n,
                       int64_t inner, bool pairs, cudaStream_t cs) {
  int grid = int(std::min<int64_t>(rows, 65535 * 8));
  if (pairs) {
    block_sort<K, kThreadsPer, kItems, true>
        <<<grid, kThreadsPer, 0, cs>>>(keys, keys_out, idx_out, rows, n, inner);
  } else {
    block_sort<K, kThreadsPer, kItems, false>
        <<<grid, kThreadsPer, 0, cs>>>(keys, keys_out, idx_out, rows, n, inner);
  }
  UMA_CUDA_LAUNCHED("block_sort");
}

constexpr int64_t kBlockSortMax = 4096;

// Sorts `rows` lines of n keys. pairs: the sorted positions go to `out_idx`
// (row-major output with `inner`); else the sorted keys go to keys_out.
template <typename K>
void sort_lines(const K* keys, K* keys_out, uint32_t* out_idx, int64_t rows, int64_t n,
                int64_t inner, bool pairs, const Stream& s) {
  cudaStream_t cs = stream(s);
  if (n <= 128)
    return launch_block_sort<K, 32, 4>(keys, keys_out, out_idx, rows, int(n), inner, pairs, cs);
  if (n <= 1024)
    return launch_block_sort<K, 128, 8>(keys, keys_out, out_idx, rows, int(n), inner, pairs, cs);
  if (n <= kBlockSortMax) {
    return launch_block_sort<K, 256, 16>(keys, keys_out, out_idx, rows, int(n), inner, pairs, cs);
  }
  int64_t total = rows * n;
  // CUB's device sorts need distinct key buffers.
  std::optional<array> kout, vin, vout;
  if (keys_out == keys) {
    kout = scratch({int32_t(rows), int32_t(n)}, key_dtype<K>(), s);
    keys_out = static_cast<K*>(const_cast<void*>(in_ptr(*kout, s)));
  }
  uint32_t *vi = nullptr, *vo = nullptr;
  if (pairs) {
    vin = scratch({int32_t(rows), int32_t(n)}, uint32, s);
    vi = static_cast<uint32_t*>(const_cast<void*>(in_ptr(*vin, s)));
    line_iota<<<grid_for(total, 256), 256, 0, cs>>>(vi, total, n);
    UMA_CUDA_LAUNCHED("sort_iota");
    // Axis last: CUB writes the positions straight into the output.
    if (inner == 1) {
      vo = out_idx;
    } else {
      vout = scratch({int32_t(rows), int32_t(n)}, uint32, s);
      vo = static_cast<uint32_t*>(const_cast<void*>(in_ptr(*vout, s)));
    }
  }
  constexpr int bits = 8 * sizeof(K);
  if (rows <= 4) {
    // Few long lines (sampling over a vocabulary): one device-wide sort each.
    size_t bytes = 0;
    if (pairs) {
      UMA_CUDA_CHECK(
          cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys, keys_out, vi, vo, n, 0, bits, cs));
    } else {
      UMA_CUDA_CHECK(
          cub::DeviceRadixSort::SortKeys(nullptr, bytes, keys, keys_out, n, 0, bits, cs));
    }
    array tmp = scratch_bytes(bytes, s);
    void* tp = const_cast<void*>(in_ptr(tmp, s));
    for (int64_t r = 0; r < rows; ++r) {
      if (pairs) {
        UMA_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(tp, bytes, keys + r * n, keys_out + r * n,
                                                       vi + r * n, vo + r * n, n, 0, bits, cs));
      } else {
        UMA_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(tp, bytes, keys + r * n, keys_out + r * n, n,
                                                      0, bits, cs));
      }
    }
  } else {
    // Segments of one launch must hold fewer than 2^31 elements in all.
    int64_t chunk = std::max<int64_t>(1, (int64_t(INT32_MAX) - 1) / n);
    chunk = std::min(chunk, rows);
    array offs = scratch({int32_t(chunk + 1)}, int32, s);
    int* op = static_cast<int*>(const_cast<void*>(in_ptr(offs, s)));
    line_offsets<<<grid_for(chunk + 1, 256), 256, 0, cs>>>(op, chunk, n);
    UMA_CUDA_LAUNCHED("sort_offsets");
    size_t bytes = 0;
    int items = int(chunk * n);
    if (pairs) {
      UMA_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
          nullptr, bytes, keys, keys_out, vi, vo, items, int(chunk), op, op + 1, 0, bits, cs));
    } else {
      UMA_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(nullptr, bytes, keys, keys_out, items,
                                                             int(chunk), op, op + 1, 0, bits, cs));
    }
    array tmp = scratch_bytes(bytes, s);
    void* tp = const_cast<void*>(in_ptr(tmp, s));
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      int64_t c = std::min(chunk, rows - r0);
      int64_t b = r0 * n;
      if (pairs) {
        UMA_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(tp, bytes, keys + b, keys_out + b,
                                                                vi + b, vo + b, int(c * n), int(c),
                                                                op, op + 1, 0, bits, cs));
      } else {
        UMA_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(
            tp, bytes, keys + b, keys_out + b, int(c * n), int(c), op, op + 1, 0, bits, cs));
      }
    }
  }
  UMA_CUDA_LAUNCHED("radix_sort");
  if (pairs && vo != out_idx) {
    emit_indices<<<grid_for(total, 256), 256, 0, cs>>>(vo, out_idx, total, n, inner);
    UMA_CUDA_LAUNCHED("sort_emit");
  }
}

// Sorts (indices = false: values; true: positions) along axis.
void sort_gpu(const array& in, array& out, int axis, bool indices, const char* op,
              const Stream& s) {
  if (in.dtype() == Dtype::complex64) {
    throw std::invalid_argument(std::string("[") + op + "] complex64 arrays have no order");
  }
  void* dst = out_ptr(out, s);
  if (out.size() == 0) return;
  int64_t n = in.shape(axis), inner = 1;
  for (int d = axis + 1; d < int(in.ndim()); ++d) inner *= in.shape(d);
  int64_t total = int64_t(in.size()), rows = total / n;
  if (rows > INT32_MAX)
    throw std::invalid_argument(std::string("[") + op + "] too many lines for the GPU kernel");
  // The input read with the axis moved last.
  Shape psh;
  Strides pst;
  for (int d = 0; d < int(in.ndim()); ++d) {
    if (d == axis) continue;
    psh.push_back(in.shape(d));
    pst.push_back(in.strides()[d]);
  }
  psh.push_back(int32_t(n));
  pst.push_back(in.strides()[axis]);
  auto lay = make_strided<1>(psh, {pst}, op);
  cudaStream_t cs = stream(s);
  const void* src = in_ptr(in, s);
  dispatch(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, complex64>) {
      using K = key_of<T>;
      Dtype kt = key_dtype<K>();
      array keys = scratch({int32_t(rows), int32_t(n)}, kt, s);
      K* kp = static_cast<K*>(const_cast<void*>(in_ptr(keys, s)));
      make_keys<T, K><<<grid_for(total, 256), 256, 0, cs>>>(static_cast<const T*>(src), kp, total,
                                                            lay, indices);
      UMA_CUDA_LAUNCHED("sort_keys");
      if (indices) {
        sort_lines<K>(kp, kp, static_cast<uint32_t*>(dst), rows, n, inner, true, s);
        return;
      }
      // Keys sort out of place; their values then go to the output layout.
      array sorted = scratch({int32_t(rows), int32_t(n)}, kt, s);
      K* sp = static_cast<K*>(const_cast<void*>(in_ptr(sorted, s)));
      sort_lines<K>(kp, sp, nullptr, rows, n, inner, false, s);
      emit_values<T, K>
          <<<grid_for(total, 256), 256, 0, cs>>>(sp, static_cast<T*>(dst), total, n, inner);
      UMA_CUDA_LAUNCHED("sort_emit");
    }
  });
}

}  // namespace
}  // namespace cuda::ix

void Sort::eval_gpu(const std::vector<array>& inputs, array& out) {
  cuda::ix::sort_gpu(inputs[0], out, axis_, false, "sort", stream());
}

void ArgSort::eval_gpu(const std::vector<array>& inputs, array& out) {
  cuda::ix::sort_gpu(inputs[0], out, axis_, true, "argsort", stream());
}

void Partition::eval_gpu(const std::vector<array>& inputs, array& out) {
  cuda::ix::sort_gpu(inputs[0], out, axis_, false, "partition", stream());
}

void ArgPartition::eval_gpu(const std::vector<array>& inputs, array& out) {
  cuda::ix::sort_gpu(inputs[0], out, axis_, true, "argpartition", stream());
}

}  // namespace uma
