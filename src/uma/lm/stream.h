// Text generation on top of TokenGenerator: streaming detokenization, every
// EOS id, and stop strings (text that could still become a stop string is
// held back, and the stop string itself is never emitted).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "uma/lm/generate.h"
#include "uma/lm/grammar.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm {

struct TextResponse {
  std::string text;            // new text in this step (may be empty)
  int token = -1;
  StepStats stats;
  std::string finish_reason;   // "" while generating; "stop" or "length" at the end
  std::optional<TokenLogprob> logprob;  // the token's (GenerateOptions::top_logprobs >= 0)
};

struct TextOptions {
  GenerateOptions gen;
  std::vector<std::string> stop_strings;
  std::vector<int> extra_eos_ids;
  // Only text this grammar allows (lm/grammar.h); the generation stops once
  // it is complete and nothing else may follow.
  GrammarPtr grammar;
};

struct TextResult {
  std::vector<int> tokens;     // generated ids (EOS excluded)
  std::vector<TokenLogprob> logprobs;  // one per token, with GenerateOptions::top_logprobs >= 0
  std::string text;
  StepStats stats;
  std::string finish_reason;
  size_t peak_memory = 0;
};

// Streams text; on_text returns false to stop early (finish_reason "stop").
TextResult stream_generate(Model& model, const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& prompt,
                           const TextOptions& opts, const std::function<bool(const TextResponse&)>& on_text,
                           CacheList* cache = nullptr);

}  // namespace uma::lm
