// Token generation, as mlx-lm's generate_step: chunked prefill, then one
// token per step with the next step's graph built while the current one
// computes (async_eval pipelining).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uma/lm/model.h"
#include "uma/lm/sample.h"

namespace uma::lm {

struct GenerateOptions {
  int max_tokens = 256;
  SamplerOptions sampler;
  LogitsOptions logits;
  std::optional<int> max_kv_size;
  int prefill_step_size = 2048;
  // --kv-bits: standard caches become quantized once they hold kv_quant->start
  // tokens (maybe_quantize_kv_cache after every model call, as mlx-lm's
  // generate_step). Rotating caches stay in float.
  std::optional<KVQuantization> kv_quant;
  // >= 0: record each token's log-probability and the top_logprobs most
  // likely tokens of its step (after the logits processors, before the
  // sampler's filters: the distribution the token was drawn from; normalized
  // in float32).
  int top_logprobs = -1;
  // Logits processors of the caller's own (a grammar's: lm/grammar.h), run
  // after those of `logits` with the sequence's tokens so far; each
  // generation of a batch calls its own. A processor that throws fails its
  // generation alone. Any processor turns off build-ahead: it may need each
  // token before the next step is built.
  std::vector<LogitsProcessor> processors;
};

// One generated token's log-probability, and the most likely tokens of its
// step with theirs (most likely first; ties by id).
struct TokenLogprob {
  float logprob = 0;
  std::vector<std::pair<int, float>> top;
};

struct StepStats {
  int prompt_tokens = 0;
  double prompt_seconds = 0;  // until the first token is known
  int generated = 0;
  double generation_seconds = 0;  // after the first token
  double prompt_tps() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double generation_tps() const { return generation_seconds > 0 && generated > 1 ? (generated - 1) / generation_seconds : 0; }
};

// Throws std::invalid_argument "[generate] the model's logits are not finite
// (NaN or inf) ..." when `logits` hold NaN or inf: a model that computes
// garbage must not print token 0 forever. Only then, for a decoder, it
// reruns the last (up to 256) of `tokens` layer by layer and names the first
// tensor that went non-finite (e.g. model.layers.1).
void check_finite_logits(Model& model, const array& logits, const std::vector<int>& tokens);

// --kv-bits settings against the model (the group size must divide its
// head_dim) and its caches (at least one must be quantizable); throws
// std::invalid_argument naming the flag.
void check_kv_quantization(const Model& model, const CacheList& cache, const KVQuantization& q);

// The arguments of a generation against the model and its caches: throws
// std::invalid_argument "[generate] ..." for an empty prompt, a token outside
// the vocabulary, negative max_tokens, a prefill_step_size <= 0, a prompt
// longer than the model's context (counting what `cache` already holds) when
// no max_kv_size bounds the cache, KV quantization settings that do not fit.
void check_generate_args(const Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                         const CacheList& cache);

// One step's token from the logits (1, V) of a sequence whose tokens so far
// are `history`: the logits processors, log-probabilities, the sampler. With
// top_logprobs >= 0, `logprobs` receives the distribution in float32.
array sample_token(const array& logits, const std::vector<int>& history, const std::vector<LogitsProcessor>& processors,
                   const Sampler& sampler, int top_logprobs, std::optional<array>* logprobs);

// `token`'s log-probability and the top k of a step's log-probabilities
// (1, V) (most likely first; ties by id), read on the host.
TokenLogprob token_logprob(const array& logprobs, int token, int k);

// The tokens of one generation, one per next() call, as mlx-lm's
// generate_step generator: the first call prefills the prompt (in chunks of
// prefill_step_size) and returns the first token; each call builds the step
// after the token it returns before returning it (unless a logits processor
// needs that token first), so the model computes while the caller handles
// the token. The cache may be passed in (and keeps the conversation; it must
// outlive the generator); otherwise a fresh one is made. Stopping early is
// just not calling next() again; the caches then hold the prompt and the
// tokens returned, but the last returned token only if its step was built
// ahead.
//
//   TokenGenerator gen(model, prompt, opts);
//   while (auto token = gen.next()) use(*token, gen.stats());
class TokenGenerator {
 public:
  // Checks the arguments (throws std::invalid_argument "[generate] ...":
  // an empty prompt, a token outside the vocabulary, a prompt longer than
  // the model's context when no max_kv_size bounds the cache, KV
  // quantization settings that do not fit the model or its caches).
  TokenGenerator(Model& model, std::vector<int> prompt, const GenerateOptions& opts, CacheList* cache = nullptr);
  TokenGenerator(const TokenGenerator&) = delete;
  TokenGenerator& operator=(const TokenGenerator&) = delete;

  // The next token, or nullopt once max_tokens are made. The first call
  // prefills (also when max_tokens is 0) and checks the first logits with
  // check_finite_logits.
  std::optional<int> next();
  // Timings and counts up to the last token returned.
  const StepStats& stats() const { return stats_; }
  // The last token's log-probability (GenerateOptions::top_logprobs >= 0).
  const std::optional<TokenLogprob>& logprob() const { return logprob_; }

 private:
  // Feeds y (the last token, or the prompt's last chunk) and samples the
  // next token; `raw` receives the logits before any processor.
  array step(const array& y, array* raw = nullptr);
  // Feeds the prompt; returns the first token's sample, evaluated.
  array prefill();

  Model& model_;
  GenerateOptions opts_;
  CacheList local_;
  CacheList& cache_;
  Sampler sampler_;
  std::vector<LogitsProcessor> processors_;
  std::vector<int> history_;  // the prompt, then every token returned
  bool started_ = false;
  int made_ = 0;              // tokens returned
  std::optional<array> y_;    // the sample of the token next() returns
  std::optional<array> next_; // the step built ahead (no logits processors)
  // With top_logprobs: the log-probabilities of y_'s and next_'s steps, and
  // of the step step() built last.
  std::optional<array> lp_, next_lp_, built_lp_;
  std::optional<TokenLogprob> logprob_;
  StepStats stats_;
  std::chrono::steady_clock::time_point t_first_;
};

// The TokenGenerator loop with a callback: on_token(token, stats) for each
// token until it returns false or max_tokens are made.
void generate_tokens(Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                     const std::function<bool(int token, const StepStats& stats)>& on_token,
                     CacheList* cache = nullptr);

}  // namespace uma::lm
