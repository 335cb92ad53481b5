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

namespace uma::chat {

using json = nlohmann::ordered_json;

// Thrown for a syntax error (message names line and column), for a
// `raise_exception(...)` call in the template, and for a sandbox limit.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RenderLimits {
  size_t max_output_bytes = 64u << 20;
  size_t max_loop_iterations = 10'000'000;
  int max_recursion_depth = 256;
};

class ChatTemplate {
 public:
  // Parses once; throws TemplateError on a syntax error.
  explicit ChatTemplate(const std::string& source, RenderLimits limits = {});
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with the variables transformers passes: `messages`, `tools` (when
  // not null), `documents`, `add_generation_prompt`, and every key of `extra`
  // (bos_token, eos_token, other special tokens and user keyword arguments).
  std::string apply(const json& messages, const json& tools, bool add_generation_prompt,
                    const json& extra = json::object()) const;

  // Renders with an arbitrary context object.
  std::string render(const json& context) const;

  // The clock behind strftime_now (tests inject a fixed one).
  void set_clock(std::function<std::chrono::system_clock::time_point()> clock);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma::chat
