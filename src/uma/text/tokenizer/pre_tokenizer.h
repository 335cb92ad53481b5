// Pre-tokenizers of Hugging Face `tokenizers`: ByteLevel, Split, Digits,
// Metaspace, Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer,
// CharDelimiterSplit, Sequence. They cut the splits of a PreTokenized string
// into smaller ones (and may rewrite their text); splits that already hold an
// added token are left alone.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "uma/text/tokenizer/regex.h"

namespace uma::text::tokenizer {

// One split: a byte range of PreTokenized::text, or an added token.
struct Piece {
  uint32_t begin = 0, end = 0;
  int32_t token = -1;     // id of an added token; -1 for text
  bool at_start = false;  // starts at offset 0 of the original input
};

// The text being tokenized, cut into pieces. The *_tmp members are scratch
// space reused between calls so that steady-state encoding does not allocate.
struct PreTokenized {
  std::string text;
  std::vector<Piece> pieces;
  std::string text_tmp;
  std::vector<Piece> pieces_tmp;
  std::vector<Span> spans;

  std::string_view view(const Piece& p) const {
    return std::string_view(text).substr(p.begin, p.end - p.begin);
  }
  void clear() {
    text.clear();
    pieces.clear();
  }
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
SplitBehavior parse_split_behavior(const std::string& name);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& pt) const = 0;
};

using PreTokenizerPtr = std::unique_ptr<PreTokenizer>;

// Builds a pre-tokenizer from its tokenizer.json object; null JSON gives null.
PreTokenizerPtr make_pre_tokenizer(const nlohmann::json& config);

// Direct constructors (GGUF loader, tests).
PreTokenizerPtr make_split_pre_tokenizer(const std::string& pattern, bool is_regex,
                                         SplitBehavior behavior, bool invert);
PreTokenizerPtr make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
PreTokenizerPtr make_sequence_pre_tokenizer(std::vector<PreTokenizerPtr> items);

// Applies `behavior` to matches/gaps of a piece (tokenizers'
// NormalizedString::split) and returns the kept sub-ranges in `out`.
void apply_split_behavior(const std::vector<Span>& spans, SplitBehavior behavior,
                          std::vector<Span>& out);

}  // namespace uma::text::tokenizer
