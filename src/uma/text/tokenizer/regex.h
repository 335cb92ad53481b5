// Regular expressions for pre-tokenizers and normalizers: PCRE2 in UTF + UCP
// mode with JIT, matching the Oniguruma semantics Hugging Face `tokenizers`
// uses (leftmost-first backtracking, Unicode \s \d \w \p{..}, lookarounds,
// possessive quantifiers).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace uma::text::tokenizer {

// A match or a gap between matches, as `tokenizers` Pattern::find_matches
// returns them: byte offsets into the searched text.
struct Span {
  size_t begin;
  size_t end;
  bool is_match;
};

class Regex {
 public:
  // Throws std::invalid_argument naming the pattern and the error position.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Finds the first match in text[start..); text must be valid UTF-8 and
  // start a character boundary. Returns false when there is none.
  bool search(std::string_view text, size_t start, size_t* match_begin, size_t* match_end) const;

  // Appends every match (iterated like the `onig` crate's find_iter: an empty
  // match right after the previous match is skipped) and the gaps between
  // them, covering the whole text; an empty text gives one empty gap.
  void find_matches(std::string_view text, std::vector<Span>& out) const;

  const std::string& pattern() const { return pattern_; }

  // Escapes a literal string so that it matches itself.
  static std::string escape(std::string_view literal);

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8
  bool jit_ = false;
};

}  // namespace uma::text::tokenizer
