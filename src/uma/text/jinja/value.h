// The values a template computes with, modelled on the Python objects Jinja2
// sees under transformers: None, bool, int, float, str, list, tuple, dict,
// iterators (generators, dict views, range) and a few objects (namespace,
// loop, macro, functions). Lists, dicts and strings are immutable and shared,
// as the ImmutableSandboxedEnvironment forbids mutating them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uma/text/jinja/error.h"

namespace uma::text::jinja {

class Value;
class Object;
class Interpreter;
using ValueList = std::vector<Value>;

enum class Kind : uint8_t {
  undefined, none, boolean, integer, floating, string, list, tuple, dict, iterator, object
};

// What using an undefined value raises (Jinja2's Undefined hint/obj/name).
struct UndefinedInfo {
  std::string message;
  bool security = false;  // SecurityError instead of UndefinedError
};

class DictData;
struct IterData;

// Lists and tuples: the items plus their container nesting depth.
struct ListData {
  ValueList items;
  int depth = 1;
};

// Deepest container nesting a value may have. Deeper values would make
// comparison, printing and destruction recurse without bound.
constexpr int kMaxValueDepth = 512;

struct CallArgs {
  ValueList args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

class Value {
 public:
  Value() = default;  // an undefined value
  static Value undefined(std::string message, bool security = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value floating(double f);
  static Value string(std::string s);
  // A markupsafe.Markup string: concatenation and formatting escape the other operand.
  static Value markup(std::string s);
  static Value list(ValueList items);
  static Value tuple(ValueList items);
  static Value dict(DictData d);
  static Value iter(IterData it);
  static Value object(std::shared_ptr<Object> o);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_float() const { return kind_ == Kind::floating; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_markup() const { return kind_ == Kind::string && b_; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_tuple() const { return kind_ == Kind::tuple; }
  bool is_sequence() const { return kind_ == Kind::list || kind_ == Kind::tuple; }
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_iter() const { return kind_ == Kind::iterator; }
  bool is_object() const { return kind_ == Kind::object; }
  // bool, int or float: Python's numbers.Number.
  bool is_number() const { return kind_ == Kind::boolean || kind_ == Kind::integer || kind_ == Kind::floating; }
  // bool or int: usable as an index.
  bool is_integral() const { return kind_ == Kind::boolean || kind_ == Kind::integer; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::boolean ? (b_ ? 1 : 0) : i_; }
  double as_float() const;  // any number
  const std::string& as_string() const { return *static_cast<const std::string*>(p_.get()); }
  const ValueList& as_list() const { return static_cast<const ListData*>(p_.get())->items; }
  std::shared_ptr<const ValueList> list_ptr() const { return {p_, &as_list()}; }
  const DictData& as_dict() const { return *static_cast<const DictData*>(p_.get()); }
  IterData& as_iter() const { return *static_cast<IterData*>(p_.get()); }
  Object& as_object() const { return *static_cast<Object*>(p_.get()); }
  std::shared_ptr<Object> object_ptr() const { return std::static_pointer_cast<Object>(p_); }
  const UndefinedInfo* undefined_info() const { return static_cast<const UndefinedInfo*>(p_.get()); }
  // Python `is`: same object (small ints and singletons compare by value).
  bool same_as(const Value& other) const;
  // Container nesting depth: 0 for scalars, 1 for a flat list, ...
  int depth() const;

 private:
  Kind kind_ = Kind::undefined;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::shared_ptr<void> p_;
};

// Insertion-ordered mapping with Python key equality (1 == 1.0 == True).
class DictData {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Inserts or replaces, keeping the first insertion position like Python.
  void set(Value key, Value value);
  // Appends a key known not to be present (JSON objects, keyword arguments).
  void append_unique(Value key, Value value);
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  int depth() const { return depth_; }

 private:
  using Index = std::unordered_map<std::string_view, size_t>;
  void note_depth(const Value& key, const Value& value);
  const Index* index() const;  // string keys -> position, for large dicts
  void indexed(size_t pos);
  std::vector<std::pair<Value, Value>> items_;
  mutable std::shared_ptr<Index> index_;  // views into the (shared, immutable) key strings
  int depth_ = 1;
};

// Lazily-typed iterables: a generator and reversed() are single-pass and
// have no len(); dict views and range are re-iterable and sized.
enum class IterKind : uint8_t { generator, reversed, dict_keys, dict_values, dict_items, range };

struct IterData {
  IterKind kind = IterKind::generator;
  ValueList items;
  int64_t range_start = 0, range_stop = 0, range_step = 1;  // range only
  size_t pos = 0;      // consumed prefix of a single-pass iterator
  std::shared_ptr<JinjaError> deferred;  // raised once items run out (lazy errors)
  int depth = 1;
  bool single_pass() const { return kind == IterKind::generator || kind == IterKind::reversed; }
};

// Objects with attributes or call behaviour (namespace, loop, macro, ...).
class Object : public std::enable_shared_from_this<Object> {
 public:
  virtual ~Object() = default;
  virtual const char* type_name() const = 0;
  virtual std::string repr() const = 0;
  // The named attribute, or nullopt if there is none.
  virtual std::optional<Value> attr(const std::string& name) { return std::nullopt; }
  virtual bool callable() const { return false; }
  virtual Value call(Interpreter& in, CallArgs& args);
  // Drops references to other values at the end of a render, which breaks
  // the cycles a macro and its scope (or a namespace holding itself) form.
  virtual void release() {}
};

// Python semantics of the built-in protocol functions.
const char* type_name(const Value& v);  // type(v).__name__
bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// Rich comparison "<", "<=", ">", ">=" with Python's TypeError on mixed types.
bool compare(const Value& a, const Value& b, std::string_view op);
std::string to_str(const Value& v);  // str(v)
std::string repr(const Value& v);    // repr(v)
// Raises UndefinedError (or SecurityError) for an undefined value.
[[noreturn]] void fail_undefined(const Value& v);
// Python's "'dict object'"-style name used in undefined messages.
std::string object_type_repr(const Value& v);
// The undefined value for a missing attribute: "'dict object' has no attribute 'x'".
Value missing_attribute(const Value& obj, const std::string& name);

}  // namespace uma::text::jinja
