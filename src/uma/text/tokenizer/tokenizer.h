// Tokenizer: the Hugging Face `tokenizers` pipeline (added tokens, normalizer,
// pre-tokenizer, model, post-processor, decoder) producing exactly the ids of
// `Tokenizer.encode(text).ids` and the text of `Tokenizer.decode(ids)`.
//
//   auto tok = uma::text::tokenizer::Tokenizer::from_file("model/tokenizer.json");
//   std::vector<int32_t> ids = tok.encode("Hello world");   // with special tokens
//   std::string text = tok.decode(ids, /*skip_special_tokens=*/true);
//
// A Tokenizer is immutable after construction and safe to use from several
// threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uma/text/tokenizer/added_vocabulary.h"
#include "uma/text/tokenizer/decoder.h"
#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/normalizer.h"
#include "uma/text/tokenizer/post_processor.h"
#include "uma/text/tokenizer/pre_tokenizer.h"

namespace uma::text::tokenizer {

struct EncodeOptions {
  // Run the post-processor (BOS/EOS, CLS/SEP...): tokenizers' add_special_tokens.
  bool add_special_tokens = true;
  // Match special added tokens written in the text; false treats them as
  // plain text (tokenizers' encode_special_tokens / split_special_tokens).
  bool parse_special_tokens = true;
};

struct TokenizerParts {
  ModelPtr model;
  NormalizerPtr normalizer;
  PreTokenizerPtr pre_tokenizer;
  PostProcessorPtr post_processor;
  DecoderPtr decoder;
  std::vector<AddedToken> added_tokens;  // added in order, as tokenizers does
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerParts parts);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Loads tokenizer.json. Throws std::invalid_argument naming the file and
  // the problem (missing file, malformed JSON, unknown component type).
  static Tokenizer from_file(const std::filesystem::path& path);
  // Parses tokenizer.json text; `what` names it in errors.
  static Tokenizer from_json(std::string_view text, const std::string& what = "tokenizer.json");

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Appends the ids of `text` to `ids`. Invalid UTF-8 is replaced by U+FFFD.
  void encode(std::string_view text, std::vector<int32_t>& ids, const EncodeOptions& options) const;

  // tokenizers' decode: unknown ids are skipped; special added tokens are
  // dropped when skip_special_tokens.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  std::string decode(std::initializer_list<int32_t> ids, bool skip_special_tokens = false) const {
    return decode(std::span<const int32_t>(ids.begin(), ids.size()), skip_special_tokens);
  }

  // Token string of an id (added tokens first, then the model), as stored in
  // the vocabulary (byte-level form for GPT-2 style vocabularies).
  std::optional<std::string> id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  bool is_special(int32_t id) const;
  // Model vocabulary size plus added tokens that are not in it.
  size_t vocab_size(bool with_added_tokens = true) const;
  // Largest id + 1 over model and added tokens.
  int32_t id_limit() const;

  const Model& model() const { return *parts_.model; }
  const AddedVocabulary& added_vocabulary() const { return added_; }
  bool has_post_processor() const { return parts_.post_processor != nullptr; }
  // Replaces the post-processor (transformers' add_bos_token / add_eos_token).
  void set_post_processor(PostProcessorPtr post_processor);

 private:
  TokenizerParts parts_;
  AddedVocabulary added_;
};

}  // namespace uma::text::tokenizer
