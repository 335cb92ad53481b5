// GGUF writer: version 3, metadata of every value type (arrays included),
// tensor infos and the data section aligned to general.alignment (32, the
// default, written as a key as llama.cpp's gguf-py writes it).
//
//   gguf::Writer w;
//   w.add_string("general.architecture", "llama");
//   w.add_uint32("llama.block_count", 2);
//   w.add_tensor("token_embd.weight", GgmlType::F16, {64, 512}, [&](uint8_t* out) { ... });
//   w.write("model.gguf");
//
// write() streams each tensor's bytes (from its fill callback) into a
// temporary file beside the destination and renames it into place only when
// complete; an existing destination is refused, before and at the rename.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "uma/core/io/gguf.h"

namespace uma::io::gguf {

class Writer {
 public:
  Writer();

  // Scalars. A key given twice throws std::invalid_argument naming it.
  void add_uint8(const std::string& key, uint8_t v);
  void add_int8(const std::string& key, int8_t v);
  void add_uint16(const std::string& key, uint16_t v);
  void add_int16(const std::string& key, int16_t v);
  void add_uint32(const std::string& key, uint32_t v);
  void add_int32(const std::string& key, int32_t v);
  void add_uint64(const std::string& key, uint64_t v);
  void add_int64(const std::string& key, int64_t v);
  void add_float32(const std::string& key, float v);
  void add_float64(const std::string& key, double v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);

  // Arrays: `count` little-endian elements of a numeric type at `data`
  // (bool as one byte each), or strings.
  void add_array(const std::string& key, ValueType element, const void* data, uint64_t count);
  void add_strings(const std::string& key, const std::vector<std::string>& values);
  template <class T>
  void add_array(const std::string& key, ValueType element, const std::vector<T>& v) {
    check_element(key, element, sizeof(T));
    add_array(key, element, v.data(), v.size());
  }

  // A tensor of `dims` (ggml order: the row length first) and `type`; `fill`
  // writes its n_bytes (whole blocks of the type) when write() reaches it.
  using Fill = std::function<void(uint8_t* out)>;
  void add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims, Fill fill);

  size_t tensor_count() const { return tensors_.size(); }
  uint64_t data_bytes() const { return data_bytes_; }  // the tensors' bytes, padding included

  // Called after each tensor with (tensors written, tensor bytes written).
  using Progress = std::function<void(size_t, uint64_t)>;
  void write(const std::string& path, const Progress& progress = {}) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> dims;
    uint64_t offset, n_bytes;
    Fill fill;
  };
  void begin_key(const std::string& key, ValueType type);
  void check_element(const std::string& key, ValueType element, size_t size) const;
  template <class T>
  void put(const T& v);
  void put_string(const std::string& s);

  std::vector<uint8_t> kv_;  // serialized key-value pairs
  uint64_t n_kv_ = 0;
  std::vector<std::string> keys_;
  std::vector<Tensor> tensors_;
  std::vector<std::string> tensor_names_;
  uint64_t data_bytes_ = 0;
};

}  // namespace uma::io::gguf
