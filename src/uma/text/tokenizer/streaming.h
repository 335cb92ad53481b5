// Streaming detokenization for generation: feed token ids one at a time and
// get the text they complete.
//
//   StreamingDetokenizer stream(tokenizer);
//   for (int32_t id : generated) std::cout << stream.add(id);
//   std::cout << stream.finish();
//
// Guarantees: every returned string is valid UTF-8 (an incomplete multi-byte
// character is held back until its last byte arrives), and the concatenation
// of all add() results and finish() equals tokenizer.decode(all ids) — also
// for SentencePiece decoders that strip the first token's leading space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uma::text::tokenizer {

class Tokenizer;

class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens = false);

  // Adds one id; returns the newly completed text (possibly empty).
  std::string add(int32_t id);
  // Returns what is still held back (e.g. a dangling partial character, as
  // U+FFFD) and starts over.
  std::string finish();
  void reset();

  // All text returned so far since the last reset.
  const std::string& text() const { return emitted_; }

 private:
  std::string decode(const std::vector<int32_t>& ids) const;

  const Tokenizer* tokenizer_;
  bool skip_special_;
  // Window of ids still needed: [0, prefix_index_) is context already
  // emitted (kept because decoders look at neighbours), the rest is pending.
  std::vector<int32_t> window_;
  std::string prefix_;  // decode of window_[0, prefix_index_)
  size_t prefix_index_ = 0;
  std::vector<int32_t> all_ids_;  // for the rare fallback to a full decode
  std::string emitted_;
};

}  // namespace uma::text::tokenizer
