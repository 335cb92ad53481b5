// Template globals (range, dict, namespace, cycler, joiner, raise_exception,
// strftime_now) and the argument-binding helpers shared by the builtins.
#include <ctime>

#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/ops.h"
#include "uma/text/jinja/pyformat.h"

namespace uma::text::jinja {

Params::Params(const char* func, CallArgs& args, std::initializer_list<const char*> names, bool extra_ok) {
  std::vector<const char*> params(names);
  bound_.assign(params.size(), nullptr);
  if (args.args.size() > params.size() && !extra_ok)
    type_error(std::string(func) + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
               std::to_string(args.args.size()) + " given)");
  for (size_t i = 0; i < args.args.size() && i < params.size(); ++i) bound_[i] = &args.args[i];
  for (const auto& [k, v] : args.kwargs) {
    size_t i = 0;
    while (i < params.size() && k != params[i]) ++i;
    if (i == params.size()) {
      if (extra_ok) continue;
      type_error(std::string(func) + "() got an unexpected keyword argument '" + k + "'");
    }
    if (bound_[i]) type_error(std::string(func) + "() got multiple values for argument '" + k + "'");
    bound_[i] = &v;
  }
}

int64_t to_index(const Value& v, const char* what) {
  if (v.is_integral()) return v.as_int();
  if (v.is_undefined()) fail_undefined(v);
  type_error(std::string("'") + type_name(v) + "' object cannot be interpreted as an integer (" + what + ")");
}

namespace {

constexpr int64_t kMaxRange = 100000;

Value make_range(Interpreter&, CallArgs& a) {
  if (!a.kwargs.empty()) type_error("range() takes no keyword arguments");
  if (a.args.empty() || a.args.size() > 3)
    type_error("range expected at most 3 arguments, got " + std::to_string(a.args.size()));
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = to_index(a.args[0], "range");
  } else {
    start = to_index(a.args[0], "range");
    stop = to_index(a.args[1], "range");
    if (a.args.size() == 3) step = to_index(a.args[2], "range");
  }
  if (step == 0) value_error("range() arg 3 must not be zero");
  IterData it;
  it.kind = IterKind::range;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(it.items.size()) >= kMaxRange)
      throw_error("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    it.items.push_back(Value::integer(i));
  }
  it.range_start = start;
  it.range_stop = stop;
  it.range_step = step;
  return Value::iter(std::move(it));
}

// dict(*args, **kwargs) as Python builds it.
DictData build_dict(CallArgs& a, const char* func) {
  if (a.args.size() > 1)
    type_error(std::string(func) + " expected at most 1 argument, got " + std::to_string(a.args.size()));
  DictData d;
  if (a.args.size() == 1) {
    const Value& src = a.args[0];
    if (src.is_dict()) {
      d = src.as_dict();
    } else {
      for (const Value& item : iterate(src)) {
        auto pair = iterate(item);
        if (pair->size() != 2)
          value_error("dictionary update sequence element has length " + std::to_string(pair->size()) +
                      "; 2 is required");
        d.set((*pair)[0], (*pair)[1]);
      }
    }
  }
  for (const auto& [k, v] : a.kwargs) d.set(Value::string(k), v);
  return d;
}

Value strftime_now(Interpreter& in, CallArgs& a) {
  Params p("strftime_now", a, {"format"});
  if (!p.get(0)) type_error("strftime_now() missing 1 required positional argument: 'format'");
  if (!p.get(0)->is_string()) type_error("strftime() argument 1 must be str, not " + std::string(type_name(*p.get(0))));
  auto now = in.config().clock ? in.config().clock() : std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  const std::string& fmt = p.get(0)->as_string();
  if (fmt.empty()) return Value::string("");
  // strftime returns 0 both for "too small" and for an empty result: grow, then give up.
  for (size_t cap = 128 + fmt.size() * 4; cap <= (1u << 20); cap *= 4) {
    std::string buf(cap, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    if (n > 0) {
      buf.resize(n);
      return Value::string(std::move(buf));
    }
  }
  return Value::string("");
}

}  // namespace

void install_globals(Frame& g) {
  g.set("range", make_function("range", make_range));
  g.set("dict", make_function("dict", [](Interpreter&, CallArgs& a) { return Value::dict(build_dict(a, "dict")); }));
  g.set("namespace", make_function("namespace", [](Interpreter& in, CallArgs& a) {
          auto ns = std::make_shared<Namespace>();
          in.track(ns);
          ns->attrs() = build_dict(a, "namespace");
          return Value::object(ns);
        }));
  g.set("cycler", make_function("cycler", [](Interpreter&, CallArgs& a) {
          if (a.args.empty()) throw_error("RuntimeError", "at least one item has to be provided");
          return Value::object(std::make_shared<Cycler>(a.args));
        }));
  g.set("joiner", make_function("joiner", [](Interpreter&, CallArgs& a) {
          Params p("joiner", a, {"sep"});
          return Value::object(std::make_shared<Joiner>(p.get(0) ? to_str(*p.get(0)) : ", "));
        }));
  g.set("raise_exception", make_function("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
          Params p("raise_exception", a, {"message"});
          throw JinjaError("TemplateError", p.get(0) ? to_str(*p.get(0)) : "");
        }));
  g.set("strftime_now", make_function("strftime_now", strftime_now));
}

}  // namespace uma::text::jinja
