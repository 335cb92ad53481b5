#include "uma/text/jinja/objects.h"

#include "uma/text/jinja/ast.h"
#include "uma/text/jinja/interpreter.h"

namespace uma::text::jinja {

std::string Namespace::repr() const { return "<Namespace " + jinja::repr(Value::dict(attrs_)) + ">"; }

std::optional<Value> Namespace::attr(const std::string& name) {
  if (const Value* v = attrs_.find(name)) return *v;
  return std::nullopt;
}

std::optional<Value> Macro::attr(const std::string& name) {
  if (name == "name") return Value::string(name_);
  if (name == "arguments") {
    ValueList params;
    for (const auto& p : def_->params) params.push_back(Value::string(p));
    return Value::tuple(std::move(params));
  }
  if (name == "catch_kwargs") return Value::boolean(def_->uses_kwargs);
  if (name == "catch_varargs") return Value::boolean(def_->uses_varargs);
  if (name == "caller") return Value::boolean(def_->uses_caller);
  return std::nullopt;
}

Value Macro::call(Interpreter& in, CallArgs& args) { return in.call_macro(*this, args); }

std::string Loop::repr() const {
  return "<LoopContext " + std::to_string(index0_ + 1) + "/" + std::to_string(items_->size()) + ">";
}

std::optional<Value> Loop::attr(const std::string& name) {
  const auto n = static_cast<int64_t>(items_->size());
  const auto i = static_cast<int64_t>(index0_);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(depth0_ + 1);
  if (name == "depth0") return Value::integer(depth0_);
  if (name == "previtem")
    return i > 0 ? (*items_)[i - 1] : Value::undefined("there is no previous item");
  if (name == "nextitem")
    return i + 1 < n ? (*items_)[i + 1] : Value::undefined("there is no next item");
  if (name == "cycle") {
    size_t idx = index0_;
    return make_function("cycle", [idx](Interpreter&, CallArgs& a) {
      if (a.args.empty()) type_error("no items for cycling given");
      return a.args[idx % a.args.size()];
    });
  }
  if (name == "changed") {
    auto self = std::static_pointer_cast<Loop>(shared_from_this());
    return make_function("changed", [self](Interpreter&, CallArgs& a) {
      if (self->last_changed_ && self->last_changed_->size() == a.args.size()) {
        bool same = true;
        for (size_t k = 0; k < a.args.size() && same; ++k) same = equals((*self->last_changed_)[k], a.args[k]);
        if (same) return Value::boolean(false);
      }
      self->last_changed_ = a.args;
      return Value::boolean(true);
    });
  }
  return std::nullopt;
}

Value Loop::call(Interpreter& in, CallArgs& args) {
  if (!def_) type_error("The loop must have the 'recursive' marker to be called recursively.");
  if (args.args.size() != 1 || !args.kwargs.empty()) type_error("loop() takes exactly one argument");
  return Value::string(in.render_loop(*def_, frame_, args.args[0], depth0_ + 1));
}

std::optional<Value> Cycler::attr(const std::string& name) {
  if (name == "current") return items_[pos_];
  if (name == "next") {
    auto self = std::static_pointer_cast<Cycler>(shared_from_this());
    return make_function("next", [self](Interpreter&, CallArgs&) {
      Value v = self->items_[self->pos_];
      self->pos_ = (self->pos_ + 1) % self->items_.size();
      return v;
    });
  }
  if (name == "reset") {
    auto self = std::static_pointer_cast<Cycler>(shared_from_this());
    return make_function("reset", [self](Interpreter&, CallArgs&) {
      self->pos_ = 0;
      return Value::none();
    });
  }
  if (name == "items") return Value::tuple(items_);
  return std::nullopt;
}

}  // namespace uma::text::jinja
