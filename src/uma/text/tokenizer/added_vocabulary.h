// Added tokens (special and not), matched in the input before the model as
// Hugging Face `tokenizers` AddedVocabulary does: leftmost-longest matching,
// then the single_word / lstrip / rstrip rules; `normalized` tokens are
// matched in the normalized text, the others in the original text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "uma/text/tokenizer/trie.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

class Model;
class Normalizer;

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
  bool operator==(const AddedToken&) const = default;
};

// A byte range of the searched text; `id` is the added token, or -1 for text.
struct AddedMatch {
  size_t begin, end;
  int32_t id;
};

class AddedVocabulary {
 public:
  // tokenizers' add_tokens: a token keeps the model's id for its content,
  // otherwise takes the next free id. Returns the number of tokens added.
  size_t add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                    const Normalizer* normalizer);

  int32_t token_to_id(std::string_view content) const;  // -1 if not added
  const AddedToken* token(int32_t id) const;
  // The string decoding uses: the normalized content for normalized tokens.
  std::optional<std::string_view> id_to_token(int32_t id) const;
  bool is_special_content(std::string_view content) const {
    return special_.count(std::string(content)) != 0;
  }
  size_t size() const { return by_id_.size(); }
  const std::map<int32_t, AddedToken>& tokens() const { return by_id_; }

  // Splits `text` on the added tokens of one set (normalized or not); gaps
  // come out with id -1. With `skip_special`, special tokens are not matched.
  void split(std::string_view text, bool normalized_set, bool skip_special,
             std::vector<AddedMatch>& out) const;

 private:
  void refresh();

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> by_content_;
  std::map<int32_t, AddedToken> by_id_;
  std::unordered_map<int32_t, std::string> normalized_cache_;
  std::unordered_set<std::string> special_;
  PatternTrie raw_trie_, normalized_trie_;
};

}  // namespace uma::text::tokenizer
