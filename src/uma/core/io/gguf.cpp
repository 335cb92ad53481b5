#include "uma/core/io/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <stdexcept>

#include "uma/core/io/file.h"

namespace uma::io::gguf {

namespace {

constexpr size_t kMaxDims = 4;  // GGML_MAX_DIMS

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Bounds-checked cursor over the mapping.
class Cursor {
 public:
  Cursor(const uint8_t* base, size_t size, const std::string& path)
      : base_(base), size_(size), path_(path) {}
  const uint8_t* take(uint64_t n, const char* what) {
    if (n > size_ - pos_) {
      fail(std::string("file truncated while reading ") + what + " (need " + std::to_string(n) +
           " bytes at offset " + std::to_string(pos_) + ", file has " + std::to_string(size_) + ")");
    }
    const uint8_t* p = base_ + pos_;
    pos_ += n;
    return p;
  }
  template <class T>
  T read(const char* what) {
    return load<T>(take(sizeof(T), what));
  }
  std::string_view string(const char* what) {
    uint64_t n = read<uint64_t>(what);
    return {reinterpret_cast<const char*>(take(n, what)), static_cast<size_t>(n)};
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::invalid_argument("[gguf] " + path_ + ": " + msg);
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

const TypeTraits kTraits[] = {
    {"F32", 1, 4},       {"F16", 1, 2},      {"Q4_0", 32, 18},    {"Q4_1", 32, 20},
    {nullptr, 0, 0},     {nullptr, 0, 0},    {"Q5_0", 32, 22},    {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},    {"Q8_1", 32, 36},   {"Q2_K", 256, 84},   {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},  {"Q5_K", 256, 176}, {"Q6_K", 256, 210},  {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},  {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82}, {"IQ4_XS", 256, 136},
    {"I8", 1, 1},        {"I16", 1, 2},      {"I32", 1, 4},       {"I64", 1, 8},
    {"F64", 1, 8},       {"IQ1_M", 256, 56}, {"BF16", 1, 2},      {nullptr, 0, 0},
    {nullptr, 0, 0},     {nullptr, 0, 0},    {"TQ1_0", 256, 54},  {"TQ2_0", 256, 66},
    {nullptr, 0, 0},     {nullptr, 0, 0},    {nullptr, 0, 0},     {"MXFP4", 32, 17},
};

}  // namespace

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return 0;
  }
}

const char* value_type_name(ValueType t) {
  static const char* names[] = {"uint8", "int8",   "uint16", "int16",  "uint32",
                                "int32", "float32", "bool",  "string", "array",
                                "uint64", "int64",  "float64"};
  auto i = static_cast<uint32_t>(t);
  return i < 13 ? names[i] : "unknown";
}

const TypeTraits* type_traits(uint32_t type) {
  if (type >= sizeof(kTraits) / sizeof(kTraits[0]) || kTraits[type].name == nullptr) return nullptr;
  return &kTraits[type];
}

// --- Value -------------------------------------------------------------------

void Value::check(ValueType want) const {
  if (type_ != want) {
    throw std::invalid_argument(std::string("[gguf] key '") + key_ + "' is " +
                                value_type_name(type_) + ", expected " + value_type_name(want));
  }
}

uint64_t Value::scalar_uint(ValueType t, const uint8_t* p) const {
  int64_t v;
  switch (t) {
    case ValueType::UINT8: return load<uint8_t>(p);
    case ValueType::UINT16: return load<uint16_t>(p);
    case ValueType::UINT32: return load<uint32_t>(p);
    case ValueType::UINT64: return load<uint64_t>(p);
    case ValueType::INT8: v = load<int8_t>(p); break;
    case ValueType::INT16: v = load<int16_t>(p); break;
    case ValueType::INT32: v = load<int32_t>(p); break;
    case ValueType::INT64: v = load<int64_t>(p); break;
    default:
      throw std::invalid_argument(std::string("[gguf] key '") + key_ + "' holds " +
                                  value_type_name(t) + ", expected an integer");
  }
  if (v < 0) throw std::invalid_argument("[gguf] key '" + key_ + "' is negative");
  return static_cast<uint64_t>(v);
}

int64_t Value::scalar_int(ValueType t, const uint8_t* p) const {
  switch (t) {
    case ValueType::INT8: return load<int8_t>(p);
    case ValueType::INT16: return load<int16_t>(p);
    case ValueType::INT32: return load<int32_t>(p);
    case ValueType::INT64: return load<int64_t>(p);
    default: {
      uint64_t u = scalar_uint(t, p);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw std::invalid_argument("[gguf] key '" + key_ + "' does not fit int64");
      }
      return static_cast<int64_t>(u);
    }
  }
}

double Value::scalar_float(ValueType t, const uint8_t* p) const {
  if (t == ValueType::FLOAT32) return load<float>(p);
  if (t == ValueType::FLOAT64) return load<double>(p);
  return static_cast<double>(scalar_int(t, p));
}

std::string_view Value::as_string() const {
  check(ValueType::STRING);
  return strings_[0];
}
uint64_t Value::as_uint() const {
  if (is_array()) check(ValueType::UINT64);
  return scalar_uint(type_, data_);
}
int64_t Value::as_int() const {
  if (is_array()) check(ValueType::INT64);
  return scalar_int(type_, data_);
}
double Value::as_float() const {
  if (is_array()) check(ValueType::FLOAT64);
  return scalar_float(type_, data_);
}
bool Value::as_bool() const {
  check(ValueType::BOOL);
  return data_[0] != 0;
}

std::vector<std::string_view> Value::as_strings() const {
  check(ValueType::ARRAY);
  if (elem_type_ != ValueType::STRING) {
    throw std::invalid_argument("[gguf] key '" + key_ + "' is an array of " +
                                value_type_name(elem_type_) + ", expected strings");
  }
  return strings_;
}

std::vector<int64_t> Value::as_ints() const {
  check(ValueType::ARRAY);
  size_t es = value_type_size(elem_type_);
  std::vector<int64_t> out(count_);
  for (uint64_t i = 0; i < count_; ++i) out[i] = scalar_int(elem_type_, data_ + i * es);
  return out;
}

std::vector<float> Value::as_floats() const {
  check(ValueType::ARRAY);
  size_t es = value_type_size(elem_type_);
  std::vector<float> out(count_);
  for (uint64_t i = 0; i < count_; ++i) {
    out[i] = static_cast<float>(scalar_float(elem_type_, data_ + i * es));
  }
  return out;
}

// --- File --------------------------------------------------------------------

File File::open(const std::filesystem::path& path) {
  File f;
  f.path_ = path;
  uint64_t size = 0;
  int fd = io::open_regular_file(path.string(), "gguf", &size);  // a FIFO or device is refused, not waited on
  f.size_ = static_cast<size_t>(size);
  if (f.size_ > 0) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw std::invalid_argument("[gguf] cannot map '" + path.string() + "'");
    }
    f.base_ = static_cast<const uint8_t*>(p);
    f.mapped_ = true;
  }
  ::close(fd);
  f.parse();
  return f;
}

void File::drop_pages(const TensorInfo& t) const {
  if (!mapped_) return;
  auto data = tensor_data(t);
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (uintptr_t(data.data()) + page - 1) / page * page;
  const uintptr_t hi = (uintptr_t(data.data()) + data.size()) / page * page;
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

void File::release() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(base_), size_);
  mapped_ = false;
  base_ = nullptr;
}

File::~File() { release(); }

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    base_ = o.base_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    version_ = o.version_;
    alignment_ = o.alignment_;
    data_offset_ = o.data_offset_;
    kv_ = std::move(o.kv_);
    kv_index_ = std::move(o.kv_index_);
    tensors_ = std::move(o.tensors_);
    tensor_index_ = std::move(o.tensor_index_);
    o.mapped_ = false;
    o.base_ = nullptr;
  }
  return *this;
}

void File::parse() {
  const std::string path = path_.string();
  Cursor c(base_, size_, path);
  const uint8_t* magic = c.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) c.fail("not a GGUF file (bad magic)");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) c.fail("GGUF version 1 is not supported");
  if (version_ != 2 && version_ != 3) {
    c.fail("unsupported GGUF version " + std::to_string(version_) + " (or a big-endian file)");
  }
  uint64_t n_tensors = c.read<uint64_t>("tensor count");
  uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Each KV needs at least 12 bytes and each tensor info 24: reject absurd counts early.
  if (n_kv > c.remaining() / 12) c.fail("metadata count " + std::to_string(n_kv) + " exceeds the file");
  if (n_tensors > c.remaining() / 24) {
    c.fail("tensor count " + std::to_string(n_tensors) + " exceeds the file");
  }

  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    Value v;
    v.key_ = std::string(c.string("metadata key"));
    uint32_t t = c.read<uint32_t>("metadata type");
    if (!valid_type(t)) c.fail("key '" + v.key_ + "' has invalid type " + std::to_string(t));
    v.type_ = static_cast<ValueType>(t);
    if (v.type_ == ValueType::STRING) {
      v.strings_.push_back(c.string("string value"));
      v.count_ = 1;
    } else if (v.type_ == ValueType::ARRAY) {
      uint32_t et = c.read<uint32_t>("array type");
      if (!valid_type(et)) c.fail("key '" + v.key_ + "' has invalid array type " + std::to_string(et));
      v.elem_type_ = static_cast<ValueType>(et);
      if (v.elem_type_ == ValueType::ARRAY) c.fail("key '" + v.key_ + "': nested arrays are not supported");
      v.count_ = c.read<uint64_t>("array length");
      if (v.elem_type_ == ValueType::STRING) {
        if (v.count_ > c.remaining() / 8) c.fail("key '" + v.key_ + "': array length exceeds the file");
        v.strings_.reserve(v.count_);
        for (uint64_t i = 0; i < v.count_; ++i) v.strings_.push_back(c.string("array string"));
      } else {
        size_t es = value_type_size(v.elem_type_);
        if (v.count_ > c.remaining() / es) c.fail("key '" + v.key_ + "': array length exceeds the file");
        v.bytes_ = v.count_ * es;
        v.data_ = c.take(v.bytes_, "array data");
      }
    } else {
      v.count_ = 1;
      v.bytes_ = value_type_size(v.type_);
      v.data_ = c.take(v.bytes_, "scalar value");
      if (v.type_ == ValueType::BOOL && v.data_[0] > 1) {
        c.fail("key '" + v.key_ + "' has an invalid bool byte");
      }
    }
    if (!kv_index_.emplace(v.key_, kv_.size()).second) c.fail("duplicate key '" + v.key_ + "'");
    kv_.push_back(std::move(v));
  }

  if (const Value* a = get("general.alignment")) {
    uint64_t al = a->as_uint();
    if (al == 0 || (al & (al - 1)) != 0 || al > (1u << 30)) {
      c.fail("general.alignment " + std::to_string(al) + " is not a power of two");
    }
    alignment_ = static_cast<uint32_t>(al);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    t.name = c.string("tensor name");
    std::string name(t.name);
    uint32_t n_dims = c.read<uint32_t>("tensor dims");
    if (n_dims > kMaxDims) {
      c.fail("tensor '" + name + "' has " + std::to_string(n_dims) + " dims (max 4)");
    }
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.read<uint64_t>("tensor shape");
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        c.fail("tensor '" + name + "' has a negative dimension");
      }
      if (ne != 0 && t.n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ne) {
        c.fail("tensor '" + name + "' has too many elements");
      }
      t.n_elements *= ne;
      t.dims.push_back(ne);
    }
    t.type = c.read<uint32_t>("tensor type");
    const TypeTraits* tr = type_traits(t.type);
    if (!tr) c.fail("tensor '" + name + "' has unknown ggml type " + std::to_string(t.type));
    if (!t.dims.empty() && t.dims[0] % tr->block_size != 0) {
      c.fail("tensor '" + name + "': row of " + std::to_string(t.dims[0]) +
             " elements is not a multiple of the " + tr->name + " block size " +
             std::to_string(tr->block_size));
    }
    t.n_bytes = t.n_elements / tr->block_size * tr->type_size;
    t.offset = c.read<uint64_t>("tensor offset");
    if (t.offset % alignment_ != 0) {
      c.fail("tensor '" + name + "' offset " + std::to_string(t.offset) + " is not aligned to " +
             std::to_string(alignment_));
    }
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      c.fail("duplicate tensor '" + name + "'");
    }
    tensors_.push_back(std::move(t));
  }

  uint64_t pos = c.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  if (n_tensors > 0 && data_offset_ > size_) c.fail("file truncated before the tensor data");
  uint64_t data_size = size_ > data_offset_ ? size_ - data_offset_ : 0;
  for (const TensorInfo& t : tensors_) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      c.fail("tensor '" + std::string(t.name) + "' (" + std::to_string(t.n_bytes) +
             " bytes at data offset " + std::to_string(t.offset) + ") runs past the end of the file");
    }
  }
}

const Value* File::get(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second];
}

const Value& File::at(std::string_view key) const {
  const Value* v = get(key);
  if (!v) throw std::invalid_argument("[gguf] " + path_.string() + ": missing key '" + std::string(key) + "'");
  return *v;
}

const TensorInfo* File::tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> File::tensor_data(const TensorInfo& t) const {
  return {base_ + data_offset_ + t.offset, static_cast<size_t>(t.n_bytes)};
}

}  // namespace uma::io::gguf
