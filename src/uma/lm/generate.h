// Token generation, as mlx-lm's generate_step: chunked prefill, then one
// token per step with the next step's graph built while the current one
// computes (async_eval pipelining).
#pragma once

#include <functional>
#include <optional>
#include <string>
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
};

struct StepStats {
  int prompt_tokens = 0;
  double prompt_seconds = 0;  // until the first token is known
  int generated = 0;
  double generation_seconds = 0;  // after the first token
  double prompt_tps() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double generation_tps() const { return generation_seconds > 0 && generated > 1 ? (generated - 1) / generation_seconds : 0; }
};

// Calls on_token(token, stats) for each generated token until it returns
// false or max_tokens are made. The cache may be passed in (and keeps the
// conversation); otherwise a fresh one is made. Throws on a prompt longer
// than the model's context when no max_kv_size bounds the cache.
// Throws std::invalid_argument "[generate] the model's logits are not finite
// (NaN or inf) ..." when `logits` hold NaN or inf: a model that computes
// garbage must not print token 0 forever. Only then, for a decoder, it
// reruns the last (up to 256) of `tokens` layer by layer and names the first
// tensor that went non-finite (e.g. model.layers.1).
void check_finite_logits(Model& model, const array& logits, const std::vector<int>& tokens);

// The first step's logits are checked with check_finite_logits.
void generate_tokens(Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                     const std::function<bool(int token, const StepStats& stats)>& on_token,
                     CacheList* cache = nullptr);

}  // namespace uma::lm
