#include "uma/lm/prompt.h"

#include <stdexcept>

namespace uma::lm {

using ojson = nlohmann::ordered_json;

namespace {

std::vector<int> encode(const text::tokenizer::LoadedTokenizer& tok, const std::string& text, bool add_special) {
  auto ids = tok.tokenizer->encode(text, add_special);
  return std::vector<int>(ids.begin(), ids.end());
}

std::string render(const text::tokenizer::LoadedTokenizer& tok, const text::ChatTemplate& tmpl,
                   const ojson& messages, const PromptOptions& opts) {
  if (!opts.template_kwargs.is_object()) {
    throw std::invalid_argument("[prompt] template kwargs must be a JSON object, got " +
                                std::string(opts.template_kwargs.type_name()));
  }
  // transformers passes the special tokens that are set, then the kwargs.
  ojson extra = tok.template_variables();
  ojson tools = nullptr;
  for (auto& [k, v] : opts.template_kwargs.items()) {
    if (k == "tools") {
      tools = v;
    } else {
      extra[k] = v;
    }
  }
  return tmpl.apply(messages, tools, opts.add_generation_prompt, extra);
}

// Without a template: the contents, one per line.
std::string plain_text(const ojson& messages) {
  std::string text;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ojson& m = messages[i];
    if (!m.is_object() || !m.contains("content") || !m["content"].is_string()) {
      throw std::invalid_argument("[prompt] without a chat template, message " + std::to_string(i) +
                                  " needs a string \"content\"");
    }
    if (i > 0) text += '\n';
    text += m["content"].get<std::string>();
  }
  return text;
}

}  // namespace

std::vector<int> build_prompt(const text::tokenizer::LoadedTokenizer& tok, const text::ChatTemplate* chat_template,
                              const ojson& messages, const PromptOptions& opts, std::string* rendered) {
  if (!messages.is_array()) {
    throw std::invalid_argument("[prompt] messages must be a JSON list, got " + std::string(messages.type_name()));
  }
  bool templated = opts.use_chat_template && chat_template;
  std::string text = templated ? render(tok, *chat_template, messages, opts) : plain_text(messages);
  if (rendered) *rendered = text;
  return encode(tok, text, /*add_special=*/!templated);
}

std::vector<int> build_prompt(const Loaded& lm, const ojson& messages, const PromptOptions& opts,
                              std::string* rendered) {
  if (opts.use_chat_template && lm.chat_template_error) throw *lm.chat_template_error;
  return build_prompt(lm.tokenizer, lm.chat_template.get(), messages, opts, rendered);
}

}  // namespace uma::lm
