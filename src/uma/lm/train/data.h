// Training data for `uma train`: documents read from text or JSONL files,
// tokenized with a loss mask, packed into fixed-length windows and served
// as batches that depend only on (seed, step), so a resumed run sees exactly
// the batches an uninterrupted one would.
//
// Files (as mlx-lm's datasets, plus plain text):
//   *.jsonl  one object per line: {"text": ...}, {"messages": [...]} (chat,
//            rendered with the chat template) or {"prompt": ..., "completion": ...}
//   *.txt    plain text; documents are separated by blank lines
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/text/chat_template.h"
#include "uma/text/tokenizer/tokenizer.h"

namespace uma::lm::train {

// One document before tokenization: plain text, or a conversation whose last
// message is the answer (prompt/completion pairs become two messages).
struct Document {
  std::string text;                  // set for plain text
  nlohmann::ordered_json messages;   // set for chats: [{role, content}, ...]
  bool is_chat() const { return !messages.is_null(); }
};

// Reads every document of a .txt or .jsonl file. Errors name the file and
// line: unreadable file, malformed JSON, a line with none of the fields.
std::vector<Document> read_documents(const std::string& path);

// The text a tokenizer should learn from a document (message contents and
// roles; template markup is made of special tokens).
void document_texts(const Document& d, std::vector<std::string>& out);

struct TokenizeOptions {
  const text::ChatTemplate* chat_template = nullptr;  // required for chats
  nlohmann::ordered_json template_extra;              // bos_token, eos_token, ...
  int32_t bos_id = -1;   // starts each plain-text document (if >= 0)
  int32_t eos_id = -1;   // ends each plain-text document (if >= 0)
  // Train on the answers of chats only (mlx-lm's --mask-prompt).
  bool mask_prompt = true;
};

// A tokenized document: ids and, per id, whether predicting it counts.
struct Example {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
};

Example tokenize_document(const Document& d, const text::tokenizer::Tokenizer& tok, const TokenizeOptions& o);

// Examples packed back to back into windows of seq_len + 1 tokens (inputs
// and shifted targets share seq_len of them). Each epoch packs the examples
// in a new order drawn from (seed, epoch); every epoch has the same number
// of batches since the total length does not change.
class PackedDataset {
 public:
  PackedDataset(std::vector<Example> examples, int seq_len, int batch_size, uint64_t seed, bool shuffle);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t total_tokens() const { return total_tokens_; }
  size_t num_examples() const { return examples_.size(); }

  struct Batch {
    array inputs{0.0f};   // (B, T) int32
    array targets{0.0f};  // (B, T) int32
    array mask{0.0f};     // (B, T) float32: 1 where the target counts
    int64_t tokens = 0;   // number of counted targets
  };
  // The batch at global index `step` (epoch = step / batches_per_epoch).
  Batch batch(int64_t step);

 private:
  void pack_epoch(int64_t epoch);

  std::vector<Example> examples_;
  int seq_len_, batch_size_;
  uint64_t seed_;
  bool shuffle_;
  int64_t total_tokens_ = 0, batches_per_epoch_ = 0, packed_epoch_ = -1;
  std::vector<int32_t> stream_;
  std::vector<uint8_t> stream_mask_;
};

}  // namespace uma::lm::train
