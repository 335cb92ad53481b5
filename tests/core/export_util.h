// Helpers of the export tests: temporary files, bit-for-bit comparison, and
// importing bytes that may be hostile.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "uma/core/io/function_file.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

namespace uma::test {

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("uma_test_export_" + name + ".umafn")).string();
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path(temp_path(name)) {}
  ~TempFile() { std::filesystem::remove(path); }
};

// Evaluated uniform float32 values in [lo, hi).
inline array values(const Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  array a = random::uniform(lo, hi, shape, float32, random::key(seed));
  eval(a);
  return a;
}

// Same shape, dtype and element bytes.
inline bool bitwise_equal(const array& a, const array& b) {
  auto bytes = [](const array& x) { return view(flatten(x), uint8); };
  return a.shape() == b.shape() && a.dtype() == b.dtype() && array_equal(bytes(a), bytes(b)).item<bool>();
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// Re-stamps the header's checksum after the graph section was changed, so
// that the structural checks behind it see the change.
inline void restamp(std::string& bytes) {
  if (bytes.size() < io::kFunctionHeaderBytes) return;
  uint64_t size;
  std::memcpy(&size, bytes.data() + 24, 8);
  if (size > bytes.size() - io::kFunctionHeaderBytes) return;
  uint64_t h = io::function_checksum(reinterpret_cast<const uint8_t*>(bytes.data()) + 64, size_t(size));
  std::memcpy(bytes.data() + 48, &h, 8);
}

// Writes `bytes` to `path`, imports it and, if that works, runs it on
// `inputs`: either may throw invalid_argument (not_implemented from a
// transform-less primitive); nothing may crash.
inline void import_and_run(const std::string& path, const std::string& bytes, const std::vector<array>& inputs) {
  write_file(path, bytes);
  try {
    auto f = import_function(path);
    try {
      eval(f(inputs));
    } catch (const std::invalid_argument&) {
    } catch (const not_implemented&) {
    }
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[import_function]", 0), 0u) << e.what();
  }
}

}  // namespace uma::test
