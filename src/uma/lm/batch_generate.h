// Continuous batching, as mlx-lm's BatchGenerator: several generations of
// different lengths advance together, one forward pass of shape (B, 1) per
// decode step over every sequence that is decoding, so the weights are read
// once for all of them. Sequences join between steps (their prompts are
// prefilled alone, in chunks, interleaved with the decode steps) and leave
// between steps without disturbing the others. Each keeps its own caches
// (any kind: standard, rotating for sliding windows and --max-kv-size,
// quantized for --kv-bits), sampler, seed, logits processors and
// max_tokens; attention runs row by row over each sequence's own cache
// (kv_cache_batch.h), so there is no padding and no cache is copied to join.
//
// Greedy tokens equal TokenGenerator's for the same prompt; the logits differ
// only by the batched matmuls' rounding (a (B, K) x (K, N) product instead of
// B products of one row).
//
//   BatchGenerator batch(model);
//   auto a = batch.insert(prompt_a, opts_a);
//   while (!batch.empty()) {
//     for (auto& out : batch.step()) { use(out); if (out.finished || !out.error.empty()) batch.remove(out.id); }
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "uma/lm/generate.h"

namespace uma::lm {

// What one step made for one sequence.
struct BatchOutput {
  uint64_t id = 0;
  std::optional<int> token;             // none when max_tokens is 0 or the sequence failed
  std::optional<TokenLogprob> logprob;  // with GenerateOptions::top_logprobs >= 0
  StepStats stats;
  bool finished = false;  // max_tokens are made: remove() it
  // Non-empty: this sequence failed (its message), the others go on;
  // remove() it. invalid: the failure was a std::invalid_argument (the
  // request's fault, not the server's).
  std::string error;
  bool invalid = false;
};

class BatchGenerator {
 public:
  // `model` must outlive this object. prefill_tokens_per_step bounds the
  // prompt tokens fed per step() (at least one chunk is), so that a long
  // prompt joining does not stall the sequences decoding for long.
  explicit BatchGenerator(Model& model, int prefill_tokens_per_step = 2048);

  // Adds a sequence and returns its id; it is prefilled by the next step()
  // calls. `cache`: caches already holding the first cache[0]->offset()
  // tokens of `prompt` (a prefix cache's; at least one prompt token must be
  // left to feed), or empty for fresh ones. Throws std::invalid_argument as
  // TokenGenerator does, and "[batch] ..." when the cache holds the whole
  // prompt.
  uint64_t insert(std::vector<int> prompt, const GenerateOptions& opts, CacheList cache = {});

  // Prefills (part of) the sequences that joined, then runs one decode step
  // for every sequence that has a token to feed. Returns each new token (or
  // failure); an exception while computing the batched step fails every
  // sequence in it, each with an output whose error says why.
  std::vector<BatchOutput> step();

  // Takes the sequence out of the batch (finished, failed or cancelled) and
  // returns its caches; `held` receives the tokens they hold (the prompt and
  // every returned token but the last, which was never fed).
  CacheList remove(uint64_t id, std::vector<int>* held = nullptr);

  // The caches of a sequence and (in `tokens`) the tokens they hold, while it
  // stays in the batch (the caches change with the next step).
  const CacheList& caches(uint64_t id, std::vector<int>* tokens = nullptr) const;

  bool empty() const { return seqs_.empty(); }
  int size() const { return int(seqs_.size()); }
  // Prompt tokens fed through the model for this sequence so far (the prompt
  // less what its cache held at insert).
  int prefilled(uint64_t id) const;
  // Decode steps run and the rows they computed in all (rows / steps: the
  // mean batch size).
  int64_t decode_steps() const { return decode_steps_; }
  int64_t decode_rows() const { return decode_rows_; }

 private:
  struct Sequence {
    GenerateOptions opts;
    CacheList cache;
    Sampler sampler;
    std::vector<LogitsProcessor> processors;
    std::vector<int> history;  // the prompt, then every token returned
    size_t prompt_size = 0;
    int fed = 0;               // prompt tokens the cache holds
    int cached = 0;            // of them, held at insert
    int made = 0;              // tokens returned
    bool failed = false;
    StepStats stats;
    std::chrono::steady_clock::time_point t_start, t_first;
  };
  // Feeds one chunk of s's prompt; returns the first token's output once the
  // last chunk is fed.
  std::optional<BatchOutput> prefill_chunk(uint64_t id, Sequence& s);
  // The decode step over `ids` (each with a token to feed).
  void decode(const std::vector<uint64_t>& ids, std::vector<BatchOutput>& out);
  // Records token (and its log-probability) as s's next output.
  BatchOutput emit(uint64_t id, Sequence& s, int token, const std::optional<array>& lp);

  Model& model_;
  int prefill_budget_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Sequence> seqs_;  // by id: joining order
  int64_t decode_steps_ = 0, decode_rows_ = 0;
};

}  // namespace uma::lm
