// Copies with type conversion between any layouts: the kernel behind astype,
// contiguous copies of views, concatenate/pad/slice_update writes.
#pragma once

#include "uma/core/array.h"

namespace uma::cpu {

// dst gets a fresh row-major buffer holding src's elements converted to
// dst.dtype(). Same dtype and contiguous src: a (parallel) memcpy.
void copy_to_new(const array& src, array& dst);

// Writes src (broadcast to `shape`) into dst's buffer at element offset
// `dst_offset` with `dst_strides`, converting types. dst's buffer must exist.
void copy_strided(const array& src, const Shape& shape, const Strides& src_strides, int64_t src_offset,
                  array& dst, const Strides& dst_strides, int64_t dst_offset);

// Fills dst's (already allocated) row-major buffer with one value of src
// (a one-element array), converted.
void fill(const array& scalar, array& dst);

}  // namespace uma::cpu
