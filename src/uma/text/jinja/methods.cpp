// Python attribute lookup on plain values: bound methods of str, list, tuple
// and dict, with the ImmutableSandboxedEnvironment's refusal of mutators.
#include <algorithm>
#include <array>
#include <cmath>

#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/ops.h"

namespace uma::text::jinja {

namespace {

template <size_t N>
bool in(const std::array<const char*, N>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

constexpr std::array<const char*, 8> kListMutators = {"append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"};
constexpr std::array<const char*, 5> kDictMutators = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::array<const char*, 14> kDunders = {"__class__", "__dict__", "__doc__", "__init__", "__len__",
                                                  "__getitem__", "__iter__", "__str__", "__repr__", "__module__",
                                                  "__subclasses__", "__mro__", "__bases__", "__globals__"};

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.", true);
}

Value list_index(const ValueList& items, CallArgs& a, const char* type) {
  Params p("index", a, {"value", "start", "stop"});
  if (!p.get(0)) type_error("index expected at least 1 argument, got 0");
  auto n = static_cast<int64_t>(items.size());
  auto clamp = [&](const Value* v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = to_index(*v, "index");
    if (i < 0) i = std::max<int64_t>(0, i + n);
    return std::min(i, n);
  };
  int64_t start = clamp(p.get(1), 0), stop = clamp(p.get(2), n);
  for (int64_t i = start; i < stop; ++i)
    if (equals(items[i], *p.get(0))) return Value::integer(i);
  value_error(std::string(type) == "list" ? repr(*p.get(0)) + " is not in list" : "tuple.index(x): x not in tuple");
}

Value list_method(const Value& obj, const std::string& name) {
  return make_function(name, [obj, name](Interpreter&, CallArgs& a) -> Value {
    const ValueList& items = obj.as_list();
    if (name == "index") return list_index(items, a, type_name(obj));
    if (name == "count") {
      Params p("count", a, {"value"});
      if (!p.get(0)) type_error("count() takes exactly one argument (0 given)");
      return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& x) { return equals(x, *p.get(0)); }));
    }
    Params p("copy", a, {});
    return Value::list(items);
  });
}

Value dict_view(const Value& obj, IterKind kind) {
  IterData it;
  it.kind = kind;
  for (const auto& [k, v] : obj.as_dict().items()) {
    if (kind == IterKind::dict_keys) it.items.push_back(k);
    else if (kind == IterKind::dict_values) it.items.push_back(v);
    else it.items.push_back(Value::tuple({k, v}));
  }
  return Value::iter(std::move(it));
}

Value dict_method(const Value& obj, const std::string& name) {
  return make_function(name, [obj, name](Interpreter&, CallArgs& a) -> Value {
    if (name == "get") {
      Params p("get", a, {"key", "default"});
      if (!p.get(0)) type_error("get expected at least 1 argument, got 0");
      if (p.get(0)->is_list() || p.get(0)->is_dict()) type_error(std::string("unhashable type: '") + type_name(*p.get(0)) + "'");
      const Value* v = obj.as_dict().find(*p.get(0));
      return v ? *v : p.get_or(1, Value::none());
    }
    Params p(name.c_str(), a, {});
    if (name == "items") return dict_view(obj, IterKind::dict_items);
    if (name == "keys") return dict_view(obj, IterKind::dict_keys);
    if (name == "values") return dict_view(obj, IterKind::dict_values);
    return Value::dict(obj.as_dict());  // copy
  });
}

}  // namespace

std::optional<Value> python_attr(const Value& obj, const std::string& name) {
  if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0) {
    if (in(kDunders, name)) return unsafe(obj, name);
    return std::nullopt;
  }
  switch (obj.kind()) {
    case Kind::string:
      return str_attr(obj, name);
    case Kind::list:
      if (in(kListMutators, name)) return unsafe(obj, name);
      if (name == "index" || name == "count" || name == "copy") return list_method(obj, name);
      return std::nullopt;
    case Kind::tuple:
      if (name == "index" || name == "count") return list_method(obj, name);
      // groupby's (grouper, list) pairs are named tuples in Jinja2.
      if (obj.as_list().size() == 2 && (name == "grouper" || name == "list")) return obj.as_list()[name == "list"];
      return std::nullopt;
    case Kind::dict:
      if (in(kDictMutators, name)) return unsafe(obj, name);
      if (name == "items" || name == "keys" || name == "values" || name == "get" || name == "copy")
        return dict_method(obj, name);
      return std::nullopt;
    case Kind::object:
      return obj.as_object().attr(name);
    case Kind::iterator:
      if (obj.as_iter().kind == IterKind::range && (name == "index" || name == "count")) {
        Value items = Value::tuple(obj.as_iter().items);
        return list_method(items, name);
      }
      if (obj.as_iter().kind == IterKind::range && (name == "start" || name == "stop" || name == "step"))
        return Value::integer(name == "start" ? obj.as_iter().range_start
                              : name == "stop" ? obj.as_iter().range_stop : obj.as_iter().range_step);
      return std::nullopt;
    case Kind::integer: case Kind::boolean:
      if (name == "real" || name == "numerator") return Value::integer(obj.as_int());
      if (name == "imag") return Value::integer(0);
      if (name == "denominator") return Value::integer(1);
      return std::nullopt;
    case Kind::floating:
      if (name == "real") return obj;
      if (name == "imag") return Value::floating(0);
      if (name == "is_integer")
        return make_function("is_integer", [obj](Interpreter&, CallArgs&) {
          double f = obj.as_float();
          return Value::boolean(std::isfinite(f) && std::floor(f) == f);
        });
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace uma::text::jinja
