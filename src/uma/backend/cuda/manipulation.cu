// CUDA kernels of concatenate, pad, slice updates, dynamic slices and
// diagonals (the CPU's semantics: backend/cpu/manipulation.cpp). Slice
// updates write into the donated source buffer when nobody else holds it.
// Dynamic starts are read on the device, so a decode loop never waits for
// the host: DynamicSlice is a copy here (the CPU returns a view; the values
// are the same).
#include "uma/backend/cuda/indexing_utils.cuh"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/utils.h"

namespace uma {

namespace cuda::ix {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxStartAxes = 16;

// Where a dynamic window starts: per axis, the start entry wrapped once and
// clamped into [0, n - w], times the axis' stride.
struct DynamicStart {
  int k = 0;
  int64_t dim[kMaxStartAxes], w[kMaxStartAxes], stride[kMaxStartAxes];

  __device__ int64_t offset(const int64_t* start) const {
    int64_t off = 0;
    for (int i = 0; i < k; ++i) {
      int64_t v = start[i];
      if (v < 0) v += dim[i];
      int64_t hi = dim[i] - w[i] > 0 ? dim[i] - w[i] : 0;
      v = v < 0 ? 0 : (v > hi ? hi : v);
      off += v * stride[i];
    }
    return off;
  }
};

DynamicStart dynamic_start(const std::vector<int>& axes, const Shape& shape, const Shape& window,
                           const Strides& strides, const char* who) {
  if (axes.size() > size_t(kMaxStartAxes)) {
    throw std::invalid_argument(std::string("[") + who +
                                "] more than 16 start axes are not supported on the GPU");
  }
  DynamicStart d;
  d.k = int(axes.size());
  for (int i = 0; i < d.k; ++i) {
    int ax = axes[i];
    d.dim[i] = shape[ax];
    d.w[i] = window[ax];
    d.stride[i] = strides[ax];
  }
  return d;
}

// dst[doff(i) (+ dyn)] = src[soff(i) (+ dyn)]: the dynamic offset applies to
// the source (a slice) or to the destination (an update).
template <typename U, bool kDynDst>
__global__ void dynamic_copy(const U* src, U* dst, int64_t n, Strided<2> lay, const int64_t* start,
                             DynamicStart ds) {
  int64_t dyn = ds.offset(start);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    lay.offsets(i, off);
    if constexpr (kDynDst) {
      dst[dyn + off[1]] = src[off[0]];
    } else {
      dst[off[1]] = src[dyn + off[0]];
    }
  }
}

template <bool kDynDst>
void launch_dynamic_copy(const void* src, void* dst, size_t itemsize, const Shape& shape,
                         const Strides& src_st, const Strides& dst_st, const array& start64,
                         const DynamicStart& ds, const Stream& s) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n == 0) return;
  Shape sh = shape;
  Strides ss = src_st, dd = dst_st;
  if (sh.empty()) sh = {1}, ss = {0}, dd = {0};
  auto lay = make_strided<2>(sh, {ss, dd}, "dynamic_slice");
  const int64_t* sp = in<int64_t>(start64, s);
  cudaStream_t cs = stream(s);
  dispatch_bytes(itemsize, [&](auto tag) {
    using U = typename decltype(tag)::type;
    dynamic_copy<U, kDynDst><<<grid_for(n, kThreads), kThreads, 0, cs>>>(
        static_cast<const U*>(src), static_cast<U*>(dst), n, lay, sp, ds);
  });
  UMA_CUDA_LAUNCHED("dynamic_slice");
}

// The start entries as int64 on the device (any dtype, any layout).
array start_on_device(const array& start, const Stream& s) {
  array s64(start.shape(), int64, nullptr, {});
  copy_to_new(start, s64, s);
  return s64;
}

}  // namespace
}  // namespace cuda::ix

void Concatenate::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const Strides& os = out.strides();
  int64_t pos = 0;
  for (const array& in : inputs) {
    // One strided copy per input (converting to the output dtype).
    if (in.size() > 0)
      cuda::copy_strided(in, in.shape(), in.strides(), 0, out, os, pos * os[axis_], s);
    pos += in.shape(axis_);
  }
}

void Pad::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  const array& a = inputs[0];
  cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const Strides& os = out.strides();
  // The pad value everywhere, then the interior.
  cuda::copy_strided(inputs[1], out.shape(), Strides(out.ndim(), 0), 0, out, os, 0, s);
  int64_t offset = 0;
  for (size_t i = 0; i < axes_.size(); ++i) offset += int64_t(low_[i]) * os[axes_[i]];
  if (a.size() > 0) cuda::copy_strided(a, a.shape(), a.strides(), 0, out, os, offset, s);
}

void SliceUpdate::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  const array& upd = inputs[1];
  cuda::ix::copy_or_donate(inputs[0], out, s);
  if (out.size() == 0 || upd.size() == 0) return;
  Strides st(out.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < out.ndim(); ++i) {
    st[i] = out.strides()[i] * strides_[i];
    offset += int64_t(start_[i]) * out.strides()[i];
  }
  cuda::copy_strided(upd, upd.shape(), upd.strides(), 0, out, st, offset, s);
}

void DynamicSlice::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  const array& a = inputs[0];
  void* dst = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  array start = cuda::ix::start_on_device(inputs[1], s);
  auto ds = cuda::ix::dynamic_start(axes_, a.shape(), slice_size_, a.strides(), "dynamic_slice");
  cuda::ix::launch_dynamic_copy<false>(cuda::in_ptr(a, s), dst, a.itemsize(), out.shape(),
                                       a.strides(), out.strides(), start, ds, s);
}

void DynamicSliceUpdate::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream& s = stream();
  const array& upd = inputs[1];
  cuda::ix::copy_or_donate(inputs[0], out, s);
  if (out.size() == 0 || upd.size() == 0) return;
  array start = cuda::ix::start_on_device(inputs[2], s);
  auto ds = cuda::ix::dynamic_start(axes_, out.shape(), upd.shape(), out.strides(),
                                    "dynamic_slice_update");
  void* dst = const_cast<void*>(cuda::in_ptr(out, s));
  cuda::ix::launch_dynamic_copy<true>(cuda::in_ptr(upd, s), dst, out.itemsize(), upd.shape(),
                                      upd.strides(), out.strides(), start, ds, s);
}

void Diagonal::eval_gpu(const std::vector<array>& inputs, array& out) {
  // A view, as on the CPU: no device work.
  const array& a = inputs[0];
  if (out.size() == 0) {
    out.set_data(allocator::malloc(0));
    return;
  }
  Strides st;
  for (int i = 0; i < int(a.ndim()); ++i) {
    if (i != axis1_ && i != axis2_) st.push_back(a.strides()[i]);
  }
  int64_t s1 = a.strides()[axis1_], s2 = a.strides()[axis2_];
  st.push_back(s1 + s2);
  int64_t offset = offset_ >= 0 ? int64_t(offset_) * s2 : -int64_t(offset_) * s1;
  Layout l = compute_layout(out.shape(), st);
  out.copy_shared_buffer(a, st, l.flags, l.data_size, offset);
}

}  // namespace uma
