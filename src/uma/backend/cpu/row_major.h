// Row-major inputs for kernels that walk rows or lines (scan, softmax, sort).
#pragma once

#include "uma/backend/cpu/copy.h"

namespace uma::cpu {

// `in` itself when it is row-major, else a row-major copy.
inline array row_major(const array& in) {
  if (in.flags().row_contiguous) return in;
  array tmp(in.shape(), in.dtype(), nullptr, {});
  copy_to_new(in, tmp);
  return tmp;
}

}  // namespace uma::cpu
