#include "uma/lm/sample.h"

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "uma/core/ops.h"

namespace uma::lm {

namespace {
const float kNegInf = -INFINITY;

// The permutation that undoes `order` along the last axis.
array inverse_permutation(const array& order) {
  array positions = broadcast_to(arange(0, order.shape(-1), order.dtype()), order.shape());
  return put_along_axis(zeros_like(order), order, positions, -1);
}

// logits with logits[:, ids] replaced by f(logits[:, ids]).
array adjust_columns(const array& logits, const std::vector<int>& ids, const std::function<array(const array&)>& f) {
  array idx = broadcast_to(array(ids, {1, int(ids.size())}), {logits.shape(0), int(ids.size())});
  return put_along_axis(logits, idx, f(take_along_axis(logits, idx, -1)), -1);
}
}  // namespace

array apply_top_k(const array& logprobs, int k) {
  int V = logprobs.shape(-1);
  if (k <= 0 || k >= V) return logprobs;
  array idx = argpartition(negative(logprobs), k - 1, -1);
  Shape start(logprobs.ndim(), 0), stop = idx.shape();
  start.back() = k;
  array drop = slice(idx, start, stop);
  return put_along_axis(logprobs, drop, array(kNegInf, logprobs.dtype()), -1);
}

array apply_top_p(const array& logprobs, float p) {
  array probs = exp(logprobs);
  array order = argsort(logprobs, -1);  // ascending
  array sorted = take_along_axis(probs, order, -1);
  array cum = cumsum(sorted, -1);
  cum = take_along_axis(cum, inverse_permutation(order), -1);  // back to vocabulary order
  return where(greater(cum, array(1.0f - p)), logprobs, array(kNegInf, logprobs.dtype()));
}

array apply_min_p(const array& logprobs, float min_p, int min_tokens_to_keep) {
  array order = argsort(negative(logprobs), -1);  // descending
  array sorted = take_along_axis(logprobs, order, -1);
  Shape start(sorted.ndim(), 0), stop = sorted.shape();
  stop.back() = 1;
  array top = slice(sorted, start, stop);
  array remove = less(sorted, add(top, array(std::log(min_p), sorted.dtype())));
  // Never drop the first min_tokens_to_keep.
  array pos = arange(0, sorted.shape(-1));
  remove = logical_and(remove, greater_equal(pos, array(min_tokens_to_keep)));
  array kept = where(remove, array(kNegInf, sorted.dtype()), sorted);
  return take_along_axis(kept, inverse_permutation(order), -1);
}

array apply_xtc(const array& logits, float threshold, const std::vector<int>& special_tokens) {
  // Exclude the top choices: every token more likely than the least likely
  // token above the threshold is removed.
  array probs = softmax(logits, -1, true);
  array above_min = min(where(greater(probs, array(threshold)), probs, array(INFINITY)), -1, true);
  array mask = greater(probs, above_min);
  if (!special_tokens.empty()) {
    array special = zeros({logits.shape(-1)}, bool_);
    special = put_along_axis(special, array(special_tokens, {int(special_tokens.size())}), array(true), -1);
    mask = logical_and(mask, logical_not(special));
  }
  return where(mask, array(kNegInf, logits.dtype()), logits);
}

Sampler make_sampler(const SamplerOptions& o) {
  if (!(o.temp >= 0)) throw std::invalid_argument("[sampler] temp must be >= 0, got " + std::to_string(o.temp));
  if (!(o.top_p >= 0 && o.top_p <= 1)) throw std::invalid_argument("[sampler] top_p must be in [0, 1]");
  if (o.top_k < 0) throw std::invalid_argument("[sampler] top_k must be >= 0");
  if (!(o.min_p >= 0 && o.min_p <= 1)) throw std::invalid_argument("[sampler] min_p must be in [0, 1]");
  if (o.min_tokens_to_keep < 1) throw std::invalid_argument("[sampler] min_tokens_to_keep must be >= 1");
  if (!(o.xtc_probability >= 0 && o.xtc_probability <= 1)) throw std::invalid_argument("[sampler] xtc_probability must be in [0, 1]");
  if (!(o.xtc_threshold >= 0 && o.xtc_threshold <= 0.5)) throw std::invalid_argument("[sampler] xtc_threshold must be in [0, 0.5]");
  if (o.temp == 0) {
    return [](const array& logprobs) { return argmax(logprobs, -1); };
  }
  uint64_t seed = o.seed ? *o.seed : uint64_t(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  auto key = std::make_shared<array>(random::key(seed));
  auto next_key = [key]() {
    auto ks = random::split(*key);
    *key = ks.first;
    return ks.second;
  };
  return [o, next_key](const array& logprobs) {
    // mlx-lm's order matters: top_p sees the whole mass and xtc renormalizes
    // over every token, before top_k cuts.
    array x = logprobs;
    if (o.top_p > 0 && o.top_p < 1) x = apply_top_p(x, o.top_p);
    if (o.min_p > 0) x = apply_min_p(x, o.min_p, o.min_tokens_to_keep);
    if (o.xtc_probability > 0) {
      // The coin is drawn on the host from the same key sequence.
      float coin = random::uniform(0.0f, 1.0f, {}, float32, next_key()).item<float>();
      if (coin <= o.xtc_probability) x = apply_xtc(x, o.xtc_threshold, o.xtc_special_tokens);
    }
    if (o.top_k > 0) x = apply_top_k(x, o.top_k);
    return random::categorical(multiply(x, array(1.0f / o.temp, x.dtype())), -1, next_key());
  };
}

std::vector<LogitsProcessor> make_logits_processors(const LogitsOptions& o) {
  std::vector<LogitsProcessor> out;
  if (!o.logit_bias.empty()) {
    std::vector<int> ids;
    std::vector<float> vals;
    for (auto& [k, v] : o.logit_bias) {
      ids.push_back(k);
      vals.push_back(v);
    }
    out.push_back([ids, vals](const std::vector<int>&, const array& logits) {
      for (int id : ids) {
        if (id < 0 || id >= logits.shape(-1)) {
          throw std::invalid_argument("[logit_bias] token id " + std::to_string(id) + " is outside the vocabulary");
        }
      }
      array bias = astype(array(vals, {1, int(vals.size())}), logits.dtype());
      return adjust_columns(logits, ids, [&](const array& cur) { return add(cur, bias); });
    });
  }
  if (o.repetition_penalty != 1.0f) {
    if (!(o.repetition_penalty > 0)) throw std::invalid_argument("[repetition_penalty] must be > 0");
    if (o.repetition_context_size < 1) throw std::invalid_argument("[repetition_penalty] repetition_context_size must be >= 1");
    float penalty = o.repetition_penalty;
    int ctx = o.repetition_context_size;
    out.push_back([penalty, ctx](const std::vector<int>& history, const array& logits) {
      if (history.empty()) return logits;
      size_t from = history.size() > size_t(ctx) ? history.size() - size_t(ctx) : 0;
      std::vector<int> ids(history.begin() + from, history.end());
      return adjust_columns(logits, ids, [&](const array& sel) {
        return where(less(sel, array(0.0f, sel.dtype())), multiply(sel, array(penalty, sel.dtype())),
                     divide(sel, array(penalty, sel.dtype())));
      });
    });
  }
  if (o.presence_penalty != 0.0f || o.frequency_penalty != 0.0f) {
    if (o.penalty_context_size < 1) throw std::invalid_argument("[presence_penalty] penalty_context_size must be >= 1");
    float pres = o.presence_penalty, freq = o.frequency_penalty;
    int ctx = o.penalty_context_size;
    out.push_back([pres, freq, ctx](const std::vector<int>& history, const array& logits) {
      if (history.empty()) return logits;
      size_t from = history.size() > size_t(ctx) ? history.size() - size_t(ctx) : 0;
      std::map<int, int> counts;
      for (size_t i = from; i < history.size(); ++i) ++counts[history[i]];
      std::vector<int> ids;
      std::vector<float> delta;
      for (auto& [t, c] : counts) {
        ids.push_back(t);
        delta.push_back(pres + freq * float(c));
      }
      array d = astype(array(delta, {1, int(delta.size())}), logits.dtype());
      return adjust_columns(logits, ids, [&](const array& sel) { return subtract(sel, d); });
    });
  }
  return out;
}

}  // namespace uma::lm
