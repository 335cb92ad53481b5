// Writing and reading exported functions (function_file.h; the layout is
// docs/export_format.md).
#include "uma/core/io/function_file.h"

#include <cstring>
#include <unordered_map>

#include "uma/core/io/array_bytes.h"
#include "uma/core/io/file.h"
#include "uma/core/primitive.h"

namespace uma::io {

namespace {

constexpr uint64_t kAlign = 64;
// Limits on what a file may describe (a hostile file is refused before
// anything is allocated for it).
constexpr size_t kMaxDims = 64;
constexpr int64_t kMaxElements = int64_t(1) << 48;
constexpr size_t kMaxClassName = 64;

uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// --- writing

void put_type(PrimitiveWriter& w, const Shape& shape, Dtype dtype) {
  w.put(dtype);
  w.put(shape);
}

void put_ref(PrimitiveWriter& w, const detail::Ref& r) {
  w.put_unsigned(uint64_t(r.kind));
  w.put_unsigned(uint64_t(r.index));
  w.put_unsigned(uint64_t(r.output));
}

// The file but the constants' bytes: header and graph, and where each
// constant goes in the data section.
struct Encoded {
  std::string head;  // header + graph section + padding up to the data section
  std::vector<array> constants;  // row-major, evaluated
  std::vector<uint64_t> offsets;  // in the data section
  uint64_t data_size = 0;
};

Encoded encode(const FunctionFile& f) {
  Encoded e;
  // Constants shared between traces (a captured weight) are stored once.
  std::unordered_map<uintptr_t, uint64_t> index;
  std::vector<std::vector<uint64_t>> trace_constants;
  for (auto& t : f.traces) {
    auto& ids = trace_constants.emplace_back();
    for (auto& c : t.program.constants) {
      auto [it, added] = index.emplace(c.id(), e.constants.size());
      if (added) {
        e.constants.push_back(row_major(c));
        e.offsets.push_back(e.data_size);
        e.data_size = align_up(e.data_size + e.constants.back().nbytes());
      }
      ids.push_back(it->second);
    }
  }
  PrimitiveWriter w;
  w.put_string(f.metadata);
  w.put_unsigned(e.constants.size());
  for (size_t i = 0; i < e.constants.size(); ++i) {
    put_type(w, e.constants[i].shape(), e.constants[i].dtype());
    w.put_unsigned(e.offsets[i]);
  }
  w.put_unsigned(f.traces.size());
  for (size_t ti = 0; ti < f.traces.size(); ++ti) {
    const FunctionTrace& t = f.traces[ti];
    w.put(t.shapeless);
    w.put_unsigned(t.args.size());
    for (auto& a : t.args) put_type(w, a.shape, a.dtype);
    w.put_unsigned(t.kwargs.size());
    for (size_t k = 0; k < t.kwargs.size(); ++k) {
      w.put_string(t.kwarg_names[k]);
      put_type(w, t.kwargs[k].shape, t.kwargs[k].dtype);
    }
    w.put_unsigned(trace_constants[ti].size());
    for (uint64_t c : trace_constants[ti]) w.put_unsigned(c);
    w.put_unsigned(t.program.nodes.size());
    for (auto& n : t.program.nodes) {
      std::string params = detail::serialize_primitive(*n.prim);  // first: its refusal names the class
      w.put_string(detail::primitive_class(*n.prim));
      w.put_string(params);
      w.put_unsigned(n.inputs.size());
      for (auto& r : n.inputs) put_ref(w, r);
      w.put_unsigned(n.shapes.size());
      for (size_t k = 0; k < n.shapes.size(); ++k) put_type(w, n.shapes[k], n.dtypes[k]);
    }
    w.put_unsigned(t.program.outputs.size());
    for (auto& r : t.program.outputs) put_ref(w, r);
  }
  const std::string& graph = w.bytes();
  uint64_t data_offset = align_up(kFunctionHeaderBytes + graph.size());
  e.head.append(kFunctionMagic, sizeof(kFunctionMagic));
  put_u32(e.head, kFunctionVersion);
  put_u32(e.head, 0);  // flags
  put_u64(e.head, kFunctionHeaderBytes);
  put_u64(e.head, graph.size());
  put_u64(e.head, data_offset);
  put_u64(e.head, e.data_size);
  put_u64(e.head, function_checksum(reinterpret_cast<const uint8_t*>(graph.data()), graph.size()));
  put_u64(e.head, 0);  // reserved
  e.head += graph;
  e.head.resize(size_t(data_offset), '\0');
  return e;
}

template <typename Sink>
void emit(const Encoded& e, Sink&& sink) {
  sink(e.head.data(), e.head.size());
  static const char zeros[kAlign] = {};
  uint64_t pos = 0;
  for (size_t i = 0; i < e.constants.size(); ++i) {
    if (e.offsets[i] > pos) sink(zeros, size_t(e.offsets[i] - pos));
    const array& c = e.constants[i];
    if (c.nbytes()) sink(c.raw_ptr(), c.nbytes());  // x86: already little-endian
    pos = e.offsets[i] + c.nbytes();
  }
  if (e.data_size > pos) sink(zeros, size_t(e.data_size - pos));
}

// --- reading

struct Decoder {
  const uint8_t* data;
  size_t size;
  std::string name;
  std::shared_ptr<const void> keep_alive;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("[import_function] " + name + ": " + what);
  }

  TypedShape get_type(ByteReader& r) const {
    TypedShape t;
    t.dtype = r.get<Dtype>();
    uint64_t nd = r.get_unsigned();
    r.check(nd <= kMaxDims, "a shape has more than 64 dimensions");
    int64_t n = 1;
    for (uint64_t i = 0; i < nd; ++i) {
      int64_t d = r.get_signed();
      r.check(d >= 0 && d <= INT32_MAX, "a dimension is negative or past 2^31-1");
      t.shape.push_back(int32_t(d));
      if (n) n = d == 0 ? 0 : (n > kMaxElements / d ? kMaxElements + 1 : n * d);
    }
    r.check(n <= kMaxElements, "a shape has more than 2^48 elements");
    return t;
  }

  detail::Ref get_ref(ByteReader& r) const {
    uint64_t kind = r.get_unsigned(), index = r.get_unsigned(), output = r.get_unsigned();
    r.check(kind <= detail::Ref::node && index <= INT32_MAX && output <= INT32_MAX, "a reference is malformed");
    return {detail::Ref::Kind(kind), int(index), int(output)};
  }

  FunctionFile decode() const {
    if (size < kFunctionHeaderBytes) fail("too short for an exported function (" + std::to_string(size) + " bytes)");
    if (std::memcmp(data, kFunctionMagic, sizeof(kFunctionMagic)) != 0) fail("not an exported function (bad magic)");
    uint32_t version = get_u32(data + 8), flags = get_u32(data + 12);
    if (version != kFunctionVersion) {
      fail("format version " + std::to_string(version) + " is not the one this build reads (" +
           std::to_string(kFunctionVersion) + ")");
    }
    if (flags != 0) fail("unknown flags " + std::to_string(flags));
    uint64_t graph_offset = get_u64(data + 16), graph_size = get_u64(data + 24);
    uint64_t data_offset = get_u64(data + 32), data_size = get_u64(data + 40);
    uint64_t checksum = get_u64(data + 48);
    if (graph_offset != kFunctionHeaderBytes || graph_size > size - graph_offset) fail("the graph section is truncated");
    if (data_offset % kAlign || data_offset < graph_offset + graph_size || data_offset > size ||
        data_size != size - data_offset) {
      fail("the data section is truncated or misplaced (" + std::to_string(size) + " bytes)");
    }
    const uint8_t* graph = data + graph_offset;
    if (function_checksum(graph, size_t(graph_size)) != checksum) fail("the graph's checksum does not match (corrupted)");
    const uint8_t* blob = data + data_offset;

    ByteReader r(graph, size_t(graph_size), name);
    FunctionFile f;
    f.metadata = r.get_string();
    uint64_t nconst = r.get_unsigned();
    r.check(nconst <= r.remaining(), "lists more constants than bytes");
    std::vector<array> constants;
    for (uint64_t i = 0; i < nconst; ++i) {
      TypedShape t = get_type(r);
      uint64_t offset = r.get_unsigned();
      int64_t n = 1;
      for (auto d : t.shape) n *= d;
      uint64_t nbytes = uint64_t(n) * size_of(t.dtype);  // <= 2^48 * 8
      r.check(offset % kAlign == 0 && offset <= data_size && nbytes <= data_size - offset,
              "a constant's bytes lie outside the data section");
      constants.push_back(wrap_or_copy(blob + offset, t.shape, t.dtype, keep_alive));
    }
    uint64_t ntraces = r.get_unsigned();
    r.check(ntraces >= 1 && ntraces <= r.remaining(), "the number of traces is wrong");
    Stream stream = to_stream({});
    for (uint64_t ti = 0; ti < ntraces; ++ti) f.traces.push_back(get_trace(r, constants, stream));
    r.finish();
    return f;
  }

  FunctionTrace get_trace(ByteReader& r, const std::vector<array>& table, Stream stream) const {
    FunctionTrace t;
    t.shapeless = r.get<bool>();
    uint64_t nargs = r.get_unsigned();
    r.check(nargs <= r.remaining(), "lists more arguments than bytes");
    for (uint64_t i = 0; i < nargs; ++i) t.args.push_back(get_type(r));
    uint64_t nkw = r.get_unsigned();
    r.check(nkw <= r.remaining(), "lists more keyword arguments than bytes");
    for (uint64_t i = 0; i < nkw; ++i) {
      t.kwarg_names.push_back(r.get_string());
      r.check(i == 0 || t.kwarg_names[i - 1] < t.kwarg_names[i], "keyword names are not sorted and distinct");
      t.kwargs.push_back(get_type(r));
    }
    std::vector<TypedShape> inputs = t.args;
    inputs.insert(inputs.end(), t.kwargs.begin(), t.kwargs.end());
    uint64_t nconst = r.get_unsigned();
    r.check(nconst <= r.remaining(), "lists more constants than bytes");
    for (uint64_t i = 0; i < nconst; ++i) {
      uint64_t c = r.get_unsigned();
      r.check(c < table.size(), "a trace names a constant that does not exist");
      t.program.constants.push_back(table[size_t(c)]);
    }
    auto& nodes = t.program.nodes;
    // The type a reference points to, once it is checked to exist.
    auto type_of = [&](const detail::Ref& ref) -> TypedShape {
      if (ref.kind == detail::Ref::input) {
        r.check(ref.index < int(inputs.size()) && ref.output == 0, "a reference names an input that does not exist");
        return inputs[size_t(ref.index)];
      }
      if (ref.kind == detail::Ref::constant) {
        r.check(ref.index < int(t.program.constants.size()) && ref.output == 0,
                "a reference names a constant that does not exist");
        const array& c = t.program.constants[size_t(ref.index)];
        return {c.shape(), c.dtype()};
      }
      r.check(ref.index < int(nodes.size()), "a reference names a node that is not computed before");
      const auto& n = nodes[size_t(ref.index)];
      r.check(ref.output < int(n.shapes.size()), "a reference names an output its node does not have");
      return {n.shapes[size_t(ref.output)], n.dtypes[size_t(ref.output)]};
    };
    uint64_t nnodes = r.get_unsigned();
    r.check(nnodes <= r.remaining(), "lists more nodes than bytes");
    for (uint64_t i = 0; i < nnodes; ++i) {
      std::string cls = r.get_string();
      r.check(!cls.empty() && cls.size() <= kMaxClassName, "a primitive's class name is empty or too long");
      uint64_t plen = r.get_unsigned();
      r.check(plen <= r.remaining(), "a primitive's parameters are longer than the bytes left");
      const uint8_t* params = r.get_bytes(size_t(plen));
      detail::TapeNode n;
      NodeTypes types;
      uint64_t nin = r.get_unsigned();
      r.check(nin <= r.remaining(), "a node lists more inputs than bytes");
      for (uint64_t k = 0; k < nin; ++k) {
        n.inputs.push_back(get_ref(r));
        types.inputs.push_back(type_of(n.inputs.back()));
      }
      uint64_t nout = r.get_unsigned();
      r.check(nout >= 1 && nout <= r.remaining(), "a node's number of outputs is wrong");
      for (uint64_t k = 0; k < nout; ++k) {
        types.outputs.push_back(get_type(r));
        n.shapes.push_back(types.outputs.back().shape);
        n.dtypes.push_back(types.outputs.back().dtype);
      }
      n.prim = detail::deserialize_primitive(cls, params, size_t(plen), stream, types);
      check_output_shapes(*n.prim, types, cls);
      nodes.push_back(std::move(n));
    }
    uint64_t nout = r.get_unsigned();
    r.check(nout <= r.remaining(), "lists more outputs than bytes");
    for (uint64_t i = 0; i < nout; ++i) {
      t.program.outputs.push_back(get_ref(r));
      type_of(t.program.outputs.back());
    }
    return t;
  }

  // The primitive infers the recorded output shapes from the inputs' (its
  // deserialize checked the parameters that inference relies on).
  void check_output_shapes(Primitive& p, const NodeTypes& types, const std::string& cls) const {
    std::vector<array> ph;
    for (auto& in : types.inputs) ph.push_back(array(in.shape, in.dtype, nullptr, {}));
    std::vector<Shape> shapes;
    try {
      shapes = p.output_shapes(ph);
    } catch (const std::exception& e) {
      fail(cls + ": " + e.what());
    }
    bool same = shapes.size() == types.outputs.size();
    for (size_t k = 0; same && k < shapes.size(); ++k) same = shapes[k] == types.outputs[k].shape;
    if (!same) fail(cls + ": the recorded output shapes are not the ones it computes");
  }
};

}  // namespace

uint64_t function_checksum(const uint8_t* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  return h;
}

std::string encode_function(const FunctionFile& f) {
  Encoded e = encode(f);
  std::string out;
  emit(e, [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); });
  return out;
}

void save_function(const std::string& path, const FunctionFile& f) {
  Encoded e = encode(f);
  AtomicWriter w(path, "export_function");
  emit(e, [&](const void* p, size_t n) { w.write(p, n); });
  w.commit();
}

FunctionFile load_function(const std::string& path) {
  auto file = MappedFile::open(path, "import_function");
  return Decoder{file->data(), file->size(), path, file}.decode();
}

FunctionFile decode_function(const uint8_t* data, size_t n, const std::string& name,
                             std::shared_ptr<const void> keep_alive) {
  return Decoder{data, n, name, std::move(keep_alive)}.decode();
}

}  // namespace uma::io
