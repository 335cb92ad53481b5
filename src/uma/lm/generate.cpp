#include "uma/lm/generate.h"

#include <algorithm>
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

void check_kv_quantization(const Model& model, const CacheList& cache, const KVQuantization& q) {
  check_kv_quantization(q);
  int d = model.kv_head_dim();
  if (d > 0 && d % q.group_size != 0) {
    throw std::invalid_argument("[generate] --kv-group-size " + std::to_string(q.group_size) +
                                " does not divide the model's head_dim " + std::to_string(d) +
                                "; choose 32, 64 or 128 dividing it");
  }
  bool quantizable = std::any_of(cache.begin(), cache.end(), [](auto& c) {
    return dynamic_cast<StandardKVCache*>(c.get()) || dynamic_cast<QuantizedKVCache*>(c.get());
  });
  if (!quantizable) {
    throw std::invalid_argument(
        "[generate] --kv-bits: all of this model's KV caches are rotating (--max-kv-size or sliding-window "
        "layers), and rotating caches are not quantized (nor in mlx-lm: RotatingKVCache quantization is not "
        "implemented there)");
  }
}

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

void check_generate_args(const Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                         const CacheList& cache) {
  if (prompt.empty()) throw std::invalid_argument("[generate] the prompt has no tokens");
  if (opts.max_tokens < 0) throw std::invalid_argument("[generate] max_tokens must be >= 0");
  if (opts.prefill_step_size <= 0) throw std::invalid_argument("[generate] prefill_step_size must be > 0");
  for (int t : prompt) {
    if (t < 0 || t >= model.vocab_size()) {
      throw std::invalid_argument("[generate] prompt token " + std::to_string(t) + " is outside the vocabulary of " +
                                  std::to_string(model.vocab_size()));
    }
  }
  int ctx = model.max_context();
  int already = cache.empty() ? 0 : cache[0]->offset();
  int total = already + int(prompt.size());
  if (!opts.max_kv_size && ctx > 0 && total > ctx) {
    std::string held = already ? ", " + std::to_string(already) + " of them already in the cache" : "";
    throw std::invalid_argument("[generate] the prompt (" + std::to_string(total) + " tokens" + held +
                                ") does not fit the model's context of " + std::to_string(ctx) + " tokens");
  }
  if (opts.kv_quant) check_kv_quantization(model, cache, *opts.kv_quant);
}

array sample_token(const array& logits, const std::vector<int>& history, const std::vector<LogitsProcessor>& processors,
                   const Sampler& sampler, int top_logprobs, std::optional<array>* logprobs) {
  array l = logits;
  for (auto& p : processors) l = p(history, l);
  array lp = subtract(l, logsumexp(l, -1, true));
  if (top_logprobs >= 0 && logprobs) {  // reported in float32, whatever the model computes in
    array l32 = astype(l, float32);
    *logprobs = subtract(l32, logsumexp(l32, -1, true));
  }
  return sampler(lp);
}

TokenLogprob token_logprob(const array& logprobs, int token, int k) {
  array row = astype(reshape(logprobs, {-1}), float32);
  eval(row);
  const float* p = row.data<float>();
  const int n = int(row.size());
  TokenLogprob t;
  t.logprob = token >= 0 && token < n ? p[token] : -INFINITY;
  std::vector<int> ids(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) ids[size_t(i)] = i;
  k = std::min(k, n);
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(),
                    [p](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  for (int i = 0; i < k; ++i) t.top.emplace_back(ids[size_t(i)], p[ids[size_t(i)]]);
  return t;
}

TokenGenerator::TokenGenerator(Model& model, std::vector<int> prompt, const GenerateOptions& opts,
                               CacheList* cache)
    : model_(model), opts_(opts), cache_(cache ? *cache : local_), history_(std::move(prompt)) {
  if (cache_.empty()) cache_ = model.make_cache(opts.max_kv_size);
  check_generate_args(model, history_, opts, cache_);
  sampler_ = make_sampler(opts.sampler);
  processors_ = make_logits_processors(opts.logits);
  processors_.insert(processors_.end(), opts.processors.begin(), opts.processors.end());
  stats_.prompt_tokens = int(history_.size());
}

array TokenGenerator::step(const array& y, array* raw) {
  array logits = model_.last_logits(reshape(y, {1, int(y.size())}), &cache_);
  if (opts_.kv_quant) maybe_quantize_kv_cache(cache_, *opts_.kv_quant);
  if (raw) *raw = logits;
  return sample_token(logits, history_, processors_, sampler_, opts_.top_logprobs, &built_lp_);
}

array TokenGenerator::prefill() {
  const std::vector<int>& prompt = history_;
  // All but the last chunk without computing logits.
  int pos = 0, n = int(prompt.size()), chunk = opts_.prefill_step_size;
  while (n - pos > chunk) {
    model_(array(prompt.data() + pos, {1, chunk}), &cache_);  // the logits are dropped; only the cache matters
    if (opts_.kv_quant) maybe_quantize_kv_cache(cache_, *opts_.kv_quant);
    eval_cache(cache_);
    pos += chunk;
  }
  array first_logits{0.0f};
  array y = step(array(prompt.data() + pos, {n - pos}), &first_logits);
  if (built_lp_) lp_ = built_lp_;
  std::vector<array> todo = {y, first_logits};
  if (lp_) todo.push_back(*lp_);
  eval(todo);  // the first token is waited for anyway
  check_finite_logits(model_, first_logits, prompt);
  return y;
}

std::optional<int> TokenGenerator::next() {
  auto t0 = clock_type::now();
  // Only processors (penalties, grammars) look at history: without them the
  // step after a token is built before the token is returned.
  bool pipelined = processors_.empty();
  if (!started_) {
    started_ = true;
    y_ = prefill();
  } else if (made_ < opts_.max_tokens) {
    if (pipelined) {
      y_ = *next_;
      lp_ = next_lp_;
    } else {
      y_ = step(array(history_.back()));
      lp_ = built_lp_;
      async_eval(lp_ ? std::vector<array>{*y_, *lp_} : std::vector<array>{*y_});
    }
  }
  if (made_ >= opts_.max_tokens) return std::nullopt;
  if (pipelined && made_ + 1 < opts_.max_tokens) {
    next_ = step(*y_);
    next_lp_ = built_lp_;
    async_eval(next_lp_ ? std::vector<array>{*next_, *next_lp_} : std::vector<array>{*next_});
  }
  int token = y_->item<int>();
  if (lp_) logprob_ = token_logprob(*lp_, token, opts_.top_logprobs);
  if (made_ == 0) {
    stats_.prompt_seconds = seconds_since(t0);
    t_first_ = clock_type::now();
  } else {
    stats_.generation_seconds = seconds_since(t_first_);
  }
  stats_.generated = ++made_;
  history_.push_back(token);
  return token;
}

void generate_tokens(Model& model, const std::vector<int>& prompt, const GenerateOptions& opts,
                     const std::function<bool(int, const StepStats&)>& on_token, CacheList* cache) {
  TokenGenerator gen(model, prompt, opts, cache);
  while (auto token = gen.next()) {
    if (!on_token(*token, gen.stats())) break;
  }
}

}  // namespace uma::lm
