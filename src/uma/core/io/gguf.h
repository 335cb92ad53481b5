// GGUF reader: memory-maps a .gguf file and parses its header, metadata
// (all value types, arrays included) and tensor-info table. Every count,
// length and offset is checked against the file size; a truncated or
// malformed file throws std::invalid_argument("[gguf] <path>: ...").
//
//   auto f = uma::io::gguf::File::open("model.gguf");
//   std::string arch(f.get("general.architecture")->as_string());
//   for (const auto& t : f.tensors()) use(t.name, t.type, t.dims, f.tensor_data(t));
//
// Strings are views into the mapping and live as long as the File.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace uma::io::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType type);
// Bytes of one value of a numeric type (bool: 1); 0 for STRING and ARRAY.
size_t value_type_size(ValueType type);

// ggml tensor types as stored in GGUF (numbering of ggml.h).
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct TypeTraits {
  const char* name;     // "F16", "Q4_K", ...
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
};
// Traits of a ggml type id, nullptr for an unknown one.
const TypeTraits* type_traits(uint32_t type);

class Value {
 public:
  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::ARRAY; }
  ValueType element_type() const { return elem_type_; }
  uint64_t size() const { return count_; }  // array length

  // Scalars; throw std::invalid_argument naming the key on a type mismatch.
  std::string_view as_string() const;
  uint64_t as_uint() const;   // any non-negative integer type
  int64_t as_int() const;     // any integer type that fits
  double as_float() const;    // float or integer types
  bool as_bool() const;

  // Arrays, converted element-wise with the scalar rules above.
  std::vector<std::string_view> as_strings() const;
  std::vector<int64_t> as_ints() const;
  std::vector<float> as_floats() const;
  // Raw bytes of a numeric array (little-endian elements).
  std::span<const uint8_t> raw() const { return {data_, bytes_}; }

  const std::string& key() const { return key_; }

 private:
  friend class File;
  void check(ValueType want) const;
  uint64_t scalar_uint(ValueType t, const uint8_t* p) const;
  int64_t scalar_int(ValueType t, const uint8_t* p) const;
  double scalar_float(ValueType t, const uint8_t* p) const;

  std::string key_;
  ValueType type_ = ValueType::UINT8;
  ValueType elem_type_ = ValueType::UINT8;
  uint64_t count_ = 0;
  const uint8_t* data_ = nullptr;  // scalar or array payload in the mapping
  size_t bytes_ = 0;
  std::vector<std::string_view> strings_;  // string and string-array payloads
};

struct TensorInfo {
  std::string_view name;
  uint32_t type;               // GgmlType value
  std::vector<uint64_t> dims;  // ggml order: fastest-varying first
  uint64_t offset;             // relative to the data section
  uint64_t n_elements;
  uint64_t n_bytes;
};

class File {
 public:
  static File open(const std::filesystem::path& path);
  ~File();
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::filesystem::path& path() const { return path_; }

  // Metadata in file order.
  const std::vector<Value>& metadata() const { return kv_; }
  const Value* get(std::string_view key) const;  // nullptr when absent
  const Value& at(std::string_view key) const;   // throws when absent

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;
  std::span<const uint8_t> tensor_data(const TensorInfo& t) const;

  std::span<const uint8_t> bytes() const { return {base_, size_}; }
  // Lets the kernel drop the mapped pages wholly inside t's data (once it is
  // copied, so that they stop counting in the resident set); reading them
  // again reads the file again.
  void drop_pages(const TensorInfo& t) const;

 private:
  File() = default;
  void parse();
  void release();

  std::filesystem::path path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<Value> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace uma::io::gguf
