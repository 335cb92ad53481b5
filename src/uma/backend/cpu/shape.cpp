// CPU kernels of views, copies and creation primitives.
#include <cmath>
#include <cstring>

#include "uma/backend/cpu/copy.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/utils.h"

namespace uma {

void Reshape::eval_cpu(const std::vector<array>& inputs, array& out) {
  if (!reshape_view(inputs[0], out)) cpu::copy_to_new(inputs[0], out);
}

void Transpose::eval_cpu(const std::vector<array>& inputs, array& out) {
  transpose_view(inputs[0], out, axes_);
}

void Broadcast::eval_cpu(const std::vector<array>& inputs, array& out) {
  broadcast_view(inputs[0], out);
}

void AsStrided::eval_cpu(const std::vector<array>& inputs, array& out) {
  // Offsets and strides count elements of a row-major source. The op makes
  // it one; a graph read from a file (import_function) might not.
  const array& in = inputs[0];
  if (in.flags().row_contiguous && in.data_size() == in.size()) {
    share_view(in, out, strides_, offset_);
    return;
  }
  array tmp(in.shape(), in.dtype(), nullptr, {});
  cpu::copy_to_new(in, tmp);
  share_view(tmp, out, strides_, offset_);
}

void Slice::eval_cpu(const std::vector<array>& inputs, array& out) {
  slice_view(inputs[0], out, start_, step_);
}

void AsType::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  // Same item size and contiguous: convert in place into the donated buffer.
  if (in.is_donatable() && in.itemsize() == out.itemsize() && in.flags().row_contiguous) {
    array tmp = in;
    out.copy_shared_buffer(in);
    cpu::copy_strided(tmp, {int32_t(in.size())}, {1}, 0, out, {1}, 0);
    return;
  }
  cpu::copy_to_new(in, out);
}

void View::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  array src = in;
  bool last_contig = in.ndim() == 0 || in.strides().back() == 1 || in.shape().back() == 1;
  if (in.itemsize() != out.itemsize() && !(in.flags().row_contiguous)) last_contig = false;
  if (!last_contig || in.itemsize() != out.itemsize()) {
    if (!in.flags().row_contiguous) {
      array tmp(in.shape(), in.dtype(), nullptr, {});
      cpu::copy_to_new(in, tmp);
      src = tmp;
    }
    out.copy_shared_buffer(src, detail::row_strides(out.shape()), src.flags(), out.size(), 0);
    return;
  }
  // Same item size: keep the view's strides.
  Layout l = compute_layout(out.shape(), in.strides());
  out.copy_shared_buffer(in, in.strides(), l.flags, l.data_size, 0);
}

void Copy::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& in = inputs[0];
  if (in.flags().row_contiguous && in.data_size() == in.size()) {
    // Arrays are immutable values: a row-major input can be shared.
    out.copy_shared_buffer(in);
    return;
  }
  cpu::copy_to_new(in, out);
}

void Full::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  cpu::fill(inputs[0], out);
}

void Arange::eval_cpu(const std::vector<array>&, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  size_t n = out.size();
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* d = static_cast<T*>(out.raw_ptr());
    if constexpr (std::is_integral_v<T>) {
      // Integers step exactly (start and step rounded like MLX's int arange).
      int64_t st = int64_t(start_), sp = int64_t(step_);
      for (size_t i = 0; i < n; ++i) d[i] = static_cast<T>(st + int64_t(i) * sp);
    } else {
      for (size_t i = 0; i < n; ++i) d[i] = convert<T>(start_ + double(i) * step_);
    }
  });
}

}  // namespace uma
