// A small, strict JSON scanner for the large parts of tokenizer.json (the
// model's vocab and merges, hundreds of thousands of entries) that a DOM
// parser would be too slow for. Everything else is cut out as raw text and
// handed to nlohmann::json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace uma::text::tokenizer {

class JsonScanner {
 public:
  // `what` names the document in error messages (a file path).
  JsonScanner(std::string_view text, std::string what) : s_(text), what_(std::move(what)) {}

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  // Next non-space character, 0 at the end.
  char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void expect(char c);

  // Parses the string at the cursor. The view points into the document when
  // the string has no escapes, else into `scratch`.
  std::string_view parse_string(std::string& scratch);
  int64_t parse_int();
  double parse_double();
  // Skips the value at the cursor and returns its raw text.
  std::string_view skip_value();
  bool at_end() {
    skip_ws();
    return i_ >= s_.size();
  }
  size_t offset() const { return i_; }
  size_t remaining() const { return s_.size() - i_; }

  [[noreturn]] void fail(const std::string& message) const;

 private:
  void skip_string();
  std::string_view s_;
  size_t i_ = 0;
  std::string what_;
};

}  // namespace uma::text::tokenizer
