// Perplexity of a model on a dataset, as mlx_lm.perplexity computes it:
// documents are tokenized (chats through the chat template), shuffled by a
// seed, concatenated and cut into sequences; each sequence's tokens after
// the first are scored, and the perplexity is exp(mean loss) with the
// standard error exp(mean) * std(losses, ddof=1) / sqrt(n) (delta method).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/lm/load.h"

namespace uma::lm {

struct PerplexityData {
  array sequences{0};      // (num_samples, sequence_length) int32
  array scored{0};         // with mask_prompt: (num_samples, sequence_length) uint8, 1 where a token is scored
  size_t documents_used = 0;
};

// Reads `path` (a .jsonl/.txt file, or a folder holding train.jsonl) and
// makes num_samples sequences (-1: as many as the data fills). With
// mask_prompt (uma's, not mlx-lm's), only the tokens training with
// mask_prompt learns are scored: a chat's last message (the answer, with its
// end-of-turn markup), a text document after its first token. Throws
// std::invalid_argument naming the path when it holds too few tokens for
// one sequence.
PerplexityData perplexity_data(const Loaded& lm, const std::string& path, int sequence_length, int num_samples,
                               uint64_t seed, bool mask_prompt = false);

struct PerplexityResult {
  double perplexity = 0, standard_error = 0, mean_loss = 0;
  int64_t tokens = 0;
};

// Scores sequences in batches of batch_size (float32 logits): every token
// after each sequence's first, or those `scored` marks (perplexity_data).
PerplexityResult perplexity(Model& model, const array& sequences, int batch_size, const array* scored = nullptr);

}  // namespace uma::lm
