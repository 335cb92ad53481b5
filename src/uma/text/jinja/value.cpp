#include "uma/text/jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "uma/text/jinja/pyformat.h"

namespace uma::text::jinja {

namespace {

constexpr int kMaxReprDepth = 512;

template <class T>
std::shared_ptr<void> share(T&& x) {
  return std::make_shared<std::decay_t<T>>(std::forward<T>(x));
}

// Exact comparison of an int with a float, as Python does it.
int cmp_int_float(int64_t i, double f) {
  if (std::isnan(f)) return 2;  // unordered
  if (f >= 9.3e18) return -1;
  if (f <= -9.3e18) return 1;
  double fl = std::floor(f);
  auto fi = static_cast<int64_t>(fl);
  if (i < fi) return -1;
  if (i > fi) return 1;
  return fl < f ? -1 : 0;
}

// Three-way compare of two numbers; 2 means unordered (NaN).
int cmp_numbers(const Value& a, const Value& b) {
  if (a.is_float() || b.is_float()) {
    if (a.is_float() && b.is_float()) {
      double x = a.as_float(), y = b.as_float();
      if (std::isnan(x) || std::isnan(y)) return 2;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_float()) {
      int r = cmp_int_float(b.as_int(), a.as_float());
      return r == 2 ? 2 : -r;
    }
    return cmp_int_float(a.as_int(), b.as_float());
  }
  int64_t x = a.as_int(), y = b.as_int();
  return x < y ? -1 : x > y ? 1 : 0;
}

bool apply_op(int c, std::string_view op) {
  if (c == 2) return false;
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

void repr_into(std::string& out, const Value& v, int depth);

void repr_items(std::string& out, const ValueList& items, size_t from, int depth) {
  for (size_t i = from; i < items.size(); ++i) {
    if (i > from) out += ", ";
    repr_into(out, items[i], depth);
  }
}

void repr_into(std::string& out, const Value& v, int depth) {
  if (depth > kMaxReprDepth) throw_error("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
  switch (v.kind()) {
    case Kind::string:
      if (v.is_markup()) out += "Markup(" + str_repr(v.as_string()) + ")";
      else out += str_repr(v.as_string());
      return;
    case Kind::list:
      out += '[';
      repr_items(out, v.as_list(), 0, depth + 1);
      out += ']';
      return;
    case Kind::tuple:
      out += '(';
      repr_items(out, v.as_list(), 0, depth + 1);
      if (v.as_list().size() == 1) out += ',';
      out += ')';
      return;
    case Kind::dict: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.as_dict().items()) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, k, depth + 1);
        out += ": ";
        repr_into(out, x, depth + 1);
      }
      out += '}';
      return;
    }
    case Kind::iterator: {
      const IterData& it = v.as_iter();
      switch (it.kind) {
        case IterKind::generator: out += "<generator object>"; return;
        case IterKind::reversed: out += "<list_reverseiterator object>"; return;
        case IterKind::range:
          out += "range(" + int_to_string(it.range_start) + ", " + int_to_string(it.range_stop);
          if (it.range_step != 1) out += ", " + int_to_string(it.range_step);
          out += ')';
          return;
        case IterKind::dict_keys: out += "dict_keys(["; break;
        case IterKind::dict_values: out += "dict_values(["; break;
        case IterKind::dict_items: out += "dict_items(["; break;
      }
      repr_items(out, it.items, 0, depth + 1);
      out += "])";
      return;
    }
    case Kind::undefined:
      out += "Undefined";
      return;
    case Kind::object:
      out += v.as_object().repr();
      return;
    default:
      out += to_str(v);
  }
}

}  // namespace

Value Value::undefined(std::string message, bool security) {
  Value v;
  v.p_ = share(UndefinedInfo{std::move(message), security});
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::none;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::boolean;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::integer;
  v.i_ = i;
  return v;
}
Value Value::floating(double f) {
  Value v;
  v.kind_ = Kind::floating;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::string;
  v.b_ = false;
  v.p_ = share(std::move(s));
  return v;
}
Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.b_ = true;
  return v;
}
namespace {

int depth_of(const ValueList& items) {
  int d = 0;
  for (const Value& x : items) d = std::max(d, x.depth());
  if (d + 1 > kMaxValueDepth) throw_error("RecursionError", "value nested too deeply (limit " + std::to_string(kMaxValueDepth) + ")");
  return d + 1;
}

}  // namespace

Value Value::list(ValueList items) {
  Value v;
  v.kind_ = Kind::list;
  int d = depth_of(items);
  v.p_ = share(ListData{std::move(items), d});
  return v;
}
Value Value::tuple(ValueList items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::tuple;
  return v;
}
Value Value::dict(DictData d) {
  Value v;
  v.kind_ = Kind::dict;
  v.p_ = share(std::move(d));
  return v;
}
Value Value::iter(IterData it) {
  Value v;
  v.kind_ = Kind::iterator;
  it.depth = depth_of(it.items);
  v.p_ = share(std::move(it));
  return v;
}

int Value::depth() const {
  switch (kind_) {
    case Kind::list: case Kind::tuple: return static_cast<const ListData*>(p_.get())->depth;
    case Kind::dict: return as_dict().depth();
    case Kind::iterator: return as_iter().depth;
    default: return 0;
  }
}

void DictData::note_depth(const Value& key, const Value& value) {
  int d = std::max(key.depth(), value.depth()) + 1;
  if (d > kMaxValueDepth) throw_error("RecursionError", "value nested too deeply (limit " + std::to_string(kMaxValueDepth) + ")");
  depth_ = std::max(depth_, d);
}
Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::object;
  v.p_ = std::move(o);
  return v;
}

double Value::as_float() const {
  if (kind_ == Kind::floating) return f_;
  return static_cast<double>(as_int());
}

bool Value::same_as(const Value& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::undefined: return p_ == o.p_;
    case Kind::none: return true;
    case Kind::boolean: return b_ == o.b_;
    case Kind::integer: return i_ == o.i_ && i_ >= -5 && i_ <= 256;  // CPython's cached ints
    case Kind::floating: return false;
    default: return p_ == o.p_;
  }
}

Value Object::call(Interpreter&, CallArgs&) {
  type_error(std::string("'") + type_name() + "' object is not callable");
}

namespace {
constexpr size_t kIndexFrom = 16;  // dicts this large get a hash index of their string keys
}  // namespace

const DictData::Index* DictData::index() const {
  if (items_.size() < kIndexFrom) return nullptr;
  if (!index_) {
    auto idx = std::make_shared<Index>();
    idx->reserve(items_.size());
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i].first.is_string()) idx->emplace(items_[i].first.as_string(), i);
    index_ = std::move(idx);
  }
  return index_.get();
}

// Keeps the index in step with an appended item (or drops a shared one).
void DictData::indexed(size_t pos) {
  if (!index_) return;
  if (index_.use_count() > 1) {
    index_.reset();
    return;
  }
  if (items_[pos].first.is_string()) index_->emplace(items_[pos].first.as_string(), pos);
}

const Value* DictData::find(std::string_view key) const {
  if (const Index* idx = index()) {
    auto it = idx->find(key);
    return it == idx->end() ? nullptr : &items_[it->second].second;
  }
  for (const auto& [k, v] : items_)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

void DictData::append_unique(Value key, Value value) {
  note_depth(key, value);
  items_.emplace_back(std::move(key), std::move(value));
  indexed(items_.size() - 1);
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& [k, v] : items_)
    if (equals(k, key)) return &v;
  return nullptr;
}

void DictData::set(Value key, Value value) {
  note_depth(key, value);
  if (key.is_string() && index()) {
    if (const Value* v = find(std::string_view(key.as_string()))) {
      const_cast<Value&>(*v) = std::move(value);
      return;
    }
  } else {
    for (auto& [k, v] : items_) {
      if (equals(k, key)) {
        v = std::move(value);
        return;
      }
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
  indexed(items_.size() - 1);
}

const char* type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return v.is_markup() ? "Markup" : "str";
    case Kind::list: return "list";
    case Kind::tuple: return "tuple";
    case Kind::dict: return "dict";
    case Kind::iterator:
      switch (v.as_iter().kind) {
        case IterKind::generator: return "generator";
        case IterKind::reversed: return "list_reverseiterator";
        case IterKind::dict_keys: return "dict_keys";
        case IterKind::dict_values: return "dict_values";
        case IterKind::dict_items: return "dict_items";
        case IterKind::range: return "range";
      }
      return "iterator";
    case Kind::object: return v.as_object().type_name();
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_undefined()) return "jinja2.runtime.Undefined object";
  std::string name = type_name(v);
  if (name == "Namespace" || name == "Cycler" || name == "Joiner") return "jinja2.utils." + name + " object";
  if (name == "LoopContext" || name == "Macro") return "jinja2.runtime." + name + " object";
  return name + " object";
}

Value missing_attribute(const Value& obj, const std::string& name) {
  std::string msg = "'";
  msg += object_type_repr(obj);
  msg += "' has no attribute '";
  msg += name;
  msg += '\'';
  return Value::undefined(std::move(msg));
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: case Kind::none: return false;
    case Kind::boolean: return v.as_bool();
    case Kind::integer: return v.as_int() != 0;
    case Kind::floating: return v.as_float() != 0.0;
    case Kind::string: return !v.as_string().empty();
    case Kind::list: case Kind::tuple: return !v.as_list().empty();
    case Kind::dict: return v.as_dict().size() != 0;
    case Kind::iterator: return v.as_iter().single_pass() || !v.as_iter().items.empty();
    case Kind::object: return true;
  }
  return true;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return cmp_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::undefined: case Kind::none: return true;
    case Kind::string: return a.as_string() == b.as_string();
    case Kind::list: case Kind::tuple: {
      const auto &x = a.as_list(), &y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals(x[i], y[i])) return false;
      return true;
    }
    case Kind::dict: {
      const auto &x = a.as_dict(), &y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* w = y.find(k);
        if (!w || !equals(v, *w)) return false;
      }
      return true;
    }
    default: return a.same_as(b);
  }
}

bool compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) return apply_op(cmp_numbers(a, b), op);
  if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());
    return apply_op(c < 0 ? -1 : c > 0 ? 1 : 0, op);
  }
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const auto &x = a.as_list(), &y = b.as_list();
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i)
      if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
    return apply_op(x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0, op);
  }
  type_error(std::string("'").append(op) + "' not supported between instances of '" + type_name(a) +
             "' and '" + type_name(b) + "'");
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::undefined: return "";
    case Kind::none: return "None";
    case Kind::boolean: return v.as_bool() ? "True" : "False";
    case Kind::integer: return int_to_string(v.as_int());
    case Kind::floating: return float_repr(v.as_float());
    case Kind::string: return v.as_string();
    default: return repr(v);
  }
}

std::string repr(const Value& v) {
  std::string out;
  repr_into(out, v, 0);
  return out;
}

void fail_undefined(const Value& v) {
  const UndefinedInfo* info = v.undefined_info();
  if (!info) throw_error("UndefinedError", "undefined value");
  throw_error(info->security ? "SecurityError" : "UndefinedError", info->message);
}

}  // namespace uma::text::jinja
