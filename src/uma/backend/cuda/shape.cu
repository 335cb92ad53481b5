// Views on the GPU: the same layouts as the CPU backend's (shared data, new
// strides); a view that needs its input contiguous copies it on the device.
#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/device.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/utils.h"

namespace uma {

void Reshape::eval_gpu(const std::vector<array>& inputs, array& out) {
  if (!reshape_view(inputs[0], out))
    share_view(cuda::row_major(inputs[0], stream()), out, detail::row_strides(out.shape()));
}

void Transpose::eval_gpu(const std::vector<array>& inputs, array& out) {
  transpose_view(inputs[0], out, axes_);
}

void Broadcast::eval_gpu(const std::vector<array>& inputs, array& out) {
  broadcast_view(inputs[0], out);
}

void AsStrided::eval_gpu(const std::vector<array>& inputs, array& out) {
  share_view(cuda::row_major(inputs[0], stream()), out, strides_, offset_);
}

void Slice::eval_gpu(const std::vector<array>& inputs, array& out) {
  slice_view(inputs[0], out, start_, step_);
}

void View::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  bool last_contig = in.ndim() == 0 || in.strides().back() == 1 || in.shape().back() == 1;
  if (in.itemsize() != out.itemsize() && !(in.flags().row_contiguous)) last_contig = false;
  if (!last_contig || in.itemsize() != out.itemsize()) {
    array src = cuda::row_major(in, stream());
    out.copy_shared_buffer(src, detail::row_strides(out.shape()), src.flags(), out.size(), 0);
    return;
  }
  Layout l = compute_layout(out.shape(), in.strides());
  out.copy_shared_buffer(in, in.strides(), l.flags, l.data_size, 0);
}

}  // namespace uma
