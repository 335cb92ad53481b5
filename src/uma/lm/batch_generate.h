// Continuous batching, as mlx-lm's BatchGenerator and llama.cpp's server:
// several generations of different lengths advance together, one forward
// pass per step over every sequence that is decoding (one token each) and
// the next chunks of the prompts that joined, so the weights are read once
// for all of them. The rows are packed one after another into a (1, N)
// input (kv_cache_batch.h): nothing is padded, and a step costs the tokens
// it feeds. Sequences join between steps and leave between steps without
// disturbing the others. Each keeps its own caches (any kind: standard,
// rotating for sliding windows and --max-kv-size, quantized for --kv-bits),
// sampler, seed, logits processors and max_tokens; attention runs row by
// row over each sequence's own cache, so no cache is copied to join.
//
// Greedy tokens equal TokenGenerator's for the same prompt (whose chunks
// the prompts are fed in); the logits differ only by the batched matmuls'
// rounding (an (N, K) x (K, M) product instead of one per sequence).
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

  // One forward pass: a decode step for every sequence that has a token to
  // feed, and the next chunk of the prompts that joined, as many as the
  // prefill budget takes (at least one). Returns each new token (or
  // failure): decoding sequences and those whose prompt is now in each make
  // one. An exception while computing the pass fails every sequence in it,
  // each with an output whose error says why.
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
  // One row of a step: `len` tokens of seq->history from `start` (a decode
  // step's token, or a chunk of the prompt); with `logits`, the next token
  // after them is sampled.
  struct Row {
    uint64_t id;
    Sequence* seq;
    int start, len;
    bool logits;
  };
  // Runs the rows through one forward pass (packed when several) and appends
  // their outputs; an exception in the pass itself fails them all.
  void forward(const std::vector<Row>& rows, std::vector<BatchOutput>& out);
  // Records token (and its log-probability) as s's next output.
  BatchOutput emit(uint64_t id, Sequence& s, int token, const std::optional<array>& lp);

  Model& model_;
  int prefill_budget_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Sequence> seqs_;  // by id: joining order
  int64_t decode_steps_ = 0, decode_rows_ = 0;
};

}  // namespace uma::lm
