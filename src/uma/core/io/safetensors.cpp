#include "uma/core/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "uma/core/io/array_bytes.h"
#include "uma/core/io/file.h"

namespace uma {

static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

constexpr uint64_t kMaxHeader = 100'000'000;  // the reference library's limit

struct DtypeEntry {
  const char* name;
  Dtype dtype;
  int rank;  // the reference's Dtype enum order (ascending alignment)
};
constexpr DtypeEntry kDtypes[] = {
    {"BOOL", bool_, 0},   {"U8", uint8, 4},      {"I8", int8, 5},        {"I16", int16, 11},
    {"U16", uint16, 12},  {"F16", float16, 13},  {"BF16", bfloat16, 14}, {"I32", int32, 15},
    {"U32", uint32, 16},  {"F32", float32, 17},  {"C64", complex64, 18}, {"F64", float64, 19},
    {"I64", int64, 20},   {"U64", uint64, 21},
};
// Defined by the format but without a uma dtype.
constexpr const char* kUnsupported[] = {"F4",          "F6_E2M3",     "F6_E3M2", "F8_E5M2", "F8_E4M3",
                                        "F8_E8M0",     "F8_E4M3FNUZ", "F8_E5M2FNUZ"};

int dtype_rank(Dtype t) {
  for (auto& e : kDtypes)
    if (e.dtype == t) return e.rank;
  return 0;
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::invalid_argument("[load_safetensors] " + path + ": " + what);
}

struct Entry {
  std::string name;
  Dtype dtype;
  Shape shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& info) {
  const std::string where = "tensor '" + name + "'";
  if (!info.is_object()) bad(path, where + " is not a JSON object");
  auto dt = info.find("dtype");
  auto sh = info.find("shape");
  auto off = info.find("data_offsets");
  if (dt == info.end() || !dt->is_string()) bad(path, where + " has no string 'dtype'");
  if (sh == info.end() || !sh->is_array()) bad(path, where + " has no 'shape' list");
  if (off == info.end() || !off->is_array() || off->size() != 2) bad(path, where + " has no 'data_offsets' pair");
  Entry e;
  e.name = name;
  try {
    e.dtype = dtype_from_safetensors(dt->get<std::string>());
  } catch (const std::invalid_argument& err) {
    bad(path, where + ": " + err.what());
  }
  uint64_t numel = 1;
  for (auto& d : *sh) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT32_MAX)) {
      bad(path, where + " has an invalid dimension " + d.dump() + " in its shape " + sh->dump());
    }
    e.shape.push_back(int32_t(d.get<uint64_t>()));
    if (io::mul_overflows(numel, d.get<uint64_t>(), &numel)) bad(path, where + " has a shape too large: " + sh->dump());
  }
  for (auto& o : *off) {
    if (!o.is_number_unsigned()) bad(path, where + " has invalid data_offsets " + off->dump());
  }
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  uint64_t nbytes;
  if (io::mul_overflows(numel, size_of(e.dtype), &nbytes)) bad(path, where + " has a shape too large: " + sh->dump());
  if (e.end < e.begin || e.end - e.begin != nbytes) {
    bad(path, where + " of dtype " + dt->get<std::string>() + " and shape " + sh->dump() + " needs " +
                  std::to_string(nbytes) + " bytes but data_offsets " + off->dump() + " span a different size");
  }
  return e;
}

}  // namespace

const char* safetensors_dtype_name(Dtype t) {
  for (auto& e : kDtypes)
    if (e.dtype == t) return e.name;
  throw std::invalid_argument(std::string("[save_safetensors] no safetensors dtype for ") + dtype_name(t));
}

Dtype dtype_from_safetensors(const std::string& s) {
  for (auto& e : kDtypes)
    if (s == e.name) return e.dtype;
  for (auto* u : kUnsupported)
    if (s == u) throw std::invalid_argument("dtype " + s + " is not supported by uma");
  throw std::invalid_argument("unknown dtype '" + s + "'");
}

SafetensorsLoad load_safetensors(const std::string& path, bool in_memory) {
  auto file = io::MappedFile::open(path, "load_safetensors");
  const uint8_t* base = file->data();
  uint64_t size = file->size();
  if (size < 8) bad(path, "file of " + std::to_string(size) + " bytes is too short for a header length");
  uint64_t n;
  std::memcpy(&n, base, 8);
  if (n > kMaxHeader) bad(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8) {
    bad(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                  " bytes): truncated?");
  }
  const char* hdr = reinterpret_cast<const char*>(base + 8);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(hdr, hdr + n);
  } catch (const nlohmann::json::exception& err) {
    bad(path, std::string("header is not valid JSON: ") + err.what());
  }
  if (!j.is_object()) bad(path, "header is not a JSON object");

  SafetensorsLoad result;
  std::vector<Entry> entries;
  for (auto& [key, val] : j.items()) {
    if (key == "__metadata__") {
      if (!val.is_object()) bad(path, "__metadata__ is not a JSON object");
      for (auto& [mk, mv] : val.items()) {
        if (!mv.is_string()) bad(path, "__metadata__ value of '" + mk + "' is not a string");
        result.second[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, val));
  }

  // As the reference: sorted by offsets, the tensors tile the data section
  // exactly, with no gap, overlap or trailing bytes.
  const uint64_t data_start = 8 + n, data_len = size - data_start;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t expect = 0;
  for (auto& e : entries) {
    if (e.begin != expect) {
      bad(path, "tensor '" + e.name + "' has data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] but the previous tensor ends at " + std::to_string(expect) +
                    (e.begin < expect ? " (overlap)" : " (gap)"));
    }
    if (e.end > data_len) {
      bad(path, "tensor '" + e.name + "' has data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] beyond the data section of " + std::to_string(data_len) +
                    " bytes: truncated?");
    }
    expect = e.end;
  }
  if (expect != data_len) {
    bad(path, "tensors cover " + std::to_string(expect) + " bytes but the data section holds " +
                  std::to_string(data_len));
  }

  if (in_memory) {
    std::vector<io::ReadRange> ranges;
    for (auto& e : entries) ranges.push_back({data_start + e.begin, e.shape, e.dtype});
    auto arrays = io::read_ranges(path, ranges, "load_safetensors");
    for (size_t i = 0; i < entries.size(); ++i) result.first.emplace(entries[i].name, std::move(arrays[i]));
    return result;
  }
  for (auto& e : entries) {
    result.first.emplace(e.name, io::wrap_or_copy(base + data_start + e.begin, e.shape, e.dtype, file));
  }
  return result;
}

namespace {

template <typename TensorMap, typename MetaMap>
void save_impl(const std::string& path, const TensorMap& tensors, const MetaMap& metadata,
               const std::function<void(uint64_t)>& on_written = {}) {
  struct Item {
    std::string name;
    array arr;
  };
  std::vector<Item> items;
  for (auto& [name, a] : tensors) {
    if (name == "__metadata__") throw std::invalid_argument("[save_safetensors] '__metadata__' is not a tensor name");
    items.push_back({name, a});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    int ra = dtype_rank(a.arr.dtype()), rb = dtype_rank(b.arr.dtype());
    return ra != rb ? ra > rb : a.name < b.name;
  });

  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    std::map<std::string, std::string> sorted(metadata.begin(), metadata.end());
    j["__metadata__"] = sorted;
  }
  uint64_t offset = 0;
  for (auto& it : items) {
    nlohmann::ordered_json info;
    info["dtype"] = safetensors_dtype_name(it.arr.dtype());
    info["shape"] = it.arr.shape();
    info["data_offsets"] = {offset, offset + it.arr.nbytes()};
    offset += it.arr.nbytes();
    j[it.name] = std::move(info);
  }
  std::string header;
  try {
    header = j.dump();
  } catch (const nlohmann::json::exception& err) {
    throw std::invalid_argument("[save_safetensors] " + path + ": a tensor name or metadata entry is not valid UTF-8 (" +
                                err.what() + ")");
  }
  header.append((8 - header.size() % 8) % 8, ' ');

  io::AtomicWriter w(path, "save_safetensors");
  uint64_t n = header.size();
  w.write(&n, 8);
  w.write(header.data(), header.size());
  for (auto& it : items) {
    array a = io::row_major(it.arr);
    if (a.nbytes()) w.write(a.raw_ptr(), a.nbytes());
    if (on_written) on_written(a.nbytes());
  }
  w.commit();
}

}  // namespace

void save_safetensors(const std::string& path, const std::map<std::string, array>& tensors,
                      const std::map<std::string, std::string>& metadata,
                      const std::function<void(uint64_t)>& on_written) {
  save_impl(path, tensors, metadata, on_written);
}

void save_safetensors(const std::string& path, const std::unordered_map<std::string, array>& tensors,
                      const std::unordered_map<std::string, std::string>& metadata) {
  save_impl(path, tensors, metadata);
}

}  // namespace uma
