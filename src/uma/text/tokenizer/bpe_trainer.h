// Byte-level BPE training, as Hugging Face tokenizers' BpeTrainer with a
// ByteLevel pre-tokenizer: text is split by a regex (Llama 3's by default),
// mapped to GPT-2's byte alphabet, and the most frequent adjacent pair is
// merged until the vocabulary is full. The result is a tokenizer.json that
// uma's Tokenizer and Hugging Face `tokenizers` both load to the same ids.
//
//   BpeTrainer trainer({.vocab_size = 4096, .special_tokens = {"<|begin_of_text|>", "<|eot_id|>"}});
//   for (auto& doc : corpus) trainer.feed(doc);
//   nlohmann::ordered_json tok = trainer.finish();   // write as tokenizer.json
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace uma::text::tokenizer {

struct BpeTrainOptions {
  // Special tokens (ids 0..n-1, in order) + the 256 byte symbols + merges.
  size_t vocab_size = 4096;
  // A pair seen fewer times than this is never merged (training may then
  // stop below vocab_size).
  uint64_t min_frequency = 2;
  std::vector<std::string> special_tokens;
  // Added by the post-processor before every encoded text (must be one of
  // special_tokens); empty adds nothing.
  std::string bos_token;
  // The split regex before byte-level mapping; empty: Llama 3's.
  std::string split_regex;
  // Longest merged token in bytes (0: no limit); keeps rare long words from
  // taking vocabulary slots as whole tokens.
  size_t max_token_bytes = 16;
};

class BpeTrainer {
 public:
  // Throws std::invalid_argument for a vocab_size that cannot hold the
  // special tokens and the byte alphabet, duplicate special tokens, or a
  // bos_token that is not one of them.
  explicit BpeTrainer(BpeTrainOptions options);
  ~BpeTrainer();
  BpeTrainer(BpeTrainer&&) noexcept;
  BpeTrainer& operator=(BpeTrainer&&) noexcept;

  // Counts the words of one document (special tokens in it are not split
  // out: they are control tokens, not text to learn).
  void feed(std::string_view text);
  // Runs the merges and returns tokenizer.json. The trainer is spent after.
  nlohmann::ordered_json finish();

  size_t distinct_words() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma::text::tokenizer
