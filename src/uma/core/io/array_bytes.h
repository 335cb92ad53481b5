// Bytes to arrays and back, for the array loaders and savers (safetensors,
// npy/npz, GGUF tensors): arrays over a memory map, parallel reads into fresh
// buffers, and the row-major bytes of any array.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "uma/core/array.h"

namespace uma::io {

// An array of `shape`/`dtype` over `bytes` (row-major, exactly nbytes long):
// points into `keep_alive`'s memory when the address suits the dtype, else
// copies into a fresh buffer.
array wrap_or_copy(const uint8_t* bytes, Shape shape, Dtype dtype, std::shared_ptr<const void> keep_alive);
// A fresh array holding a copy of `bytes`.
array copy_bytes(const uint8_t* bytes, Shape shape, Dtype dtype);

// Reads each range (nbytes of shape/dtype at `offset`) of the file at `path`
// into a fresh array with pread, on up to four threads. Ranges must lie
// inside the file (the caller validated them); a short read throws
// std::invalid_argument naming `op` and the file.
struct ReadRange {
  uint64_t offset;
  Shape shape;
  Dtype dtype;
};
std::vector<array> read_ranges(const std::string& path, const std::vector<ReadRange>& ranges, const char* op);

// `a` evaluated and row-major contiguous (a copy only when it is a view that
// is not). Its raw_ptr() then holds nbytes() bytes in C order.
array row_major(const array& a);

}  // namespace uma::io
