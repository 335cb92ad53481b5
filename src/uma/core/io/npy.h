// NumPy's .npy and .npz formats
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
// Reading takes format versions 1.0, 2.0 and 3.0, little- and big-endian data
// (converted), C and Fortran order; bfloat16 travels as '<V2' as in MLX.
// Writing produces what numpy.save writes for the same array.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "uma/core/array.h"

namespace uma {

// Reads a .npy file; the array points into a read-only mapping of the file
// where the data is aligned and little-endian. Malformed files throw
// std::invalid_argument naming the file.
array load_npy(const std::string& path);
// Writes `a` (any layout; stored in C order) as .npy, version 1.0 (2.0 when
// the header needs it), atomically.
void save_npy(const std::string& path, const array& a);

// MLX's names: `load` reads .npy; `save` appends ".npy" when `path` lacks it.
array load(const std::string& path);
void save(std::string path, const array& a);

// Reads every ".npy" member of a .npz archive (stored or deflated), keyed by
// the member name without ".npy"; other members are skipped.
std::map<std::string, array> load_npz(const std::string& path);
// numpy.savez (stored members) / numpy.savez_compressed (deflated members).
void save_npz(const std::string& path, const std::map<std::string, array>& arrays, bool compressed = false);
inline void savez(const std::string& path, const std::map<std::string, array>& arrays) {
  save_npz(path, arrays, false);
}
inline void savez_compressed(const std::string& path, const std::map<std::string, array>& arrays) {
  save_npz(path, arrays, true);
}

namespace io {
// Parses .npy bytes; `what` names the source in errors. With `keep_alive`
// (the owner of `data`), the array may point into `data` instead of copying.
array npy_from_bytes(const uint8_t* data, size_t size, const std::string& what,
                     std::shared_ptr<const void> keep_alive = nullptr);
// The .npy header (magic through the final newline) numpy writes for an
// array of this shape and dtype in C order.
std::string npy_header(const Shape& shape, Dtype dtype);
}  // namespace io

}  // namespace uma
