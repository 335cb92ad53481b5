// Tokenization models: BPE (byte-level and SentencePiece-style with byte
// fallback), WordPiece, WordLevel, Unigram, and the score-based SentencePiece
// BPE of llama.cpp used for GGUF `llama` vocabularies.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one pre-tokenized piece (non-empty, valid UTF-8).
  virtual void tokenize(std::string_view piece, std::vector<int32_t>& ids) const = 0;
  virtual int32_t token_to_id(std::string_view token) const = 0;  // -1 if absent
  virtual std::optional<std::string_view> id_to_token(int32_t id) const = 0;
  // Number of entries (tokenizers' get_vocab_size without added tokens).
  virtual size_t vocab_size() const = 0;
  // Largest id + 1.
  virtual int32_t id_limit() const = 0;
  virtual const char* type_name() const = 0;
};

using ModelPtr = std::unique_ptr<Model>;

class JsonScanner;

// tokenizer.json "model": the small fields as JSON, the large vocab and
// merges parsed straight from the file text.
struct ModelSource {
  nlohmann::json config = nlohmann::json::object();  // everything but vocab and merges
  std::optional<Vocab> vocab_map;                    // "vocab": {"token": id, ...}
  std::optional<std::vector<std::pair<std::string, double>>> vocab_list;  // [[piece, score], ...]
  std::optional<std::vector<std::pair<std::string_view, std::string_view>>> merges;
  std::deque<std::string> storage;  // merge strings that had escapes
  std::string what;                 // file name for errors
};

// Parses the model object at the scanner's position. Views in `merges`
// point into the scanned text, which must outlive make_model().
ModelSource scan_model(JsonScanner& scanner, const std::string& what);

// Builds the model named by config["type"] (or guessed like tokenizers does
// when the type is missing). Throws std::invalid_argument on bad input.
ModelPtr make_model(ModelSource source);

// --- direct constructors ----------------------------------------------------
struct BpeOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};
// `merges` pairs refer to vocab strings; throws if one is missing.
ModelPtr make_bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                  BpeOptions options);
ModelPtr make_wordpiece(Vocab vocab, std::string unk_token, std::string prefix,
                        size_t max_input_chars_per_word);
ModelPtr make_wordlevel(Vocab vocab, std::string unk_token);
ModelPtr make_unigram(std::vector<std::pair<std::string, double>> vocab,
                      std::optional<int32_t> unk_id, bool byte_fallback);
// llama.cpp SentencePiece: merge the adjacent pair whose concatenation is a
// vocabulary token of highest score; unknown characters become <0xNN> bytes.
ModelPtr make_spm(const std::vector<std::string>& tokens, const std::vector<float>& scores);

}  // namespace uma::text::tokenizer
