#include "uma/core/io/gguf_writer.h"

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "uma/core/io/file.h"

namespace uma::io::gguf {

namespace {

constexpr uint32_t kVersion = 3;
constexpr uint64_t kAlignment = 32;

uint64_t align(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("[gguf] " + what); }

}  // namespace

Writer::Writer() { add_uint32("general.alignment", uint32_t(kAlignment)); }

template <class T>
void Writer::put(const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  kv_.insert(kv_.end(), p, p + sizeof(T));
}

void Writer::put_string(const std::string& s) {
  put(uint64_t(s.size()));
  kv_.insert(kv_.end(), s.begin(), s.end());
}

void Writer::begin_key(const std::string& key, ValueType type) {
  for (const auto& k : keys_) {
    if (k == key) fail("metadata key '" + key + "' is written twice");
  }
  keys_.push_back(key);
  ++n_kv_;
  put_string(key);
  put(uint32_t(type));
}

void Writer::check_element(const std::string& key, ValueType element, size_t size) const {
  if (value_type_size(element) == 0) fail("key '" + key + "': an array of " + value_type_name(element) + " is not numeric");
  if (size != value_type_size(element)) {
    fail("key '" + key + "': elements of " + std::to_string(size) + " bytes are not " + value_type_name(element));
  }
}

void Writer::add_uint8(const std::string& k, uint8_t v) { begin_key(k, ValueType::UINT8), put(v); }
void Writer::add_int8(const std::string& k, int8_t v) { begin_key(k, ValueType::INT8), put(v); }
void Writer::add_uint16(const std::string& k, uint16_t v) { begin_key(k, ValueType::UINT16), put(v); }
void Writer::add_int16(const std::string& k, int16_t v) { begin_key(k, ValueType::INT16), put(v); }
void Writer::add_uint32(const std::string& k, uint32_t v) { begin_key(k, ValueType::UINT32), put(v); }
void Writer::add_int32(const std::string& k, int32_t v) { begin_key(k, ValueType::INT32), put(v); }
void Writer::add_uint64(const std::string& k, uint64_t v) { begin_key(k, ValueType::UINT64), put(v); }
void Writer::add_int64(const std::string& k, int64_t v) { begin_key(k, ValueType::INT64), put(v); }
void Writer::add_float32(const std::string& k, float v) { begin_key(k, ValueType::FLOAT32), put(v); }
void Writer::add_float64(const std::string& k, double v) { begin_key(k, ValueType::FLOAT64), put(v); }
void Writer::add_bool(const std::string& k, bool v) { begin_key(k, ValueType::BOOL), put(uint8_t(v ? 1 : 0)); }
void Writer::add_string(const std::string& k, const std::string& v) { begin_key(k, ValueType::STRING), put_string(v); }

void Writer::add_array(const std::string& key, ValueType element, const void* data, uint64_t count) {
  size_t es = value_type_size(element);
  if (es == 0) fail("key '" + key + "': an array of " + value_type_name(element) + " is not numeric");
  begin_key(key, ValueType::ARRAY);
  put(uint32_t(element));
  put(count);
  const auto* p = static_cast<const uint8_t*>(data);
  if (element == ValueType::BOOL) {
    for (uint64_t i = 0; i < count; ++i) {
      if (p[i] > 1) fail("key '" + key + "': bool element " + std::to_string(i) + " is neither 0 nor 1");
    }
  }
  kv_.insert(kv_.end(), p, p + count * es);
}

void Writer::add_strings(const std::string& key, const std::vector<std::string>& values) {
  begin_key(key, ValueType::ARRAY);
  put(uint32_t(ValueType::STRING));
  put(uint64_t(values.size()));
  for (const auto& s : values) put_string(s);
}

void Writer::add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims, Fill fill) {
  const TypeTraits* tr = type_traits(uint32_t(type));
  if (!tr) fail("tensor '" + name + "' has unknown type " + std::to_string(uint32_t(type)));
  if (dims.empty() || dims.size() > 4) fail("tensor '" + name + "' must have 1 to 4 dimensions");
  for (const auto& n : tensor_names_) {
    if (n == name) fail("tensor '" + name + "' is written twice");
  }
  if (dims[0] % tr->block_size != 0) {
    fail("tensor '" + name + "': a row of " + std::to_string(dims[0]) + " values is not a whole number of " +
         tr->name + " blocks");
  }
  uint64_t n = 1;
  for (auto d : dims) {
    if (d == 0 || io::mul_overflows(n, d, &n)) fail("tensor '" + name + "' has an empty or oversized shape");
  }
  uint64_t bytes = n / tr->block_size * tr->type_size;
  tensor_names_.push_back(name);
  tensors_.push_back({name, type, dims, data_bytes_, bytes, std::move(fill)});
  data_bytes_ = align(data_bytes_ + bytes);
}

void Writer::write(const std::string& path, const Progress& progress) const {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) fail(path + " already exists");
  std::vector<uint8_t> head;
  auto put_raw = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    head.insert(head.end(), b, b + n);
  };
  auto put_u32 = [&](uint32_t v) { put_raw(&v, 4); };
  auto put_u64 = [&](uint64_t v) { put_raw(&v, 8); };
  put_raw("GGUF", 4);
  put_u32(kVersion);
  put_u64(tensors_.size());
  put_u64(n_kv_);
  put_raw(kv_.data(), kv_.size());
  for (const auto& t : tensors_) {
    put_u64(t.name.size());
    put_raw(t.name.data(), t.name.size());
    put_u32(uint32_t(t.dims.size()));
    for (auto d : t.dims) put_u64(d);
    put_u32(uint32_t(t.type));
    put_u64(t.offset);
  }
  head.resize(align(head.size()), 0);

  AtomicWriter w(path, "gguf");
  w.write(head.data(), head.size());
  std::vector<uint8_t> buf;
  uint64_t done = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    buf.assign(align(t.n_bytes), 0);
    t.fill(buf.data());
    w.write(buf.data(), buf.size());
    done += t.n_bytes;
    if (progress) progress(i + 1, done);
  }
  w.commit(/*replace=*/false);
}

}  // namespace uma::io::gguf
