// Samplers and logits processors as composable callables, as mlx-lm's
// sample_utils: a sampler maps log-probabilities (B, V) to tokens (B); a
// logits processor maps (history, logits) to logits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "uma/core/array.h"

namespace uma::lm {

using Sampler = std::function<array(const array& logprobs)>;
using LogitsProcessor = std::function<array(const std::vector<int>& history, const array& logits)>;

struct SamplerOptions {
  float temp = 0.0f;       // 0: greedy
  float top_p = 1.0f;      // nucleus; 1 (or 0) disables
  int top_k = 0;           // 0 disables
  float min_p = 0.0f;      // 0 disables
  int min_tokens_to_keep = 1;
  float xtc_probability = 0.0f;
  float xtc_threshold = 0.0f;
  std::vector<int> xtc_special_tokens;
  std::optional<uint64_t> seed;  // none: from the clock
};

// Validates (temp >= 0, 0 <= top_p <= 1, ...) and throws naming the option.
// Filters apply in mlx-lm's order: top_p, min_p, xtc, top_k; then
// categorical(logprobs / temp).
Sampler make_sampler(const SamplerOptions& o);

// Each filter keeps the input's shape; removed entries become -inf.
array apply_top_k(const array& logprobs, int k);
array apply_top_p(const array& logprobs, float p);
array apply_min_p(const array& logprobs, float min_p, int min_tokens_to_keep = 1);
array apply_xtc(const array& logits, float threshold, const std::vector<int>& special_tokens);

struct LogitsOptions {
  std::map<int, float> logit_bias;
  float repetition_penalty = 1.0f;  // 1 disables
  int repetition_context_size = 20;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_context_size = 20;    // presence/frequency window
};

std::vector<LogitsProcessor> make_logits_processors(const LogitsOptions& o);

}  // namespace uma::lm
