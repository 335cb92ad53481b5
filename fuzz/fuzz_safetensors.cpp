// Safetensors loading from untrusted bytes: the header parser, the offset
// checks and both ways of reading the data (mapped views and the in-memory
// pread path), which must agree byte for byte.
#include <cstring>
#include <stdexcept>

#include "fuzz_util.h"
#include "uma/core/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uma::fuzz::MemFile file;
  const std::string& path = file.write(data, size);
  uma::SafetensorsLoad mapped;
  try {
    mapped = uma::load_safetensors(path);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  // A valid file: tensors tile the data section, so their bytes sum to at
  // most the input size.
  size_t total = 0;
  for (auto& [name, a] : mapped.first) total += a.nbytes();
  uma::fuzz::require(total <= size);

  auto in_memory = uma::load_safetensors(path, /*in_memory=*/true);
  uma::fuzz::require(in_memory.first.size() == mapped.first.size() &&
                     in_memory.second == mapped.second);
  for (auto& [name, a] : mapped.first) {
    auto it = in_memory.first.find(name);
    uma::fuzz::require(it != in_memory.first.end());
    const uma::array& b = it->second;
    uma::fuzz::require(a.shape() == b.shape() && a.dtype() == b.dtype());
    uma::fuzz::require(a.nbytes() == 0 || std::memcmp(a.raw_ptr(), b.raw_ptr(), a.nbytes()) == 0);
  }
  return 0;
}
