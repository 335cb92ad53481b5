// Chat templates: a sandboxed Jinja2 engine that renders Hugging Face chat
// templates exactly as transformers' `apply_chat_template` does
// (trim_blocks, lstrip_blocks, loop controls, tojson, raise_exception,
// strftime_now).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace uma::text {

using json = nlohmann::ordered_json;

// Thrown for a syntax error (message names line and column), for a
// `raise_exception(...)` call in the template, for a runtime error (undefined
// attribute, type error, ...) and for a sandbox limit. what() reads
// "<kind>: <message> (line L, column C)".
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  TemplateError(std::string kind, std::string message, int line, int column);

  // The Python exception class Jinja2 would raise under transformers:
  // "TemplateSyntaxError", "UndefinedError", "TypeError", "SecurityError",
  // "TemplateError" (raise_exception), "MemoryError"/"RuntimeError" (limits), ...
  const std::string& kind() const { return kind_; }
  // The message alone, as str(exception) in Python.
  const std::string& message() const { return message_; }
  // Position in the template (1-based; 0 when unknown).
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string kind_ = "TemplateError";
  std::string message_;
  int line_ = 0, column_ = 0;
};

// Sandbox limits of one render; exceeding one raises TemplateError.
struct RenderLimits {
  size_t max_output_bytes = 64u << 20;       // also bounds any string or list built
  size_t max_loop_iterations = 10'000'000;   // for-loop iterations, all loops together
  int max_recursion_depth = 256;             // nested macro, function and recursive-loop calls
};

// A parsed chat template. Rendering matches transformers' Jinja2 set-up
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
// its tojson, raise_exception, strftime_now and the {% generation %} tag):
// same whitespace, same Python str() of values, same errors. Not supported:
// include/extends/import (no loader, as in transformers), {% autoescape
// true %}, the urlize and wordwrap filters and the lipsum global (each a
// TemplateError), and integers beyond 64 bits (an OverflowError; JSON input
// integers beyond int64 arrive as floats).
//
// apply() and render() are const and may run concurrently on one template;
// set_clock() must not race with them. Parsing and rendering use up to about
// 1 MiB of stack at the default limits (a thread's default 8 MiB is ample).
class ChatTemplate {
 public:
  // Parses once; throws TemplateError on a syntax error.
  explicit ChatTemplate(const std::string& source, RenderLimits limits = {});
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with the variables transformers passes: `messages`, `tools` and
  // `documents` (None when null, as transformers passes them),
  // `add_generation_prompt`, then every key of `extra` (bos_token, eos_token,
  // other special tokens and user keyword arguments), which wins on a clash.
  std::string apply(const json& messages, const json& tools, bool add_generation_prompt,
                    const json& extra = json::object()) const;

  // Renders with an arbitrary context (a JSON object of variables; null = none).
  std::string render(const json& context) const;

  // The clock behind strftime_now (tests inject a fixed one).
  void set_clock(std::function<std::chrono::system_clock::time_point()> clock);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma::text
