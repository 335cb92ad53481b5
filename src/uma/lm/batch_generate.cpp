#include "uma/lm/batch_generate.h"

#include <stdexcept>

#include "uma/core/ops.h"
#include "uma/lm/kv_cache_batch.h"

namespace uma::lm {

namespace {
using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Runs f; a throw becomes the output's error (invalid: the request's fault).
template <class F>
bool guarded(BatchOutput& out, F&& f) {
  try {
    f();
    return true;
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
    out.invalid = true;
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return false;
}
}  // namespace

BatchGenerator::BatchGenerator(Model& model, int prefill_tokens_per_step)
    : model_(model), prefill_budget_(prefill_tokens_per_step) {
  if (prefill_tokens_per_step <= 0) {
    throw std::invalid_argument("[batch] prefill_tokens_per_step must be > 0, got " +
                                std::to_string(prefill_tokens_per_step));
  }
}

uint64_t BatchGenerator::insert(std::vector<int> prompt, const GenerateOptions& opts, CacheList cache) {
  if (cache.empty()) cache = model_.make_cache(opts.max_kv_size);
  const int held = cache[0]->offset();
  if (held >= int(prompt.size())) {
    throw std::invalid_argument("[batch] the cache holds " + std::to_string(held) + " tokens of a prompt of " +
                                std::to_string(prompt.size()) + "; at least its last token must be fed");
  }
  check_generate_args(model_, std::vector<int>(prompt.begin() + held, prompt.end()), opts, cache);
  Sequence s;
  s.opts = opts;
  s.cache = std::move(cache);
  s.sampler = make_sampler(opts.sampler);
  s.processors = make_logits_processors(opts.logits);
  s.processors.insert(s.processors.end(), opts.processors.begin(), opts.processors.end());
  s.prompt_size = prompt.size();
  s.history = std::move(prompt);
  s.fed = s.cached = held;
  s.stats.prompt_tokens = int(s.prompt_size);
  s.t_start = clock_type::now();
  uint64_t id = next_id_++;
  seqs_.emplace(id, std::move(s));
  return id;
}

int BatchGenerator::prefilled(uint64_t id) const {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? 0 : it->second.fed - it->second.cached;
}

const CacheList& BatchGenerator::caches(uint64_t id, std::vector<int>* tokens) const {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw std::invalid_argument("[batch] no sequence " + std::to_string(id) + " in the batch");
  const Sequence& s = it->second;
  if (tokens) {
    size_t n = s.cache.empty() ? 0 : size_t(std::max(0, s.cache[0]->offset()));
    *tokens = std::vector<int>(s.history.begin(), s.history.begin() + long(std::min(n, s.history.size())));
  }
  return s.cache;
}

CacheList BatchGenerator::remove(uint64_t id, std::vector<int>* held) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return {};
  caches(id, held);
  CacheList out = std::move(it->second.cache);
  seqs_.erase(it);
  return out;
}

BatchOutput BatchGenerator::emit(uint64_t id, Sequence& s, int token, const std::optional<array>& lp) {
  BatchOutput o;
  o.id = id;
  o.token = token;
  if (lp) o.logprob = token_logprob(*lp, token, s.opts.top_logprobs);
  if (s.made == 0) {
    s.stats.prompt_seconds = seconds_since(s.t_start);
    s.t_first = clock_type::now();
  } else {
    s.stats.generation_seconds = seconds_since(s.t_first);
  }
  s.stats.generated = ++s.made;
  s.history.push_back(token);
  o.stats = s.stats;
  o.finished = s.made >= s.opts.max_tokens;
  return o;
}

void BatchGenerator::forward(const std::vector<Row>& rows, std::vector<BatchOutput>& out) {
  const int R = int(rows.size());
  std::vector<int> tokens;
  std::vector<CacheList*> lists;
  PackedRows packed;
  int decoding = 0;
  for (int i = 0; i < R; ++i) {
    const Row& r = rows[size_t(i)];
    tokens.insert(tokens.end(), r.seq->history.begin() + r.start, r.seq->history.begin() + r.start + r.len);
    lists.push_back(&r.seq->cache);
    packed.lengths.push_back(r.len);
    if (r.logits) packed.logit_rows.push_back(i);
    decoding += r.seq->fed == int(r.seq->prompt_size);
  }
  auto fail_all = [&](const BatchOutput& why) {
    for (const Row& r : rows) {
      if (r.seq->failed) continue;
      r.seq->failed = true;
      BatchOutput o = why;
      o.id = r.id;
      out.push_back(o);
    }
  };
  // One forward pass for all rows: packed (1, N) when there are several, the
  // unbatched path for one.
  BatchOutput why;
  std::optional<array> logits;
  const bool want_logits = !packed.logit_rows.empty();
  bool built = guarded(why, [&] {
    array inputs(tokens.data(), {1, int(tokens.size())});
    CacheList batch;
    CacheList* cache = lists[0];
    if (R > 1) {
      batch = batch_caches(lists, packed);
      cache = &batch;
    }
    if (want_logits) {
      logits = model_.last_logits(inputs, cache);
    } else {
      model_(inputs, cache);  // only the caches matter
    }
  });
  if (!built) return fail_all(why);
  if (decoding) {
    ++decode_steps_;
    decode_rows_ += decoding;
  }
  const int V = want_logits ? logits->shape(-1) : 0;
  // Each row's logits, ys (its token) and lps (their log-probabilities).
  std::vector<std::optional<array>> row_logits(static_cast<size_t>(R)), ys(static_cast<size_t>(R)),
      lps(static_cast<size_t>(R));
  std::vector<array> todo;
  for (int i = 0, j = 0; i < R; ++i) {
    const Row& r = rows[size_t(i)];
    Sequence& s = *r.seq;
    BatchOutput o;
    o.id = r.id;
    bool ok = guarded(o, [&] {
      if (s.opts.kv_quant) maybe_quantize_kv_cache(s.cache, *s.opts.kv_quant);
      if (!r.logits) {
        for (auto& c : s.cache) {
          for (auto& a : c->state()) todo.push_back(a);
        }
        return;
      }
      row_logits[size_t(i)] = R == 1 ? *logits : slice(*logits, {j, 0}, {j + 1, V});
      ys[size_t(i)] = sample_token(*row_logits[size_t(i)], s.history, s.processors, s.sampler,
                                   s.opts.top_logprobs, &lps[size_t(i)]);
      todo.push_back(*ys[size_t(i)]);
      if (lps[size_t(i)]) todo.push_back(*lps[size_t(i)]);
    });
    j += r.logits;
    if (!ok) {
      // This row failed; the others go on.
      s.failed = true;
      out.push_back(o);
    }
  }
  if (!guarded(why, [&] { eval(todo); })) return fail_all(why);
  for (int i = 0; i < R; ++i) {
    const Row& r = rows[size_t(i)];
    Sequence& s = *r.seq;
    if (s.failed) continue;
    const bool prefilling = s.fed < int(s.prompt_size);
    if (prefilling) s.fed += r.len;
    if (!r.logits) continue;
    if (prefilling) {
      // The prompt is in: its logits are the model's first on this sequence.
      BatchOutput first;
      first.id = r.id;
      if (!guarded(first, [&] { check_finite_logits(model_, *row_logits[size_t(i)], s.history); })) {
        s.failed = true;
        out.push_back(first);
        continue;
      }
      if (s.opts.max_tokens == 0) {
        first.stats = s.stats;
        first.finished = true;
        out.push_back(first);
        continue;
      }
    }
    // Reading the log-probabilities allocates: running out of memory there
    // fails this row (it must not escape step()).
    BatchOutput o;
    o.id = r.id;
    if (!guarded(o, [&] { o = emit(r.id, s, ys[size_t(i)]->item<int>(), lps[size_t(i)]); })) s.failed = true;
    out.push_back(o);
  }
}

std::vector<BatchOutput> BatchGenerator::step() {
  // The step's rows: every sequence with a token to decode, then chunks of
  // the prompts that joined (TokenGenerator's chunks) within the step's
  // budget, at least one.
  std::vector<Row> rows;
  for (auto& entry : seqs_) {
    Sequence& s = entry.second;
    if (!s.failed && s.fed == int(s.prompt_size) && s.made > 0 && s.made < s.opts.max_tokens) {
      rows.push_back({entry.first, &s, int(s.history.size()) - 1, 1, true});
    }
  }
  int budget = prefill_budget_;
  for (auto& entry : seqs_) {
    Sequence& s = entry.second;
    if (s.failed || s.fed == int(s.prompt_size)) continue;
    if (budget <= 0) break;
    const int n = std::min(int(s.prompt_size) - s.fed, s.opts.prefill_step_size);
    rows.push_back({entry.first, &s, s.fed, n, s.fed + n == int(s.prompt_size)});
    budget -= n;
  }
  std::vector<BatchOutput> out;
  if (!rows.empty()) forward(rows, out);
  return out;
}

}  // namespace uma::lm
