// The factory of serialized primitives, generated from the family lists (a
// listed class without serialize/deserialize fails to link), and the
// bounds-checked reader and writer of their parameters.
#include "uma/core/primitives/serialize.h"

#include <typeindex>
#include <unordered_map>

#include "uma/core/primitives/all.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

using Deserializer = std::shared_ptr<Primitive> (*)(Stream, PrimitiveReader&);

struct Registry {
  std::unordered_map<std::type_index, const char*> names;
  std::unordered_map<std::string, Deserializer> readers;
};

const Registry& registry() {
  static const Registry r = [] {
    Registry r;
#define UMA_REGISTER(P)                         \
  r.names.emplace(typeid(P), #P);               \
  r.readers.emplace(#P, &P::deserialize);
    UMA_CORE_PRIMITIVES(UMA_REGISTER)
    UMA_CORE_MULTI_PRIMITIVES(UMA_REGISTER)
#undef UMA_REGISTER
#define UMA_REGISTER(P)                         \
  r.names.emplace(typeid(fast::P), #P);         \
  r.readers.emplace(#P, &fast::P::deserialize);
    UMA_FAST_PRIMITIVES(UMA_REGISTER)
#undef UMA_REGISTER
    return r;
  }();
  return r;
}

// Compiled holds primitives; deeper nesting than this is a hostile file.
constexpr int kMaxDepth = 4;

// A name from a file, safe to print: printable ASCII, at most 64 characters.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 32 && c < 127 ? c : '?');
  return s.size() > 64 ? out + "..." : out;
}

}  // namespace

// --- writer

void PrimitiveWriter::put_unsigned(uint64_t v) {
  do {
    uint8_t b = uint8_t(v & 0x7f);
    v >>= 7;
    bytes_.push_back(char(v ? b | 0x80 : b));
  } while (v);
}

void PrimitiveWriter::put_string(const std::string& s) {
  put_unsigned(s.size());
  bytes_ += s;
}

void PrimitiveWriter::put(const Primitive& p) {
  put_string(detail::primitive_class(p));
  put_string(detail::serialize_primitive(p));
}

// --- reader

void ByteReader::fail(const std::string& what) const {
  throw std::invalid_argument("[import_function] " + printable(context_) + ": " + what);
}

uint64_t ByteReader::get_unsigned() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    check(p_ < end_, "the parameters end early");
    uint8_t b = *p_++;
    if (shift == 63 && b > 1) fail("a varint overflows 64 bits");
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("a varint is longer than 10 bytes");
}

int64_t ByteReader::get_signed() {
  uint64_t u = get_unsigned();
  return int64_t(u >> 1) ^ -int64_t(u & 1);
}

std::string ByteReader::get_string() {
  uint64_t n = get_unsigned();
  check(n <= remaining(), "a string is longer than the bytes left");
  const uint8_t* b = get_bytes(size_t(n));
  return std::string(reinterpret_cast<const char*>(b), size_t(n));
}

const uint8_t* ByteReader::get_bytes(size_t n) {
  check(n <= remaining(), "the bytes end early");
  const uint8_t* b = p_;
  p_ += n;
  return b;
}

void ByteReader::finish() const {
  if (p_ != end_) fail(std::to_string(remaining()) + " bytes of parameters left unread");
}

std::shared_ptr<Primitive> PrimitiveReader::get_primitive(Stream s, const NodeTypes& node) {
  std::string cls = get_string();
  uint64_t n = get_unsigned();
  check(n <= remaining(), "a nested primitive is longer than the bytes left");
  if (depth_ + 1 > kMaxDepth) fail("primitives nest deeper than " + std::to_string(kMaxDepth));
  const uint8_t* bytes = get_bytes(size_t(n));
  return detail::deserialize_primitive(cls, bytes, size_t(n), s, node, depth_ + 1);
}

void PrimitiveReader::inputs(int lo, int hi) const {
  if (hi < 0) hi = lo;
  int n = int(node_.inputs.size());
  if (n < lo || n > hi) {
    fail("takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
         " inputs, the node has " + std::to_string(n));
  }
}

void PrimitiveReader::outputs(int n) const {
  if (int(node_.outputs.size()) != n) {
    fail("gives " + std::to_string(n) + " outputs, the node has " + std::to_string(node_.outputs.size()));
  }
}

void PrimitiveReader::axis(int a, int ndim, const char* what) const {
  if (a < 0 || a >= ndim) fail(std::string(what) + " " + std::to_string(a) + " is not an axis of a " +
                              std::to_string(ndim) + "-d array");
}

void PrimitiveReader::axes(const std::vector<int>& as, int ndim, const char* what) const {
  std::vector<bool> seen(size_t(std::max(ndim, 0)), false);
  for (int a : as) {
    axis(a, ndim, what);
    if (seen[size_t(a)]) fail(std::string(what) + " repeat axis " + std::to_string(a));
    seen[size_t(a)] = true;
  }
}

void PrimitiveReader::out_dtype(Dtype t) const {
  for (auto& o : node_.outputs) {
    if (o.dtype != t) fail(std::string("gives ") + dtype_name(t) + ", the node records " + dtype_name(o.dtype));
  }
}

int64_t PrimitiveReader::elements(const Shape& s) const {
  int64_t n = 1;
  for (auto d : s) {
    check(d >= 0, "a dimension is negative");
    if (d == 0) return 0;
  }
  for (auto d : s) {
    n *= d;
    check(n <= (int64_t(1) << 48), "a shape has too many elements");
  }
  return n;
}

std::vector<array> PrimitiveReader::placeholders() const {
  std::vector<array> ph;
  for (auto& in : node_.inputs) ph.push_back(array(in.shape, in.dtype, nullptr, {}));
  return ph;
}

void PrimitiveReader::check_built(const Primitive& p, const std::vector<array>& ph,
                                  const std::vector<array>& built) const {
  check(!built.empty() && built[0].has_primitive(), "its op gives no node for these inputs");
  const auto& ins = built[0].inputs();
  bool same_inputs = ins.size() == ph.size();
  for (size_t i = 0; same_inputs && i < ins.size(); ++i) same_inputs = ins[i].is_same(ph[i]);
  check(same_inputs, "its op would convert or broadcast these inputs first");
  check(built[0].primitive().is_equivalent(p), "its op builds it with other parameters from these inputs");
  std::vector<array> outs = built[0].outputs();
  check(outs.size() == node_.outputs.size(), "its op gives another number of outputs");
  for (size_t i = 0; i < outs.size(); ++i) {
    check(outs[i].shape() == node_.outputs[i].shape && outs[i].dtype() == node_.outputs[i].dtype,
          "its op gives other output shapes or dtypes");
  }
}

// --- factory

namespace detail {

const char* primitive_class(const Primitive& p) {
  auto& names = registry().names;
  auto it = names.find(typeid(p));
  if (it == names.end()) throw_not_serializable(p, "it is not in a primitive family list");
  return it->second;
}

std::string serialize_primitive(const Primitive& p) {
  PrimitiveWriter w;
  p.serialize(w);
  return w.bytes();
}

std::shared_ptr<Primitive> deserialize_primitive(const std::string& cls, const uint8_t* data, size_t n, Stream s,
                                                 const NodeTypes& node, int depth) {
  auto& readers = registry().readers;
  auto it = readers.find(cls);
  if (it == readers.end()) {
    throw std::invalid_argument("[import_function] unknown primitive class \"" + printable(cls) + "\"");
  }
  PrimitiveReader r(data, n, cls, node, depth);
  auto p = it->second(s, r);
  r.finish();
  return p;
}

void throw_not_serializable(const Primitive& p, const char* why) {
  throw std::invalid_argument(std::string("[export_function] ") + p.name() + " cannot be exported: " + why);
}

}  // namespace detail

}  // namespace uma
