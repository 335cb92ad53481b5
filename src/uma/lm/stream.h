// Text generation on top of TokenGenerator: streaming detokenization, every
// EOS id, and stop strings (text that could still become a stop string is
// held back, and the stop string itself is never emitted).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "uma/lm/generate.h"
#include "uma/lm/grammar.h"
#include "uma/text/tokenizer/load.h"

namespace uma::text::tokenizer {
class StreamingDetokenizer;
}

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
  // false: the text keeps special tokens (a server reading tool calls and
  // channels out of it); stop strings apply to that text.
  bool skip_special_tokens = true;
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

// The text side of one generation, token by token: streaming detokenization,
// every EOS id and stop strings (what stream_generate does around its
// TokenGenerator; a server feeds it the tokens of one sequence of a batch).
class TextStream {
 public:
  // Throws std::invalid_argument "[generate] ..." for an empty stop string.
  TextStream(const text::tokenizer::LoadedTokenizer& tok, const TextOptions& opts);
  TextStream(TextStream&&) noexcept;
  ~TextStream();
  // The generation's own logits processors (the grammar's, with
  // TextOptions::grammar), appended to gen: pass gen to the TokenGenerator
  // or BatchGenerator that makes this stream's tokens.
  void add_processors(GenerateOptions& gen) const;
  // The event of a generated token. It ends the text (done(), finish_reason
  // "stop") when the token is an EOS (the event then closes the text and
  // carries no token), completes a stop string (its text stops before it) or
  // completes the grammar. Throws std::runtime_error "[grammar] ..." for a
  // token the grammar refuses.
  TextResponse add(int token, const std::optional<TokenLogprob>& logprob, const StepStats& stats);
  // The closing event when the generation ends otherwise: text held back as
  // a possible stop-string prefix, and any partial character, after all.
  TextResponse finish(const std::string& finish_reason);
  bool done() const { return !result_.finish_reason.empty(); }
  // Everything so far; whole once done().
  const TextResult& result() const { return result_; }

 private:
  const text::tokenizer::LoadedTokenizer& tok_;
  std::vector<std::string> stops_;
  std::vector<int> eos_;
  std::unique_ptr<text::tokenizer::StreamingDetokenizer> detok_;
  std::string pending_;  // decoded but not yet emitted (a possible stop-string prefix)
  std::shared_ptr<GrammarProcessor> grammar_;
  TextResult result_;
};

// Streams text; on_text returns false to stop early (finish_reason "stop").
TextResult stream_generate(Model& model, const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& prompt,
                           const TextOptions& opts, const std::function<bool(const TextResponse&)>& on_text,
                           CacheList* cache = nullptr);

}  // namespace uma::lm
