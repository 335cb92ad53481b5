// Tree-walking evaluator of a parsed template with Jinja2's runtime
// semantics under transformers' ImmutableSandboxedEnvironment.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "uma/text/jinja/ast.h"
#include "uma/text/jinja/objects.h"

namespace uma::text::jinja {

struct RenderConfig {
  size_t max_output_bytes = 64u << 20;
  size_t max_loop_iterations = 10'000'000;
  int max_recursion_depth = 256;
  std::function<std::chrono::system_clock::time_point()> clock;
};

class Interpreter {
 public:
  explicit Interpreter(const RenderConfig& config) : config_(config) {}

  // Renders `body` with the variables of `context` (a dict).
  std::string render(const Body& body, const Value& context);

  Value eval(const Expr& e, const FramePtr& frame);
  Value call(const Value& callee, CallArgs& args);
  // Jinja's environment.getattr / getitem under the sandbox.
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  Value call_macro(const Macro& m, CallArgs& args);
  std::string render_loop(const Stmt& loop, const FramePtr& frame, const Value& iterable, int depth0);
  // Fails when a produced string or list would exceed the output limit.
  void check_size(size_t n) const;
  // Keeps an object that may take part in a reference cycle; released after the render.
  void track(std::shared_ptr<Object> o) { owned_.push_back(std::move(o)); }
  const RenderConfig& config() const { return config_; }

 private:
  enum class Flow { normal, break_, continue_ };

  Flow exec_body(const Body& body, const FramePtr& frame, std::string& out);
  Flow exec(const Stmt& s, const FramePtr& frame, std::string& out);
  void exec_for(const Stmt& s, const FramePtr& frame, const Value& iterable, int depth0, std::string& out);
  void exec_set(const Stmt& s, const FramePtr& frame, std::string& out);
  void exec_call_block(const Stmt& s, const FramePtr& frame, std::string& out);
  void assign(const Expr& target, const Value& v, const FramePtr& frame);
  Value eval_inner(const Expr& e, const FramePtr& frame);
  Value eval_call(const Expr& e, const FramePtr& frame);
  void eval_args(const Expr& e, const FramePtr& frame, CallArgs& out);
  Value eval_compare(const Expr& e, const FramePtr& frame);
  Value eval_getitem(const Expr& e, const FramePtr& frame);
  Value lookup(const std::string& name, const FramePtr& frame) const;
  void append(std::string& out, std::string_view text) const;

  const RenderConfig& config_;
  std::vector<std::shared_ptr<Object>> owned_;
  size_t iterations_ = 0;
  int depth_ = 0;
};

}  // namespace uma::text::jinja
