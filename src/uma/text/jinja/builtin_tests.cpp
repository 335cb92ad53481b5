// Jinja2's tests (`x is defined`, `x is divisibleby 3`, ...).
#include <unordered_map>

#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/unicode.h"

namespace uma::text::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

// Python's message for a wrong argument count to test_<name>(value[, other]).
void check_count(CallArgs& a, const char* test, size_t params) {
  size_t given = a.args.size() + 1;
  if (!a.kwargs.empty() && params == 1)
    type_error(std::string("test_") + test + "() got an unexpected keyword argument '" + a.kwargs[0].first + "'");
  if (given > params) {
    std::string n = std::to_string(params);
    type_error(std::string("test_") + test + "() takes " + n + " positional argument" + (params == 1 ? "" : "s") +
               " but " + std::to_string(given) + " were given");
  }
}

const Value& arg(CallArgs& a, const char* test) {
  if (a.kwargs.empty()) check_count(a, test, 2);
  Params p(test, a, {"other"});
  if (!p.get(0)) type_error(std::string("test_") + test + "() missing 1 required positional argument");
  return *p.get(0);
}

void no_args(CallArgs& a, const char* test) { check_count(a, test, 1); }

bool mod_equals(const Value& v, const Value& m, int64_t want, size_t limit) {
  return equals(binary_op(BinOp::mod, v, m, limit), Value::integer(want));
}

bool t_defined(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "defined"), !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "undefined"), v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "none"), v.is_none(); }
bool t_boolean(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "boolean"), v.is_bool(); }
bool t_true(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "true"), v.is_bool() && v.as_bool(); }
bool t_false(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "false"), v.is_bool() && !v.as_bool(); }
bool t_integer(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "integer"), v.is_int(); }
bool t_float(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "float"), v.is_float(); }
bool t_number(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "number"), v.is_number(); }
bool t_string(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "string"), v.is_string(); }
bool t_mapping(Interpreter&, const Value& v, CallArgs& a) { return no_args(a, "mapping"), v.is_dict(); }
bool t_escaped(Interpreter&, const Value&, CallArgs& a) { return no_args(a, "escaped"), false; }

bool t_odd(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(a, "odd");
  return mod_equals(v, Value::integer(2), 1, in.config().max_output_bytes);
}
bool t_even(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(a, "even");
  return mod_equals(v, Value::integer(2), 0, in.config().max_output_bytes);
}
bool t_divisibleby(Interpreter& in, const Value& v, CallArgs& a) {
  return mod_equals(v, arg(a, "divisibleby"), 0, in.config().max_output_bytes);
}

bool t_lower(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(a, "lower");
  CallArgs none;
  return truthy(str_method(in, to_str(v), "islower", none));
}
bool t_upper(Interpreter& in, const Value& v, CallArgs& a) {
  no_args(a, "upper");
  CallArgs none;
  return truthy(str_method(in, to_str(v), "isupper", none));
}

// len(value) and value.__getitem__ both exist.
bool t_sequence(Interpreter&, const Value& v, CallArgs& a) {
  no_args(a, "sequence");
  if (v.is_iter()) return v.as_iter().kind == IterKind::range;
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
}

bool t_iterable(Interpreter&, const Value& v, CallArgs& a) {
  no_args(a, "iterable");
  if (v.is_object()) return std::string(v.as_object().type_name()) == "LoopContext";
  return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict() || v.is_iter();
}

bool t_callable(Interpreter&, const Value& v, CallArgs& a) {
  if (!a.args.empty() || !a.kwargs.empty())
    type_error("callable() takes exactly one argument (" + std::to_string(a.args.size() + 1) + " given)");
  return v.is_undefined() || (v.is_object() && v.as_object().callable());
}

bool t_sameas(Interpreter&, const Value& v, CallArgs& a) { return v.same_as(arg(a, "sameas")); }
bool t_in(Interpreter&, const Value& v, CallArgs& a) { return contains(arg(a, "in"), v); }
bool t_eq(Interpreter&, const Value& v, CallArgs& a) { return equals(v, arg(a, "eq")); }
bool t_ne(Interpreter&, const Value& v, CallArgs& a) { return !equals(v, arg(a, "ne")); }
bool t_lt(Interpreter&, const Value& v, CallArgs& a) { return compare(v, arg(a, "lt"), "<"); }
bool t_le(Interpreter&, const Value& v, CallArgs& a) { return compare(v, arg(a, "le"), "<="); }
bool t_gt(Interpreter&, const Value& v, CallArgs& a) { return compare(v, arg(a, "gt"), ">"); }
bool t_ge(Interpreter&, const Value& v, CallArgs& a) { return compare(v, arg(a, "ge"), ">="); }

bool t_filter(Interpreter&, const Value& v, CallArgs& a) {
  no_args(a, "filter");
  return v.is_string() && has_filter(v.as_string());
}
bool t_test(Interpreter&, const Value& v, CallArgs& a) {
  no_args(a, "test");
  return v.is_string() && has_test(v.as_string());
}

const std::unordered_map<std::string_view, TestFn>& table() {
  static const std::unordered_map<std::string_view, TestFn> t = {
      {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"boolean", t_boolean},
      {"true", t_true}, {"false", t_false}, {"integer", t_integer}, {"float", t_float},
      {"number", t_number}, {"string", t_string}, {"mapping", t_mapping}, {"escaped", t_escaped},
      {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby}, {"lower", t_lower},
      {"upper", t_upper}, {"sequence", t_sequence}, {"iterable", t_iterable}, {"callable", t_callable},
      {"sameas", t_sameas}, {"in", t_in}, {"==", t_eq}, {"eq", t_eq}, {"equalto", t_eq},
      {"!=", t_ne}, {"ne", t_ne}, {"<", t_lt}, {"lt", t_lt}, {"lessthan", t_lt}, {"<=", t_le},
      {"le", t_le}, {">", t_gt}, {"gt", t_gt}, {"greaterthan", t_gt}, {">=", t_ge}, {"ge", t_ge},
      {"filter", t_filter}, {"test", t_test}};
  return t;
}

}  // namespace

bool has_test(std::string_view name) { return table().count(name) != 0; }

bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = table().find(name);
  if (it == table().end()) runtime_error("No test named '" + name + "' found.");
  return it->second(in, input, args);
}

}  // namespace uma::text::jinja
