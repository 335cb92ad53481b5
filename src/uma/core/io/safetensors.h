// Safetensors (https://huggingface.co/docs/safetensors): the checkpoint format
// of Hugging Face and MLX. Loading memory-maps the file; arrays point into the
// mapping without a copy (the mapping lives as long as any of them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "uma/core/array.h"

namespace uma {

// Tensors by name and the `__metadata__` string map. std::map keeps
// iteration order deterministic (sorted by name).
using SafetensorsLoad = std::pair<std::map<std::string, array>, std::map<std::string, std::string>>;

// Reads a .safetensors file. The file is untrusted: a malformed header, bad
// offsets or sizes, an unknown or unsupported dtype (F8_*, F4, F6_*) throw
// std::invalid_argument naming the file and the tensor. The arrays are
// read-only views of the mapping where the data is aligned for the dtype,
// copies otherwise.
//
// With `in_memory`, the tensors are read (pread, several threads) into
// buffers of uma's allocator instead: anonymous memory on huge pages, which
// streams faster than 4 KiB page-cache pages and leaves no file mapping
// behind (the resident set is the weights, once).
SafetensorsLoad load_safetensors(const std::string& path, bool in_memory = false);

// Writes tensors and metadata as the reference library does: tensors ordered
// by descending dtype alignment, then by name; a compact JSON header with
// `__metadata__` first, padded with spaces to a multiple of 8 bytes; each
// array in row-major order. The file appears atomically (temporary file,
// fsync, rename). Throws std::invalid_argument on an empty name or one named
// `__metadata__`. Lazy arrays are evaluated one at a time as they are
// written; `on_written(bytes)` (optional) is called after each tensor's bytes.
void save_safetensors(const std::string& path, const std::map<std::string, array>& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      const std::function<void(uint64_t bytes)>& on_written = {});
void save_safetensors(const std::string& path, const std::unordered_map<std::string, array>& tensors,
                      const std::unordered_map<std::string, std::string>& metadata = {});

// The safetensors dtype string ("F32", "BF16", ...) of a dtype, and back
// (throws on unknown or unsupported strings).
const char* safetensors_dtype_name(Dtype t);
Dtype dtype_from_safetensors(const std::string& s);

}  // namespace uma
