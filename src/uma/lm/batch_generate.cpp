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

std::optional<BatchOutput> BatchGenerator::prefill_chunk(uint64_t id, Sequence& s) {
  // The chunks TokenGenerator feeds: all but the last without logits.
  const int n = int(s.prompt_size), chunk = s.opts.prefill_step_size;
  if (n - s.fed > chunk) {
    model_(array(s.history.data() + s.fed, {1, chunk}), &s.cache);  // only the cache matters
    if (s.opts.kv_quant) maybe_quantize_kv_cache(s.cache, *s.opts.kv_quant);
    std::vector<array> st;
    for (auto& c : s.cache) {
      for (auto& a : c->state()) st.push_back(a);
    }
    eval(st);
    s.fed += chunk;
    return std::nullopt;
  }
  array logits = model_.last_logits(array(s.history.data() + s.fed, {1, n - s.fed}), &s.cache);
  if (s.opts.kv_quant) maybe_quantize_kv_cache(s.cache, *s.opts.kv_quant);
  std::optional<array> lp;
  array y = sample_token(logits, s.history, s.processors, s.sampler, s.opts.top_logprobs, &lp);
  std::vector<array> todo = {y, logits};
  if (lp) todo.push_back(*lp);
  eval(todo);
  check_finite_logits(model_, logits, s.history);
  s.fed = n;
  if (s.opts.max_tokens == 0) {
    BatchOutput o;
    o.id = id;
    o.stats = s.stats;
    o.finished = true;
    return o;
  }
  return emit(id, s, y.item<int>(), lp);
}

void BatchGenerator::decode(const std::vector<uint64_t>& ids, std::vector<BatchOutput>& out) {
  const int B = int(ids.size());
  std::vector<Sequence*> rows;
  std::vector<int> last;
  std::vector<CacheList*> lists;
  for (auto id : ids) {
    Sequence& s = seqs_.at(id);
    rows.push_back(&s);
    last.push_back(s.history.back());
    lists.push_back(&s.cache);
  }
  std::vector<std::optional<array>> ys(static_cast<size_t>(B)), lps(static_cast<size_t>(B));
  std::vector<array> todo;
  std::vector<BatchOutput> failed;
  // The batched forward pass; one row alone takes the unbatched path.
  auto fail_all = [&](const BatchOutput& why) {
    for (int b = 0; b < B; ++b) {
      if (rows[size_t(b)]->failed) continue;
      rows[size_t(b)]->failed = true;
      BatchOutput o = why;
      o.id = ids[size_t(b)];
      out.push_back(o);
    }
  };
  BatchOutput why;
  std::optional<array> logits;
  bool built = guarded(why, [&] {
    array inputs(last.data(), {B, 1});
    if (B == 1) {
      logits = model_.last_logits(inputs, lists[0]);
    } else {
      CacheList batch = batch_caches(lists);
      logits = model_.last_logits(inputs, &batch);
    }
  });
  if (!built) return fail_all(why);
  ++decode_steps_;
  decode_rows_ += B;
  const int V = logits->shape(-1);
  for (int b = 0; b < B; ++b) {
    Sequence& s = *rows[size_t(b)];
    BatchOutput o;
    o.id = ids[size_t(b)];
    bool ok = guarded(o, [&] {
      if (s.opts.kv_quant) maybe_quantize_kv_cache(s.cache, *s.opts.kv_quant);
      array row = B == 1 ? *logits : slice(*logits, {b, 0}, {b + 1, V});
      ys[size_t(b)] = sample_token(row, s.history, s.processors, s.sampler, s.opts.top_logprobs, &lps[size_t(b)]);
      todo.push_back(*ys[size_t(b)]);
      if (lps[size_t(b)]) todo.push_back(*lps[size_t(b)]);
    });
    if (!ok) {
      // This row's sampling failed; the others go on.
      s.failed = true;
      out.push_back(o);
    }
  }
  if (!guarded(why, [&] { eval(todo); })) return fail_all(why);
  for (int b = 0; b < B; ++b) {
    Sequence& s = *rows[size_t(b)];
    if (s.failed) continue;
    // Reading the log-probabilities allocates: running out of memory there
    // fails this row (it must not escape step()).
    BatchOutput o;
    o.id = ids[size_t(b)];
    if (!guarded(o, [&] { o = emit(ids[size_t(b)], s, ys[size_t(b)]->item<int>(), lps[size_t(b)]); })) s.failed = true;
    out.push_back(o);
  }
}

std::vector<BatchOutput> BatchGenerator::step() {
  std::vector<BatchOutput> out;
  std::vector<uint64_t> decoding;
  for (auto& [id, s] : seqs_) {
    if (!s.failed && s.fed == int(s.prompt_size) && s.made > 0 && s.made < s.opts.max_tokens) decoding.push_back(id);
  }
  if (!decoding.empty()) decode(decoding, out);
  // Then the prompts of those that joined, within the step's budget (at
  // least one chunk).
  int budget = prefill_budget_;
  for (auto& entry : seqs_) {
    // Not a structured binding: lambdas cannot capture those before clang 16.
    const uint64_t id = entry.first;
    Sequence& s = entry.second;
    if (s.failed || s.fed == int(s.prompt_size)) continue;
    if (budget <= 0) break;
    int before = s.fed;
    BatchOutput o;
    o.id = id;
    std::optional<BatchOutput> first;
    if (!guarded(o, [&] { first = prefill_chunk(id, s); })) {
      s.failed = true;
      out.push_back(o);
      continue;
    }
    if (first) out.push_back(*first);
    budget -= std::max(1, s.fed - before);
  }
  return out;
}

}  // namespace uma::lm
