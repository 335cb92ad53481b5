// CUDA kernel of fast::RoPE: a thread per rotated pair (and per feature
// past `dims`, copied). As the CPU kernel (backend/cpu/fast.cpp): inverse
// frequencies 1 / base^(2i/dims) computed on the host with the same float
// pow (or 1 / freqs[i]), angle (float(offset + t) * scale) * inv[i] in
// float32, offset an int32 scalar or one per batch item (x's first axis);
// `traditional` rotates interleaved pairs (x[2i], x[2i+1]), otherwise halves
// (x[i], x[i + dims/2]).
#include <cmath>
#include <optional>
#include <vector>

#include "uma/backend/cuda/fast_utils.cuh"
#include "uma/core/primitives/fast.h"

namespace uma::fast {

namespace {

struct RopeArgs {
  int64_t rows, T, D, per_batch;
  int half, dims;
  bool traditional, contiguous;
  float scale;
  const int32_t* offsets;
  int64_t offset_stride;  // 0: one offset for every row
  const float* inv;       // (half) inverse frequencies, or null with freqs
  const float* freqs;     // (half) at freqs_stride
  int64_t freqs_stride;
  cuda::Strided<1> rows_layout;  // x's leading dims (..., T) when not contiguous
};

template <typename T>
__global__ void rope_kernel(const T* x, T* out, RopeArgs a) {
  const int64_t width = a.half + (a.D - a.dims);  // threads per row: pairs, then copied features
  const int64_t n = a.rows * width;
  for (int64_t k = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = k / width, j = k - r * width;
    int64_t xo;
    if (a.contiguous) {
      xo = r * a.D;
    } else {
      int64_t off[1];
      a.rows_layout.offsets(r, off);
      xo = off[0];
    }
    const T* xr = x + xo;
    T* orow = out + r * a.D;
    if (j >= a.half) {
      const int64_t d = a.dims + (j - a.half);
      orow[d] = xr[d];
      continue;
    }
    const int i = int(j);
    const int64_t t = r % a.T;
    const int64_t o = a.offset_stride ? r / a.per_batch : 0;
    const float pos = float(int64_t(a.offsets[o * a.offset_stride]) + t) * a.scale;
    const float inv = a.inv ? a.inv[i] : 1.0f / a.freqs[i * a.freqs_stride];
    const float th = pos * inv;
    float sn, cs;
    sincosf(th, &sn, &cs);
    const int64_t i1 = a.traditional ? 2 * i : i, i2 = a.traditional ? 2 * i + 1 : i + a.half;
    const float x1 = cuda::convert<float>(xr[i1]), x2 = cuda::convert<float>(xr[i2]);
    orow[i1] = cuda::convert<T>(x1 * cs - x2 * sn);
    orow[i2] = cuda::convert<T>(x1 * sn + x2 * cs);
  }
}

}  // namespace

void RoPE::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  array x = cuda::unit_last_stride(inputs[0], s);
  const array& offset = inputs[1];
  void* op = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const int nd = int(x.ndim());
  RopeArgs a{};
  a.T = x.shape(-2);
  a.D = x.shape(-1);
  a.rows = int64_t(x.size()) / a.D;
  a.per_batch = a.rows / (nd >= 3 ? x.shape(0) : 1);
  a.half = dims_ / 2;
  a.dims = dims_;
  a.traditional = traditional_;
  a.scale = scale_;
  a.contiguous = x.flags().row_contiguous;
  if (!a.contiguous) {
    Shape lead(x.shape().begin(), x.shape().end() - 1);
    Strides lead_st(x.strides().begin(), x.strides().end() - 1);
    a.rows_layout = cuda::make_strided<1>(lead, {lead_st}, "rope");
  }
  // Offsets stay on the device (no sync): one per batch item, or one.
  a.offsets = cuda::in<int32_t>(offset, s);
  a.offset_stride = offset.size() > 1 ? offset.strides(0) : 0;
  std::optional<array> inv_table;
  if (has_freqs_) {
    const array& f = inputs[2];
    a.freqs = cuda::in<float>(f, s);
    a.freqs_stride = f.ndim() ? f.strides(0) : 0;
  } else {
    // The CPU kernel's table, bit for bit (the angles grow with the position).
    std::vector<float> inv(size_t(std::max(a.half, 1)));
    for (int i = 0; i < a.half; ++i) inv[size_t(i)] = 1.0f / std::pow(base_, float(2 * i) / float(dims_));
    inv_table = array(inv, Shape{int32_t(inv.size())});
    a.inv = cuda::in<float>(*inv_table, s);
  }
  const int64_t n = a.rows * (a.half + (a.D - a.dims));
  if (n == 0) return;
  const int grid = std::max(1, std::min(cuda::blocks_for(size_t(n), 256), 65535 * 8));
  cudaStream_t cs = cuda::stream(s);
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || cuda::is_half_v<T>) {
      rope_kernel<T><<<grid, 256, 0, cs>>>(cuda::in<T>(x, s), static_cast<T*>(op), a);
      UMA_CUDA_LAUNCHED("rope");
    } else {
      throw std::invalid_argument(std::string("[rope] no CUDA kernel for dtype ") + dtype_name(out.dtype()));
    }
  });
}

}  // namespace uma::fast
