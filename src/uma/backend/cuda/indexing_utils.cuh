// Helpers shared by the CUDA gather/scatter, slice-update and sort kernels:
// index fixing as the CPU backend does it (wrap, then clamp or drop), scratch
// device arrays, widened index arrays, and reuse of a donated device buffer.
#pragma once

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/utils.cuh"

// Nested in ix (indexing) so these inline helpers never meet another
// family's of the same name.
namespace uma::cuda::ix {

// Marks an index position whose window falls outside the array.
constexpr int64_t kDropped = INT64_MIN;

// cpu::fix_index: negative values count from the end; then values outside
// [0, n - w] are clamped (clamp) or reported as kDropped.
__device__ inline int64_t fix_index(int64_t v, int64_t n, int64_t w, bool clamp) {
  if (v < 0) v += n;
  int64_t hi = n - w;
  if (v >= 0 && v <= hi) return v;
  if (!clamp) return kDropped;
  return v < 0 ? 0 : (hi < 0 ? 0 : hi);
}

// Grid for a grid-stride loop over n items.
inline int grid_for(int64_t n, int threads) {
  return std::max(1, std::min(blocks_for(size_t(std::max<int64_t>(n, 1)), threads), 65535 * 8));
}

// Calls f(type_tag<U>{}) with U an unsigned integer of the given byte size.
template <typename F>
decltype(auto) dispatch_bytes(size_t size, F&& f) {
  switch (size) {
    case 1:
      return f(type_tag<uint8_t>{});
    case 2:
      return f(type_tag<uint16_t>{});
    case 4:
      return f(type_tag<uint32_t>{});
    default:
      return f(type_tag<uint64_t>{});
  }
}

// A fresh row-major device array of `shape` (its bytes are freed,
// stream-ordered, when the array goes away: scratch for one launch).
inline array scratch(const Shape& shape, Dtype t, const Stream& s) {
  array a(shape, t, nullptr, {});
  out_ptr(a, s);
  return a;
}
inline array scratch_bytes(size_t bytes, const Stream& s) {
  size_t words = (bytes + 7) / 8;
  if (words > size_t(INT32_MAX)) throw std::invalid_argument("[cuda] scratch buffer too large");
  return scratch({int32_t(std::max<size_t>(words, 1))}, uint64, s);
}

// Index arrays reach the kernels as int32 or int64 (others converted, as the
// CPU's as_wide_index: uint64 past 2^63 turns negative).
inline array as_wide_index(const array& idx, const Stream& s) {
  if (idx.dtype() == int32 || idx.dtype() == int64) return idx;
  if (!is_integral(idx.dtype()) && idx.dtype() != bool_) {
    throw std::invalid_argument(std::string("[indexing] indices must be integers, got ") +
                                dtype_name(idx.dtype()));
  }
  array wide(idx.shape(), int64, nullptr, {});
  copy_to_new(idx, wide, s);
  return wide;
}

template <typename F>
void dispatch_index(Dtype t, F&& f) {
  if (t == Dtype::int32) return f(type_tag<int32_t>{});
  if (t == Dtype::int64) return f(type_tag<int64_t>{});
  throw std::invalid_argument(std::string("[indexing] kernels take int32 or int64 indices, got ") +
                              dtype_name(t));
}

// out becomes a copy of src on s. A row-contiguous device buffer that only
// src holds, written last on this stream and not mirrored on the host, is
// reused instead (array::is_donatable excludes device data, so the test is
// repeated here): updating a row of a large KV cache then costs O(update).
inline void copy_or_donate(const array& src, array& out, const Stream& s) {
  if (src.dtype() == out.dtype() && src.size() == out.size() && src.size() > 0) {
    auto d = src.desc();  // one more reference while held here
    detail::Data* data = d->data.get();
    if (d.use_count() == 2 && data && d->data.use_count() == 1 && data->owned_by_allocator &&
        data->gpu && !data->host_valid.load() && data->gpu_stream == s.index &&
        d->flags.row_contiguous && d->data_size == src.size()) {
      out.copy_shared_buffer(src);
      return;
    }
  }
  copy_to_new(src, out, s);
}

}  // namespace uma::cuda::ix
