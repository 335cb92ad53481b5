// Text generation on top of generate_tokens: streaming detokenization, every
// EOS id, and stop strings (text that could still become a stop string is
// held back, and the stop string itself is never emitted).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "uma/lm/generate.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm {

struct TextResponse {
  std::string text;            // new text in this step (may be empty)
  int token = -1;
  StepStats stats;
  std::string finish_reason;   // "" while generating; "stop" or "length" at the end
};

struct TextOptions {
  GenerateOptions gen;
  std::vector<std::string> stop_strings;
  std::vector<int> extra_eos_ids;
};

struct TextResult {
  std::vector<int> tokens;     // generated ids (EOS excluded)
  std::string text;
  StepStats stats;
  std::string finish_reason;
  size_t peak_memory = 0;
};

// Streams text; on_text returns false to stop early (finish_reason "stop").
TextResult stream_generate(Model& model, const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& prompt,
                           const TextOptions& opts, const std::function<bool(const TextResponse&)>& on_text,
                           CacheList* cache = nullptr);

// Renders a conversation with the tokenizer's chat template and encodes it
// as transformers' apply_chat_template(tokenize=True) does. `kwargs` are
// extra template variables (e.g. {"enable_thinking": false}).
std::vector<int> apply_chat_template(const text::tokenizer::LoadedTokenizer& tok, const nlohmann::ordered_json& messages,
                                     const nlohmann::ordered_json& kwargs = nlohmann::ordered_json::object(),
                                     bool add_generation_prompt = true, std::string* rendered = nullptr);

}  // namespace uma::lm
