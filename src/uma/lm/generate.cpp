#include "uma/lm/generate.h"

#include <chrono>

#include "uma/core/ops.h"
#include "uma/lm/models/decoder.h"

namespace uma::lm {

namespace {
using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

void eval_cache(const CacheList& cache) {
  std::vector<array> st;
  for (auto& c : cache) {
    for (auto& a : c->state()) st.push_back(a);
  }
  eval(st);
}
}  // namespace

void check_finite_logits(Model& model, const array& logits, const std::vector<int>& tokens) {
  if (all(isfinite(logits)).item<bool>()) return;
  std::string where;
  if (auto* d = dynamic_cast<DecoderModel*>(&model); d && !tokens.empty()) {
    // Rerun a bounded tail of the prompt with a tap per layer: only after the
    // failure, so the check costs nothing on healthy models.
    size_t n = std::min<size_t>(tokens.size(), 256);
    array tail(tokens.data() + (tokens.size() - n), {1, int(n)});
    std::string first = d->first_nonfinite(tail);
    if (!first.empty()) where = "; the first non-finite output is " + first + "'s";
  }
  throw std::invalid_argument(
      "[generate] the model's logits are not finite (NaN or inf) for the prompt" + where +
      " (check the weights and config.json)");
}

void generate_tokens(Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                     const std::function<bool(int, const StepStats&)>& on_token, CacheList* cache_in) {
  if (prompt.empty()) throw std::invalid_argument("[generate] the prompt has no tokens");
  if (opts.max_tokens < 0) throw std::invalid_argument("[generate] max_tokens must be >= 0");
  if (opts.prefill_step_size <= 0) throw std::invalid_argument("[generate] prefill_step_size must be > 0");
  for (int t : prompt) {
    if (t < 0 || t >= model.vocab_size()) {
      throw std::invalid_argument("[generate] prompt token " + std::to_string(t) + " is outside the vocabulary of " +
                                  std::to_string(model.vocab_size()));
    }
  }
  CacheList local;
  CacheList& cache = cache_in ? *cache_in : local;
  if (cache.empty()) cache = model.make_cache(opts.max_kv_size);
  int ctx = model.max_context();
  int already = cache.empty() ? 0 : cache[0]->offset();
  if (!opts.max_kv_size && ctx > 0 && already + int(prompt.size()) > ctx) {
    std::string held = already ? ", " + std::to_string(already) + " of them already in the cache" : "";
    throw std::invalid_argument("[generate] the prompt (" + std::to_string(already + int(prompt.size())) + " tokens" +
                                held + ") does not fit the model's context of " + std::to_string(ctx) + " tokens");
  }

  Sampler sampler = make_sampler(opts.sampler);
  auto processors = make_logits_processors(opts.logits);
  std::vector<int> history = prompt;

  auto step = [&](const array& y, array* raw = nullptr) -> array {
    array logits = model.last_logits(reshape(y, {1, int(y.size())}), &cache);
    if (raw) *raw = logits;
    for (auto& p : processors) logits = p(history, logits);
    array logprobs = subtract(logits, logsumexp(logits, -1, true));
    return sampler(logprobs);
  };

  StepStats stats;
  stats.prompt_tokens = int(prompt.size());
  auto t0 = clock_type::now();
  // Prefill all but the last chunk without computing logits.
  int pos = 0, n = int(prompt.size());
  while (n - pos > opts.prefill_step_size) {
    array chunk(prompt.data() + pos, {1, opts.prefill_step_size});
    model(chunk, &cache);  // the logits are dropped; only the cache matters
    eval_cache(cache);
    pos += opts.prefill_step_size;
  }
  array first_logits{0.0f};
  array y = step(array(prompt.data() + pos, {n - pos}), &first_logits);
  eval({y, first_logits});  // the first token is waited for anyway
  check_finite_logits(model, first_logits, prompt);
  clock_type::time_point t_first{};
  for (int i = 0; i < opts.max_tokens; ++i) {
    // Only penalties look at history: build the next step now unless they
    // need this token's value first.
    std::optional<array> next;
    bool pipelined = processors.empty();
    if (pipelined && i + 1 < opts.max_tokens) {
      next = step(y);
      async_eval(*next);
    }
    int token = y.item<int>();
    if (i == 0) {
      stats.prompt_seconds = seconds_since(t0);
      t_first = clock_type::now();
    } else {
      stats.generation_seconds = seconds_since(t_first);
    }
    stats.generated = i + 1;
    history.push_back(token);
    if (!on_token(token, stats)) break;
    if (i + 1 >= opts.max_tokens) break;
    if (!pipelined) {
      next = step(array(token));
      async_eval(*next);
    }
    y = *next;
  }
}

}  // namespace uma::lm
