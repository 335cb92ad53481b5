// Building a model's input tokens from a conversation: the one place where
// generate, chat (and the server) turn messages into a prompt.
//
//   auto lm = uma::lm::load(path);
//   auto ids = uma::lm::build_prompt(lm, {{{"role", "user"}, {"content", "hi"}}});
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "uma/lm/load.h"
#include "uma/text/chat_template.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm {

struct PromptOptions {
  // false: encode the messages as plain text even if there is a template
  // (--ignore-chat-template).
  bool use_chat_template = true;
  // Extra template variables, transformers' apply_chat_template kwargs
  // (e.g. {"enable_thinking": false}); "tools" is passed as the tool list.
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
  bool add_generation_prompt = true;
  // transformers' continue_final_message: the rendering ends right after the
  // last message's content (whatever the template puts after it is cut), so
  // that the model continues that message (mlx_lm.cache_prompt).
  bool continue_final_message = false;
};

// The tokens of `messages` (a list of {"role", "content"} objects).
// With a template (and use_chat_template): rendered with the tokenizer's
// special tokens (bos_token, eos_token, unk_token, pad_token) and the kwargs,
// then encoded without adding special tokens, as transformers'
// apply_chat_template(tokenize=True). Without one: the contents joined by
// "\n" and encoded with the tokenizer's special tokens (BOS where it adds
// one), as a raw prompt. `rendered`, when given, receives the encoded text.
// Throws text::TemplateError for a template that fails to parse or render,
// std::invalid_argument "[prompt] ..." for malformed messages.
std::vector<int> build_prompt(const text::tokenizer::LoadedTokenizer& tok, const text::ChatTemplate* chat_template,
                              const nlohmann::ordered_json& messages, const PromptOptions& opts = {},
                              std::string* rendered = nullptr);

// With what lm::load parsed: its chat template (or the template's parse
// error, thrown when the template is needed).
std::vector<int> build_prompt(const Loaded& lm, const nlohmann::ordered_json& messages,
                              const PromptOptions& opts = {}, std::string* rendered = nullptr);

// The tokens that continue a cached prompt, as mlx_lm.generate does with
// --prompt-cache-file: the rendering of `messages` from where the first user
// message's content starts (what comes before it is taken to be in the
// cache), encoded without special tokens; without a template, the plain text
// encoded without special tokens. Throws std::invalid_argument "[prompt] ..."
// when there is no user message or the template does not show its content.
std::vector<int> build_continuation(const Loaded& lm, const nlohmann::ordered_json& messages,
                                    const PromptOptions& opts = {});

}  // namespace uma::lm
