// GPU copies with conversion between any layouts, and the primitives that
// only copy or fill: AsType, Copy, Full, Arange.
#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/utils.cuh"
#include "uma/core/primitives/shape.h"

namespace uma::cuda {

namespace {

template <typename From, typename To>
__global__ void copy_contiguous(const From* src, To* dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    dst[i] = convert<To>(src[i]);
  }
}

template <typename From, typename To>
__global__ void copy_general(const From* src, To* dst, int64_t n, Strided<2> layout) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    layout.offsets(i, off);
    dst[off[1]] = convert<To>(src[off[0]]);
  }
}

constexpr int kThreads = 256;

int grid_for(int64_t n) { return std::max(1, std::min(blocks_for(size_t(n), kThreads), 65535 * 4)); }

// src_p/dst_p point at the first element of each view.
void launch_copy(const void* src_p, Dtype src_t, void* dst_p, Dtype dst_t, const Shape& shape,
                 const Strides& src_strides, const Strides& dst_strides, cudaStream_t cs) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n == 0) return;
  auto layout = make_strided<2>(shape, {src_strides, dst_strides}, "copy");
  bool contiguous = layout.ndim == 1 && layout.strides[0][0] == 1 && layout.strides[1][0] == 1;
  if (contiguous && src_t == dst_t) {
    UMA_CUDA_CHECK(cudaMemcpyAsync(dst_p, src_p, size_t(n) * size_of(src_t), cudaMemcpyDeviceToDevice, cs));
    return;
  }
  dispatch(src_t, [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    dispatch(dst_t, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      auto* s = static_cast<const From*>(src_p);
      auto* d = static_cast<To*>(dst_p);
      if (contiguous) {
        copy_contiguous<<<grid_for(n), kThreads, 0, cs>>>(s, d, n);
      } else {
        copy_general<<<grid_for(n), kThreads, 0, cs>>>(s, d, n, layout);
      }
      UMA_CUDA_LAUNCHED("copy");
    });
  });
}

}  // namespace

array row_major(const array& a, const Stream& s) {
  if (a.flags().row_contiguous) return a;
  array tmp(a.shape(), a.dtype(), nullptr, {});
  copy_to_new(a, tmp, s);
  return tmp;
}

void copy_to_new(const array& src, array& dst, const Stream& s) {
  const void* in = in_ptr(src, s);
  void* out = out_ptr(dst, s);
  if (dst.size() == 0) return;
  Shape shape = src.shape();
  Strides st = src.strides();
  if (shape.empty()) {
    shape = {1};
    st = {0};
  }
  launch_copy(in, src.dtype(), out, dst.dtype(), shape, st, detail::row_strides(shape), stream(s));
}

void copy_strided(const array& src, const Shape& shape, const Strides& src_strides, int64_t src_offset, array& dst,
                  const Strides& dst_strides, int64_t dst_offset, const Stream& s) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n == 0) return;
  auto* in = static_cast<const char*>(in_ptr(src, s)) + src_offset * int64_t(src.itemsize());
  auto* out = static_cast<char*>(const_cast<void*>(in_ptr(dst, s))) + dst_offset * int64_t(dst.itemsize());
  launch_copy(in, src.dtype(), out, dst.dtype(), shape, src_strides, dst_strides, stream(s));
}

}  // namespace uma::cuda

namespace uma {

void AsType::eval_gpu(const std::vector<array>& inputs, array& out) { cuda::copy_to_new(inputs[0], out, stream()); }

void Copy::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  if (in.flags().row_contiguous && in.data_size() == in.size()) {
    out.copy_shared_buffer(in);  // arrays are values: a row-major input can be shared
    return;
  }
  cuda::copy_to_new(in, out, stream());
}

void Full::eval_gpu(const std::vector<array>& inputs, array& out) {
  // The value (one element, maybe on the host) broadcast into fresh data.
  const array& v = inputs[0];
  cuda::out_ptr(out, stream());
  if (out.size() == 0) return;
  Shape shape = out.shape();
  if (shape.empty()) shape = {1};
  cuda::copy_strided(v, shape, Strides(shape.size(), 0), 0, out, detail::row_strides(shape), 0, stream());
}

namespace {
template <typename T>
__global__ void arange_kernel(T* out, int64_t n, double start, double step) {
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    out[i] = static_cast<T>(int64_t(start) + i * int64_t(step));
  } else {
    out[i] = cuda::convert<T>(start + double(i) * step);
  }
}
}  // namespace

void Arange::eval_gpu(const std::vector<array>&, array& out) {
  void* p = cuda::out_ptr(out, stream());
  int64_t n = int64_t(out.size());
  if (n == 0) return;
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, cuda::complex64>) {
      throw std::invalid_argument("[Arange] complex64 is not supported");
    } else {
      arange_kernel<<<cuda::blocks_for(n, 256), 256, 0, cuda::stream(stream())>>>(static_cast<T*>(p), n, start_,
                                                                                   step_);
      UMA_CUDA_LAUNCHED("arange");
    }
  });
}

}  // namespace uma
