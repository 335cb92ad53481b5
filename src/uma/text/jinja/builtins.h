// Registries of Jinja2's built-in filters, tests, globals and the Python
// methods of str, list and dict that templates call.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "uma/text/jinja/interpreter.h"

namespace uma::text::jinja {

bool has_filter(std::string_view name);
bool has_test(std::string_view name);
Value apply_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);

// Python attribute lookup on a plain value (a bound method of str, list,
// dict, ...). Mutating list/dict methods come back as an undefined that
// raises SecurityError, as in the ImmutableSandboxedEnvironment.
std::optional<Value> python_attr(const Value& obj, const std::string& name);
Value str_method(Interpreter& in, const std::string& s, const std::string& name, CallArgs& args);
std::optional<Value> str_attr(const Value& obj, const std::string& name);

// Python str helpers shared with the filters.
std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right);
ValueList py_splitlines(const std::string& s, bool keepends);

// range, dict, namespace, cycler, joiner, raise_exception, strftime_now.
void install_globals(Frame& globals);

// Binds call arguments to parameter names like a Python signature.
class Params {
 public:
  Params(const char* func, CallArgs& args, std::initializer_list<const char*> names, bool extra_ok = false);
  const Value* get(size_t i) const { return i < bound_.size() ? bound_[i] : nullptr; }
  Value get_or(size_t i, Value fallback) const { return get(i) ? *get(i) : std::move(fallback); }

 private:
  std::vector<const Value*> bound_;
};

// Python int(v) for use as a count or index (bool/int; float truncates when allowed).
int64_t to_index(const Value& v, const char* what);

}  // namespace uma::text::jinja
