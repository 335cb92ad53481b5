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
  std::string text = tmpl.apply(messages, tools, opts.add_generation_prompt, extra);
  if (!opts.continue_final_message) return text;
  // transformers: cut after the last occurrence of the final message's
  // content, stripped of surrounding whitespace.
  const ojson& last = messages.empty() ? ojson() : messages.back();
  if (!last.is_object() || !last.contains("content") || !last["content"].is_string()) {
    throw std::invalid_argument("[prompt] continue_final_message needs a final message with a string \"content\"");
  }
  std::string content = last["content"].get<std::string>();
  const char* ws = " \t\n\r\f\v";
  size_t b = content.find_first_not_of(ws), e = content.find_last_not_of(ws);
  content = b == std::string::npos ? "" : content.substr(b, e - b + 1);
  size_t at = text.rfind(content);
  if (at == std::string::npos) {
    throw std::invalid_argument(
        "[prompt] continue_final_message: the final message does not appear in the rendered chat template");
  }
  return text.substr(0, at + content.size());
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

std::vector<int> build_continuation(const Loaded& lm, const ojson& messages, const PromptOptions& opts) {
  if (opts.use_chat_template && lm.chat_template_error) throw *lm.chat_template_error;
  if (!opts.use_chat_template || !lm.chat_template) return encode(lm.tokenizer, plain_text(messages), false);
  size_t user = 0;
  while (user < messages.size() && !(messages[user].is_object() && messages[user].value("role", "") == "user")) ++user;
  if (user == messages.size()) throw std::invalid_argument("[prompt] no user message to continue the cached prompt with");
  std::string text = render(lm.tokenizer, *lm.chat_template, messages, opts);
  ojson probe = messages;
  probe[user]["content"] = "<query>";
  size_t at = render(lm.tokenizer, *lm.chat_template, probe, opts).find("<query>");
  if (at == std::string::npos || at > text.size()) {
    throw std::invalid_argument("[prompt] the chat template does not show the user message as is; cannot continue a "
                                "cached prompt (try --ignore-chat-template)");
  }
  return encode(lm.tokenizer, text.substr(at), /*add_special=*/false);
}

std::vector<int> build_prompt(const Loaded& lm, const ojson& messages, const PromptOptions& opts,
                              std::string* rendered) {
  if (opts.use_chat_template && lm.chat_template_error) throw *lm.chat_template_error;
  return build_prompt(lm.tokenizer, lm.chat_template.get(), messages, opts, rendered);
}

}  // namespace uma::lm
