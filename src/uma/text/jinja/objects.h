// Scopes and the objects templates see besides plain data: namespace(),
// loop, macros, cycler(), joiner() and native functions (filters' helpers,
// bound str/list/dict methods, globals).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "uma/text/jinja/value.h"

namespace uma::text::jinja {

struct Stmt;

// One scope: a for-loop iteration, a macro call, a with/filter/set block or
// the template's top level. Lookups walk the parents; assignments stay here.
struct Frame {
  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string, Value>> vars;

  explicit Frame(std::shared_ptr<Frame> parent_frame = nullptr) : parent(std::move(parent_frame)) {}
  const Value* find(std::string_view name) const {
    for (const Frame* f = this; f; f = f->parent.get())
      for (const auto& [k, v] : f->vars)
        if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value v) {
    for (auto& [k, x] : vars)
      if (k == name) {
        x = std::move(v);
        return;
      }
    vars.emplace_back(name, std::move(v));
  }
};
using FramePtr = std::shared_ptr<Frame>;

class Function : public Object {
 public:
  using Fn = std::function<Value(Interpreter&, CallArgs&)>;
  Function(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  const char* type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }
  bool callable() const override { return true; }
  Value call(Interpreter& in, CallArgs& args) override { return fn_(in, args); }

 private:
  std::string name_;
  Fn fn_;
};

inline Value make_function(std::string name, Function::Fn fn) {
  return Value::object(std::make_shared<Function>(std::move(name), std::move(fn)));
}

class Namespace : public Object {
 public:
  const char* type_name() const override { return "Namespace"; }
  std::string repr() const override;
  std::optional<Value> attr(const std::string& name) override;
  void set(const std::string& name, Value v) { attrs_.set(Value::string(name), std::move(v)); }
  DictData& attrs() { return attrs_; }
  void release() override { attrs_ = DictData(); }

 private:
  DictData attrs_;
};

class Macro : public Object {
 public:
  Macro(const Stmt* def, FramePtr closure, std::string name) : def_(def), closure_(std::move(closure)), name_(std::move(name)) {}
  const char* type_name() const override { return "Macro"; }
  std::string repr() const override { return "<Macro '" + name_ + "'>"; }
  std::optional<Value> attr(const std::string& name) override;
  bool callable() const override { return true; }
  Value call(Interpreter& in, CallArgs& args) override;
  const Stmt& def() const { return *def_; }
  const FramePtr& closure() const { return closure_; }
  const std::string& name() const { return name_; }
  void release() override { closure_.reset(); }

 private:
  const Stmt* def_;
  FramePtr closure_;
  std::string name_;
};

class Loop : public Object {
 public:
  Loop(std::shared_ptr<const ValueList> items, int depth0, const Stmt* recursive_def, FramePtr frame)
      : items_(std::move(items)), depth0_(depth0), def_(recursive_def), frame_(std::move(frame)) {}
  const char* type_name() const override { return "LoopContext"; }
  std::string repr() const override;
  std::optional<Value> attr(const std::string& name) override;
  bool callable() const override { return true; }
  Value call(Interpreter& in, CallArgs& args) override;
  void advance(size_t i) { index0_ = i; }
  void release() override { frame_.reset(); }

 private:
  std::shared_ptr<const ValueList> items_;
  size_t index0_ = 0;
  int depth0_;
  const Stmt* def_;  // the loop, when it is marked recursive
  FramePtr frame_;   // where the loop runs, for recursive calls
  std::optional<ValueList> last_changed_;
};

class Cycler : public Object {
 public:
  explicit Cycler(ValueList items) : items_(std::move(items)) {}
  const char* type_name() const override { return "Cycler"; }
  std::string repr() const override { return "<jinja2.utils.Cycler object>"; }
  std::optional<Value> attr(const std::string& name) override;

 private:
  ValueList items_;
  size_t pos_ = 0;
};

class Joiner : public Object {
 public:
  explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
  const char* type_name() const override { return "Joiner"; }
  std::string repr() const override { return "<jinja2.utils.Joiner object>"; }
  bool callable() const override { return true; }
  Value call(Interpreter&, CallArgs&) override {
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }

 private:
  std::string sep_;
  bool used_ = false;
};

}  // namespace uma::text::jinja
