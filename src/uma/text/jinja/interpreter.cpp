#include "uma/text/jinja/interpreter.h"

#include "uma/text/jinja/builtins.h"
#include "uma/text/jinja/ops.h"

namespace uma::text::jinja {

namespace {

struct DepthGuard {
  int& depth;
  DepthGuard(int& d, int limit) : depth(d) {
    if (++depth > limit) {
      --depth;
      throw_error("RecursionError", "maximum recursion depth exceeded (limit " + std::to_string(limit) + ")");
    }
  }
  ~DepthGuard() { --depth; }
};

}  // namespace

std::string Interpreter::render(const Body& body, const Value& context) {
  struct Release {
    std::vector<std::shared_ptr<Object>>& owned;
    ~Release() {
      for (auto& o : owned) o->release();
      owned.clear();
    }
  } release{owned_};
  auto globals = std::make_shared<Frame>();
  install_globals(*globals);
  auto vars = std::make_shared<Frame>(globals);
  if (context.is_dict())
    for (const auto& [k, v] : context.as_dict().items())
      if (k.is_string()) vars->set(k.as_string(), v);
  auto top = std::make_shared<Frame>(vars);
  std::string out;
  exec_body(body, top, out);
  return out;
}

void Interpreter::check_size(size_t n) const {
  if (n > config_.max_output_bytes)
    throw_error("MemoryError", "output exceeds the limit of " + std::to_string(config_.max_output_bytes) + " bytes");
}

void Interpreter::append(std::string& out, std::string_view text) const {
  check_size(out.size() + text.size());
  out.append(text);
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const FramePtr& frame, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec(*s, frame, out);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const FramePtr& frame, std::string& out) {
  try {
    switch (s.kind) {
      case StmtKind::text:
        append(out, s.text);
        break;
      case StmtKind::print: {
        Value v = eval(*s.expr, frame);
        if (v.is_string()) append(out, v.as_string());
        else append(out, to_str(v));
        break;
      }
      case StmtKind::if_:
        return truthy(eval(*s.expr, frame)) ? exec_body(s.body, frame, out) : exec_body(s.else_body, frame, out);
      case StmtKind::for_:
        exec_for(s, frame, eval(*s.expr, frame), 0, out);
        break;
      case StmtKind::set: case StmtKind::set_block:
        exec_set(s, frame, out);
        break;
      case StmtKind::macro: {
        auto m = std::make_shared<Macro>(&s, frame, s.name);
        track(m);
        frame->set(s.name, Value::object(std::move(m)));
        break;
      }
      case StmtKind::call_block:
        exec_call_block(s, frame, out);
        break;
      case StmtKind::filter_block: {
        std::string body;
        exec_body(s.body, std::make_shared<Frame>(frame), body);
        // Apply the filter chain, innermost (first written) first.
        std::vector<const Expr*> chain;
        for (const Expr* f = s.expr.get(); f; f = f->a.get()) chain.push_back(f);
        Value v = Value::string(std::move(body));
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          CallArgs args;
          eval_args(**it, frame, args);
          v = apply_filter(*this, (*it)->name, v, args);
        }
        append(out, to_str(v));
        break;
      }
      case StmtKind::with: {
        auto inner = std::make_shared<Frame>(frame);
        for (size_t i = 0; i < s.targets.size(); ++i) assign(*s.targets[i], eval(*s.values[i], frame), inner);
        return exec_body(s.body, inner, out);
      }
      case StmtKind::scope:
        // Only {% autoescape %} has an expression; escaping output is not implemented.
        if (s.expr && truthy(eval(*s.expr, frame)))
          throw_error("NotImplementedError", "{% autoescape true %} is not supported (chat templates render unescaped)");
        exec_body(s.body, std::make_shared<Frame>(frame), out);
        break;
      case StmtKind::break_:
        return Flow::break_;
      case StmtKind::continue_:
        return Flow::continue_;
      case StmtKind::unsupported:
        type_error(s.text);
    }
  } catch (JinjaError& e) {
    e.locate(s.line, s.column);
    throw;
  }
  return Flow::normal;
}

void Interpreter::exec_for(const Stmt& s, const FramePtr& frame, const Value& iterable, int depth0, std::string& out) {
  std::shared_ptr<const ValueList> items = iterate(iterable).ptr();
  if (s.cond) {
    auto kept = std::make_shared<ValueList>();
    for (const Value& item : *items) {
      auto f = std::make_shared<Frame>(frame);
      assign(*s.target, item, f);
      if (truthy(eval(*s.cond, f))) kept->push_back(item);
    }
    items = std::move(kept);
  }
  // Not tracked: a loop only joins a cycle through a namespace, which is.
  auto loop = std::make_shared<Loop>(items, depth0, s.recursive ? &s : nullptr, frame);
  Value loop_value = Value::object(loop);
  // Jinja2 runs `else` unless some iteration reached the end of the body:
  // an iteration left by break or continue does not count.
  bool completed = false;
  for (size_t i = 0; i < items->size(); ++i) {
    if (++iterations_ > config_.max_loop_iterations)
      throw_error("RuntimeError", "loop iterations exceed the limit of " + std::to_string(config_.max_loop_iterations));
    auto f = std::make_shared<Frame>(frame);
    f->set("loop", loop_value);
    assign(*s.target, (*items)[i], f);
    loop->advance(i);
    Flow flow = exec_body(s.body, f, out);
    if (flow == Flow::break_) break;
    if (flow == Flow::normal) completed = true;
  }
  if (!completed && !s.else_body.empty()) exec_body(s.else_body, std::make_shared<Frame>(frame), out);
}

std::string Interpreter::render_loop(const Stmt& loop, const FramePtr& frame, const Value& iterable, int depth0) {
  DepthGuard guard(depth_, config_.max_recursion_depth);
  std::string out;
  exec_for(loop, frame, iterable, depth0, out);
  return out;
}

void Interpreter::exec_set(const Stmt& s, const FramePtr& frame, std::string& out) {
  if (s.kind == StmtKind::set) {
    assign(*s.target, eval(*s.expr, frame), frame);
    return;
  }
  std::string body;
  exec_body(s.body, std::make_shared<Frame>(frame), body);
  Value v = Value::string(std::move(body));
  if (s.expr) {
    std::vector<const Expr*> chain;
    for (const Expr* f = s.expr.get(); f; f = f->a.get()) chain.push_back(f);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      CallArgs args;
      eval_args(**it, frame, args);
      v = apply_filter(*this, (*it)->name, v, args);
    }
  }
  assign(*s.target, v, frame);
}

void Interpreter::exec_call_block(const Stmt& s, const FramePtr& frame, std::string& out) {
  const Expr& call_expr = *s.expr;
  Value callee = eval(*call_expr.a, frame);
  CallArgs args;
  eval_args(call_expr, frame, args);
  auto caller = std::make_shared<Macro>(&s, frame, "caller");
  track(caller);
  args.kwargs.emplace_back("caller", Value::object(std::move(caller)));
  Value r = call(callee, args);
  append(out, to_str(r));
}

void Interpreter::assign(const Expr& target, const Value& v, const FramePtr& frame) {
  switch (target.kind) {
    case ExprKind::name:
      frame->set(target.name, v);
      return;
    case ExprKind::nsref: {
      Value ns = lookup(target.name, frame);
      auto* obj = ns.is_object() ? dynamic_cast<Namespace*>(&ns.as_object()) : nullptr;
      if (!obj) runtime_error("cannot assign attribute on non-namespace object");
      obj->set(target.attr, v);
      return;
    }
    case ExprKind::tuple: {
      if (v.is_undefined()) fail_undefined(v);
      if (!v.is_string() && !v.is_list() && !v.is_tuple() && !v.is_dict() && !v.is_iter())
        type_error(std::string("cannot unpack non-iterable ") + type_name(v) + " object");
      auto items = iterate(v);
      size_t n = target.items.size();
      if (items->size() > n) value_error("too many values to unpack (expected " + std::to_string(n) + ")");
      if (items->size() < n)
        value_error("not enough values to unpack (expected " + std::to_string(n) + ", got " +
                    std::to_string(items->size()) + ")");
      for (size_t i = 0; i < n; ++i) assign(*target.items[i], (*items)[i], frame);
      return;
    }
    default:
      throw_error("TemplateSyntaxError", "can't assign to this expression");
  }
}

Value Interpreter::lookup(const std::string& name, const FramePtr& frame) const {
  if (const Value* v = frame->find(name)) return *v;
  return Value::undefined("'" + name + "' is undefined");
}

Value Interpreter::eval(const Expr& e, const FramePtr& frame) {
  try {
    return eval_inner(e, frame);
  } catch (JinjaError& err) {
    err.locate(e.line, e.column);
    throw;
  }
}

Value Interpreter::eval_inner(const Expr& e, const FramePtr& frame) {
  switch (e.kind) {
    case ExprKind::constant:
      return e.constant;
    case ExprKind::name:
      return lookup(e.name, frame);
    case ExprKind::nsref:
      return getattr(lookup(e.name, frame), e.attr);
    case ExprKind::tuple: case ExprKind::list: {
      ValueList items;
      items.reserve(e.items.size());
      for (const auto& x : e.items) items.push_back(eval(*x, frame));
      return e.kind == ExprKind::list ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::dict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value k = eval(*e.items[i], frame);
        if (k.is_list() || k.is_dict()) type_error(std::string("unhashable type: '") + type_name(k) + "'");
        d.set(std::move(k), eval(*e.items[i + 1], frame));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::getattr:
      return getattr(eval(*e.a, frame), e.name);
    case ExprKind::getitem:
      return eval_getitem(e, frame);
    case ExprKind::slice:
      type_error("slices are only supported in subscripts");
    case ExprKind::call:
      return eval_call(e, frame);
    case ExprKind::filter: {
      Value input = e.a ? eval(*e.a, frame) : Value::none();
      CallArgs args;
      eval_args(e, frame, args);
      return apply_filter(*this, e.name, input, args);
    }
    case ExprKind::test: {
      Value input = eval(*e.a, frame);
      CallArgs args;
      eval_args(e, frame, args);
      return Value::boolean(apply_test(*this, e.name, input, args));
    }
    case ExprKind::cond:
      if (truthy(eval(*e.b, frame))) return eval(*e.a, frame);
      if (e.c) return eval(*e.c, frame);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    case ExprKind::and_: {
      Value l = eval(*e.a, frame);
      return truthy(l) ? eval(*e.b, frame) : l;
    }
    case ExprKind::or_: {
      Value l = eval(*e.a, frame);
      return truthy(l) ? l : eval(*e.b, frame);
    }
    case ExprKind::not_:
      return Value::boolean(!truthy(eval(*e.a, frame)));
    case ExprKind::neg: case ExprKind::pos:
      return unary_op(e.kind == ExprKind::neg, eval(*e.a, frame));
    case ExprKind::binop: {
      Value a = eval(*e.a, frame);
      Value b = eval(*e.b, frame);
      return binary_op(e.binop, a, b, config_.max_output_bytes);
    }
    case ExprKind::concat: {
      std::string out;
      for (const auto& x : e.items) {
        Value v = eval(*x, frame);
        append(out, v.is_string() ? v.as_string() : to_str(v));
      }
      return Value::string(std::move(out));
    }
    case ExprKind::compare:
      return eval_compare(e, frame);
  }
  return Value::none();
}

Value Interpreter::eval_compare(const Expr& e, const FramePtr& frame) {
  Value left = eval(*e.a, frame);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.items[i], frame);
    bool ok;
    switch (e.ops[i]) {
      case CmpOp::eq: ok = equals(left, right); break;
      case CmpOp::ne: ok = !equals(left, right); break;
      case CmpOp::lt: ok = compare(left, right, "<"); break;
      case CmpOp::le: ok = compare(left, right, "<="); break;
      case CmpOp::gt: ok = compare(left, right, ">"); break;
      case CmpOp::ge: ok = compare(left, right, ">="); break;
      case CmpOp::in: ok = contains(right, left); break;
      case CmpOp::notin: ok = !contains(right, left); break;
    }
    if (!ok) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Value Interpreter::eval_getitem(const Expr& e, const FramePtr& frame) {
  Value obj = eval(*e.a, frame);
  const Expr& key = *e.b;
  if (key.kind == ExprKind::slice) {
    auto bound = [&](const ExprPtr& x) { return x ? eval(*x, frame) : Value::none(); };
    Value start = bound(key.a), stop = bound(key.b), step = bound(key.c);
    if (obj.is_undefined()) fail_undefined(obj);
    if (auto r = slice(obj, start, stop, step)) return *r;
    return Value::undefined(object_type_repr(obj) + " has no element slice(" + repr(start) + ", " + repr(stop) +
                            ", " + repr(step) + ")");
  }
  return getitem(obj, eval(key, frame));
}

void Interpreter::eval_args(const Expr& e, const FramePtr& frame, CallArgs& out) {
  for (const auto& x : e.items) out.args.push_back(eval(*x, frame));
  for (const auto& k : e.kwargs) out.kwargs.emplace_back(k.name, eval(*k.value, frame));
  if (e.dyn_args) {
    Value v = eval(*e.dyn_args, frame);
    for (const Value& x : iterate(v)) out.args.push_back(x);
  }
  if (e.dyn_kwargs) {
    Value v = eval(*e.dyn_kwargs, frame);
    if (!v.is_dict()) type_error(std::string("argument after ** must be a mapping, not ") + type_name(v));
    for (const auto& [k, x] : v.as_dict().items()) {
      if (!k.is_string()) type_error("keywords must be strings");
      out.kwargs.emplace_back(k.as_string(), x);
    }
  }
}

Value Interpreter::eval_call(const Expr& e, const FramePtr& frame) {
  Value callee = eval(*e.a, frame);
  CallArgs args;
  eval_args(e, frame, args);
  return call(callee, args);
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (callee.is_object() && callee.as_object().callable()) {
    DepthGuard guard(depth_, config_.max_recursion_depth);
    return callee.as_object().call(*this, args);
  }
  type_error(std::string("'") + type_name(callee) + "' object is not callable");
}

Value Interpreter::call_macro(const Macro& m, CallArgs& call_args) {
  const Stmt& def = m.def();
  const auto& params = def.params;
  size_t n = params.size();
  auto f = std::make_shared<Frame>(m.closure());
  auto& args = call_args.args;
  auto& kwargs = call_args.kwargs;
  auto pop_kwarg = [&](const std::string& name) -> std::optional<Value> {
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
      if (it->first == name) {
        Value v = std::move(it->second);
        kwargs.erase(it);
        return v;
      }
    }
    return std::nullopt;
  };
  std::vector<std::optional<Value>> bound(n);
  for (size_t i = 0; i < n && i < args.size(); ++i) bound[i] = args[i];
  bool explicit_caller = std::find(params.begin(), params.end(), "caller") != params.end();
  bool found_caller = args.size() >= n ? explicit_caller : false;
  for (size_t i = args.size(); i < n; ++i) {
    bound[i] = pop_kwarg(params[i]);
    if (params[i] == "caller") found_caller = true;
  }
  if (def.uses_caller && !found_caller) {
    auto caller = pop_kwarg("caller");
    f->set("caller", caller ? *caller : Value::undefined("No caller defined"));
  }
  if (def.uses_kwargs) {
    DictData d;
    for (auto& [k, v] : kwargs) d.set(Value::string(k), v);
    f->set("kwargs", Value::dict(std::move(d)));
  } else if (!kwargs.empty()) {
    for (const auto& kv : kwargs)
      if (kv.first == "caller")
        type_error("macro '" + m.name() + "' was invoked with two values for the special caller argument. This is most likely a bug.");
    type_error("macro '" + m.name() + "' takes no keyword argument '" + kwargs.front().first + "'");
  }
  if (def.uses_varargs) {
    ValueList rest;
    for (size_t i = n; i < args.size(); ++i) rest.push_back(args[i]);
    f->set("varargs", Value::tuple(std::move(rest)));
  } else if (args.size() > n) {
    type_error("macro '" + m.name() + "' takes not more than " + std::to_string(n) + " argument(s)");
  }
  size_t first_default = n - def.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (bound[i]) f->set(params[i], *bound[i]);
    else if (i >= first_default) f->set(params[i], eval(*def.defaults[i - first_default], f));
    else f->set(params[i], Value::undefined("parameter '" + params[i] + "' was not provided"));
  }
  std::string out;
  exec_body(def.body, f, out);
  return Value::string(std::move(out));
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (auto v = python_attr(obj, name)) return *v;
  if (auto v = subscript(obj, Value::string(name))) return *v;
  return missing_attribute(obj, name);
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (auto v = subscript(obj, key)) return *v;
  if (key.is_string()) {
    if (auto v = python_attr(obj, key.as_string())) return *v;
    return missing_attribute(obj, key.as_string());
  }
  return Value::undefined(object_type_repr(obj) + " has no element " + repr(key));
}

}  // namespace uma::text::jinja
