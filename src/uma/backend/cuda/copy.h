// Copies with type conversion between any layouts on the GPU: the kernels
// behind astype, contiguous copies of views, concatenate/pad/slice_update.
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::cuda {

// `a` itself when row-major, else a row-major copy made on s (the twin of
// cpu::row_major).
array row_major(const array& a, const Stream& s);

// dst gets fresh row-major device data holding src's elements converted to
// dst.dtype(), on stream s.
void copy_to_new(const array& src, array& dst, const Stream& s);

// Writes src (broadcast to `shape` by src_strides) into dst's existing device
// data at element offset dst_offset with dst_strides, converting types.
void copy_strided(const array& src, const Shape& shape, const Strides& src_strides, int64_t src_offset, array& dst,
                  const Strides& dst_strides, int64_t dst_offset, const Stream& s);

}  // namespace uma::cuda
