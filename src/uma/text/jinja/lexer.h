// Tokenizer with the exact whitespace rules of Jinja2's lexer as configured
// by transformers: trim_blocks, lstrip_blocks, `-`/`+` modifiers, raw blocks,
// comments, newline normalization and removal of one trailing newline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uma::text::jinja {

enum class Tok : uint8_t {
  data, block_begin, block_end, variable_begin, variable_end,
  name, string, integer, floating, op, eof,
  error  // a lexing error, raised when the parser reaches it (as Jinja's lazy lexer does)
};

struct Token {
  Tok type = Tok::eof;
  std::string value;   // data text, name, unescaped string or operator text
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1, column = 1;
};

// Never throws for bad input: a lexing error becomes a final Tok::error
// token whose value is the message.
std::vector<Token> tokenize(const std::string& source);

// Decodes the escapes of a string literal's body; false (with the message
// Python gives) for a malformed escape.
bool unescape_string(std::string_view body, std::string& out, std::string& error);

// Python's description of a token in parser messages ("end of statement block").
std::string describe(const Token& t);

}  // namespace uma::text::jinja
