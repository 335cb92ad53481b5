// Views on the GPU: the same layouts as the CPU backend's (shared data, new
// strides); a view that needs its input contiguous copies it on the device.
#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/device.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/utils.h"

namespace uma {

namespace {
void share_view(const array& in, array& out, const Strides& strides, int64_t offset) {
  Layout l = compute_layout(out.shape(), strides);
  out.copy_shared_buffer(in, strides, l.flags, l.data_size, offset);
}

array contiguous_copy(const array& in, const Stream& s) {
  array tmp(in.shape(), in.dtype(), nullptr, {});
  cuda::copy_to_new(in, tmp, s);
  return tmp;
}
}  // namespace

void Reshape::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  if (in.size() == 0) {
    out.set_data(allocator::malloc(0));
    return;
  }
  Strides st = in.flags().row_contiguous ? detail::row_strides(out.shape())
                                         : reshape_strides(in.shape(), in.strides(), out.shape());
  if (!st.empty() || out.ndim() == 0) {
    share_view(in, out, st, 0);
    return;
  }
  array tmp = contiguous_copy(in, stream());
  share_view(tmp, out, detail::row_strides(out.shape()), 0);
}

void Transpose::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  Strides st(axes_.size());
  for (size_t i = 0; i < axes_.size(); ++i) st[i] = in.strides()[axes_[i]];
  share_view(in, out, st, 0);
}

void Broadcast::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  size_t nd = out.ndim(), off = nd - in.ndim();
  Strides st(nd, 0);
  for (size_t i = 0; i < in.ndim(); ++i) st[off + i] = in.shape()[i] == 1 ? 0 : in.strides()[i];
  share_view(in, out, st, 0);
}

void AsStrided::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  if (in.flags().row_contiguous && in.data_size() == in.size()) {
    share_view(in, out, strides_, offset_);
    return;
  }
  share_view(contiguous_copy(in, stream()), out, strides_, offset_);
}

void Slice::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  if (out.size() == 0) {
    out.set_data(allocator::malloc(0));
    return;
  }
  Strides st(in.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < in.ndim(); ++i) {
    st[i] = in.strides()[i] * step_[i];
    offset += int64_t(start_[i]) * in.strides()[i];
  }
  share_view(in, out, st, offset);
}

void View::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  bool last_contig = in.ndim() == 0 || in.strides().back() == 1 || in.shape().back() == 1;
  if (in.itemsize() != out.itemsize() && !(in.flags().row_contiguous)) last_contig = false;
  if (!last_contig || in.itemsize() != out.itemsize()) {
    array src = in.flags().row_contiguous ? in : contiguous_copy(in, stream());
    out.copy_shared_buffer(src, detail::row_strides(out.shape()), src.flags(), out.size(), 0);
    return;
  }
  Layout l = compute_layout(out.shape(), in.strides());
  out.copy_shared_buffer(in, in.strides(), l.flags, l.data_size, 0);
}

}  // namespace uma
