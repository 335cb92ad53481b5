// Primitives as bytes, for export_function / import_function (core/export.h).
// Every primitive class writes its parameters in serialize() and reads them
// back in its static deserialize(stream, reader); both live in
// core/primitives/<family>_export.cpp. The factory (serialize.cpp) finds a
// class by the name its family list gives it (the class name, which is
// name() except where the name follows a parameter: Reduce is "Sum", ...).
//
// Encoding (docs/export_format.md): integers as LEB128 varints, signed ones
// zigzagged; float and double as their little-endian IEEE bytes; bool as one
// byte 0 or 1; Dtype and enums as varints checked against their range;
// vectors as a count and the elements; optionals as a presence byte and the
// value; nested primitives (Compiled's steps) as class name, length, bytes.
//
// Files are untrusted. Every read is bounds-checked, and a reader sees the
// node its primitive will compute (the inputs' and outputs' shapes and
// dtypes), so that deserialize can refuse what the kernels would trip over:
// a wrong number of inputs, an axis past an input's rank, dtypes the op never
// gives. Errors are std::invalid_argument "[import_function] <Class>: ...".
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "uma/core/primitive.h"

namespace uma {

// The largest value of an enum a primitive stores; an enum without a
// specialization here cannot be serialized (the build fails).
template <typename E>
struct enum_limit;

// A shape and dtype: what a reader knows of each input and output of a node.
struct TypedShape {
  Shape shape;
  Dtype dtype;
};
struct NodeTypes {
  std::vector<TypedShape> inputs, outputs;
};

class PrimitiveWriter {
 public:
  void put(bool v) { bytes_.push_back(char(v ? 1 : 0)); }
  void put(int32_t v) { put_signed(v); }
  void put(int64_t v) { put_signed(v); }
  void put(float v) { put_raw(v); }
  void put(double v) { put_raw(v); }
  template <typename E>
    requires std::is_enum_v<E>
  void put(E e) {
    put_unsigned(uint64_t(e));
  }
  template <typename T>
  void put(const std::vector<T>& v) {
    put_unsigned(v.size());
    for (const auto& x : v) put(x);
  }
  template <typename T>
  void put(const std::optional<T>& v) {
    put(v.has_value());
    if (v) put(*v);
  }
  // A primitive inside this one (Compiled's steps), on the same stream.
  void put(const Primitive& p);

  // The listed members of p, in order (what UMA_SERIALIZE writes).
  template <typename P, typename... M>
  void fields(const P& p, M P::*... members) {
    (put(p.*members), ...);
  }

  void put_unsigned(uint64_t v);
  void put_signed(int64_t v) { put_unsigned((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }
  void put_string(const std::string& s);
  const std::string& bytes() const { return bytes_; }

 private:
  template <typename T>
  void put_raw(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // x86: already little-endian
    bytes_.append(b, sizeof(T));
  }
  std::string bytes_;
};

// Bounds-checked reading of what PrimitiveWriter wrote; errors are
// std::invalid_argument "[import_function] <context>: <what>".
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t n, std::string context) : p_(data), end_(data + n), context_(std::move(context)) {}

  template <typename T>
  T get();
  uint64_t get_unsigned();
  int64_t get_signed();
  std::string get_string();
  // The next n bytes, without copying (n was checked against remaining()).
  const uint8_t* get_bytes(size_t n);
  size_t remaining() const { return size_t(end_ - p_); }
  // Throws unless every byte was read.
  void finish() const;

  [[noreturn]] void fail(const std::string& what) const;
  void check(bool ok, const char* what) const {
    if (!ok) fail(what);
  }
  const std::string& context() const { return context_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  std::string context_;
};

class PrimitiveReader : public ByteReader {
 public:
  // Reads the parameters of class `cls` from [data, data + n) for a node of
  // the given types; `depth` counts enclosing primitives (nesting is capped).
  PrimitiveReader(const uint8_t* data, size_t n, std::string cls, const NodeTypes& node, int depth = 0)
      : ByteReader(data, n, std::move(cls)), node_(node), depth_(depth) {}

  // Decodes the listed members' types in order and constructs P from them
  // (what UMA_SERIALIZE reads).
  template <typename P, typename... M>
  std::shared_ptr<Primitive> make(Stream s, M P::*...) {
    std::tuple<M...> args{get<M>()...};  // a braced list reads left to right
    return std::apply([&](auto&... a) { return std::make_shared<P>(s, std::move(a)...); }, args);
  }

  // A nested primitive for a node of the given types.
  std::shared_ptr<Primitive> get_primitive(Stream s, const NodeTypes& node);

  // --- what deserialize checks the node against
  const NodeTypes& node() const { return node_; }
  const std::string& cls() const { return context(); }
  // The node has between lo and hi inputs (hi < 0: exactly lo).
  void inputs(int lo, int hi = -1) const;
  // The node has exactly n outputs.
  void outputs(int n) const;
  const TypedShape& in(int i) const { return node_.inputs[size_t(i)]; }
  const TypedShape& out(int i) const { return node_.outputs[size_t(i)]; }
  int ndim(int input) const { return int(in(input).shape.size()); }
  // 0 <= axis < ndim.
  void axis(int axis, int ndim, const char* what) const;
  // Distinct axes, each in [0, ndim).
  void axes(const std::vector<int>& axes, int ndim, const char* what) const;
  // Every output has dtype t.
  void out_dtype(Dtype t) const;
  // The number of elements of a shape from the parameters: dimensions not
  // negative, the product at most 2^48.
  int64_t elements(const Shape& s) const;

  // Checks the node by building it again: `build` applies the primitive's op
  // to placeholders of the node's inputs (arrays with their shapes and
  // dtypes and no value). The node passes when the op accepts them as they
  // are (no cast or broadcast inserted) and gives a primitive equivalent to
  // p with the node's output shapes and dtypes; the op's own error is the
  // reader's otherwise. For families whose ops take exactly the primitive's
  // parameters (quantized, conv, fast). Returns the built node's primitive
  // (what the fast family keeps: the op gives it its fallback).
  template <typename F>
  std::shared_ptr<Primitive> same_as_op(const Primitive& p, F&& build) const {
    std::vector<array> ph = placeholders();
    std::vector<array> built;
    try {
      built = build(ph);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    check_built(p, ph, built);
    return built[0].primitive_ptr();
  }

 private:
  std::vector<array> placeholders() const;
  void check_built(const Primitive& p, const std::vector<array>& placeholders, const std::vector<array>& built) const;

  const NodeTypes& node_;
  int depth_;
};

template <>
struct enum_limit<Dtype> {
  static constexpr uint64_t value = num_dtypes - 1;
};

namespace detail {
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename>
constexpr bool not_serializable = false;
}  // namespace detail

template <typename T>
T ByteReader::get() {
  if constexpr (std::is_same_v<T, bool>) {
    uint64_t v = get_unsigned();
    check(v <= 1, "a bool is neither 0 nor 1");
    return v == 1;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    int64_t v = get_signed();
    check(v >= INT32_MIN && v <= INT32_MAX, "an int is out of the 32-bit range");
    return int32_t(v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return get_signed();
  } else if constexpr (std::is_floating_point_v<T>) {
    T v;
    std::memcpy(&v, get_bytes(sizeof(T)), sizeof(T));
    return v;
  } else if constexpr (std::is_enum_v<T>) {
    uint64_t v = get_unsigned();
    check(v <= enum_limit<T>::value, "an enumeration value is out of range");
    return T(v);
  } else if constexpr (detail::is_vector<T>::value) {
    uint64_t n = get_unsigned();
    check(n <= remaining(), "a list is longer than the bytes left");  // every element takes a byte or more
    T v;
    v.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) v.push_back(get<typename T::value_type>());
    return v;
  } else if constexpr (detail::is_optional<T>::value) {
    if (!get<bool>()) return std::nullopt;
    return get<typename T::value_type>();
  } else {
    static_assert(detail::not_serializable<T>, "no encoding for this parameter type");
  }
}

// serialize() and deserialize() of a class whose parameters are the listed
// members, given to the constructor in that order after the stream; for
// parameters that need checking against the node, write deserialize by hand.
#define UMA_SERIALIZE(P, ...)                                                                    \
  void P::serialize(PrimitiveWriter& w) const { w.fields(*this __VA_OPT__(, ) __VA_ARGS__); }   \
  std::shared_ptr<Primitive> P::deserialize(Stream s, PrimitiveReader& r) {                     \
    return r.make<P>(s __VA_OPT__(, ) __VA_ARGS__);                                              \
  }

namespace detail {
// The class name of p as its family list spells it ("Reduce" for Sum).
const char* primitive_class(const Primitive& p);
// p's class and parameters as bytes; throws std::invalid_argument naming the
// class when it cannot be serialized.
std::string serialize_primitive(const Primitive& p);
// A primitive of class `cls` from its bytes, for a node of the given types;
// unknown classes and bad parameters throw "[import_function] ...".
std::shared_ptr<Primitive> deserialize_primitive(const std::string& cls, const uint8_t* data, size_t n, Stream s,
                                                 const NodeTypes& node, int depth = 0);
// "[export_function] <name> cannot be exported: <why>"
[[noreturn]] void throw_not_serializable(const Primitive& p, const char* why);
}  // namespace detail

}  // namespace uma
