#include "uma/text/chat_template.h"

#include <new>

#include "uma/text/jinja/interpreter.h"
#include "uma/text/jinja/json.h"
#include "uma/text/jinja/parser.h"

namespace uma::text {

namespace {

std::string describe(const std::string& kind, const std::string& message, int line, int column) {
  std::string s = kind + ": " + message;
  if (line > 0) s += " (line " + std::to_string(line) + (column > 0 ? ", column " + std::to_string(column) : "") + ")";
  return s;
}

// Runs `f`, turning every failure into a TemplateError.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const jinja::JinjaError& e) {
    throw TemplateError(e.kind(), e.message(), e.line(), e.column());
  } catch (const TemplateError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw TemplateError("MemoryError", "out of memory while rendering the template", 0, 0);
  } catch (const std::exception& e) {
    throw TemplateError("InternalError", e.what(), 0, 0);
  }
}

}  // namespace

TemplateError::TemplateError(std::string kind, std::string message, int line, int column)
    : std::runtime_error(describe(kind, message, line, column)),
      kind_(std::move(kind)),
      message_(std::move(message)),
      line_(line),
      column_(column) {}

struct ChatTemplate::Impl {
  jinja::Body body;
  jinja::RenderConfig config;
};

ChatTemplate::ChatTemplate(const std::string& source, RenderLimits limits) : impl_(std::make_unique<Impl>()) {
  impl_->config.max_output_bytes = limits.max_output_bytes;
  impl_->config.max_loop_iterations = limits.max_loop_iterations;
  impl_->config.max_recursion_depth = limits.max_recursion_depth;
  impl_->body = guarded([&] { return jinja::parse_template(source); });
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::apply(const json& messages, const json& tools, bool add_generation_prompt,
                                const json& extra) const {
  if (!extra.is_null() && !extra.is_object())
    throw TemplateError("TypeError", "[chat_template] extra variables must be a JSON object", 0, 0);
  json context = json::object();
  context["messages"] = messages;
  context["tools"] = tools;
  context["documents"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) context[k] = v;
  return render(context);
}

std::string ChatTemplate::render(const json& context) const {
  if (!context.is_object() && !context.is_null())
    throw TemplateError("TypeError", "[chat_template] the render context must be a JSON object or null", 0, 0);
  return guarded([&] {
    jinja::Value vars = jinja::from_json(context);
    jinja::Interpreter interpreter(impl_->config);
    return interpreter.render(impl_->body, vars);
  });
}

void ChatTemplate::set_clock(std::function<std::chrono::system_clock::time_point()> clock) {
  impl_->config.clock = std::move(clock);
}

}  // namespace uma::text
