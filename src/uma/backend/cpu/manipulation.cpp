// CPU kernels of concatenate, pad, slice updates, dynamic slices and diagonals.
#include <algorithm>

#include "uma/backend/cpu/copy.h"
#include "uma/backend/cpu/indexing_utils.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

// Per axis, the start of a window of size w from a dynamic start entry:
// negative counts from the end, then clamped into [0, n - w].
int64_t clamp_start(int64_t v, int64_t n, int64_t w) {
  if (v < 0) v += n;
  return std::clamp<int64_t>(v, 0, std::max<int64_t>(n - w, 0));
}

}  // namespace

std::vector<int64_t> cpu::read_start_indices(const array& start) {
  std::vector<int64_t> v(start.size());
  detail::read_elements(start, v.data(), int64);
  return v;
}

void Concatenate::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const Strides& os = out.strides();
  std::vector<int64_t> offsets(inputs.size());
  int64_t pos = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    offsets[i] = pos * os[axis_];
    pos += inputs[i].shape(axis_);
  }
  auto copy_one = [&](size_t i) {
    const array& in = inputs[i];
    cpu::copy_strided(in, in.shape(), in.strides(), 0, out, os, offsets[i]);
  };
  // Many small inputs: one input per task; few large ones: each copy is
  // itself parallel over its rows.
  if (inputs.size() >= 4 && out.size() / inputs.size() < (1u << 15)) {
    size_t grain = std::max<size_t>(1, (1u << 15) / std::max<size_t>(1, out.size() / inputs.size()));
    cpu::parallel_for(inputs.size(), grain, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) copy_one(i);
    });
  } else {
    for (size_t i = 0; i < inputs.size(); ++i) copy_one(i);
  }
}

void Pad::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  cpu::fill(inputs[1], out);
  int64_t offset = 0;
  for (size_t i = 0; i < axes_.size(); ++i) offset += int64_t(low_[i]) * out.strides()[axes_[i]];
  cpu::copy_strided(a, a.shape(), a.strides(), 0, out, out.strides(), offset);
}

void SliceUpdate::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& upd = inputs[1];
  cpu::copy_or_donate(inputs[0], out);
  Strides st(out.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < out.ndim(); ++i) {
    st[i] = out.strides()[i] * strides_[i];
    offset += int64_t(start_[i]) * out.strides()[i];
  }
  cpu::copy_strided(upd, upd.shape(), upd.strides(), 0, out, st, offset);
}

void DynamicSlice::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  auto start = cpu::read_start_indices(inputs[1]);
  int64_t offset = 0;
  for (size_t k = 0; k < axes_.size(); ++k) {
    int ax = axes_[k];
    offset += clamp_start(start[k], a.shape(ax), slice_size_[ax]) * a.strides()[ax];
  }
  share_view(a, out, a.strides(), offset);
}

void DynamicSliceUpdate::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& upd = inputs[1];
  auto start = cpu::read_start_indices(inputs[2]);
  cpu::copy_or_donate(inputs[0], out);
  int64_t offset = 0;
  for (size_t k = 0; k < axes_.size(); ++k) {
    int ax = axes_[k];
    offset += clamp_start(start[k], out.shape(ax), upd.shape(ax)) * out.strides()[ax];
  }
  cpu::copy_strided(upd, upd.shape(), upd.strides(), 0, out, out.strides(), offset);
}

void Diagonal::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  Strides st;
  for (int i = 0; i < int(a.ndim()); ++i) {
    if (i != axis1_ && i != axis2_) st.push_back(a.strides()[i]);
  }
  int64_t s1 = a.strides()[axis1_], s2 = a.strides()[axis2_];
  st.push_back(s1 + s2);
  int64_t offset = offset_ >= 0 ? int64_t(offset_) * s2 : -int64_t(offset_) * s1;
  share_view(a, out, st, offset);
}

}  // namespace uma
