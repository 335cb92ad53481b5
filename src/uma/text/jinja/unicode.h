// UTF-8 helpers with Python str semantics: strings are UTF-8 bytes, while
// lengths, indices and character classes are those of Python code points.
// Invalid bytes decode to U+DC80..U+DCFF and encode back to the same byte
// (like Python's surrogateescape), so no input is ever lost or crashes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace uma::text::jinja::unicode {

// Decodes the code point at s[i] and advances i past it.
char32_t decode(std::string_view s, size_t& i);
void append(std::string& out, char32_t cp);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);

bool is_ascii(std::string_view s);
size_t length(std::string_view s);  // in code points
// Byte offset of each code point plus the end offset (size = length + 1).
std::vector<size_t> offsets(std::string_view s);

bool is_space(char32_t c);      // str.isspace
bool is_linebreak(char32_t c);  // str.splitlines boundaries
bool is_alpha(char32_t c);
bool is_decimal(char32_t c);
bool is_digit(char32_t c);
bool is_numeric(char32_t c);
bool is_upper(char32_t c);
bool is_lower(char32_t c);
bool is_title(char32_t c);
bool is_cased(char32_t c);
bool is_printable(char32_t c);
bool is_word(char32_t c);        // regex \w
bool is_identifier_char(char32_t c);  // Jinja name token characters

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string casefold(std::string_view s);
std::string swapcase(std::string_view s);
std::string title(std::string_view s);       // str.title
std::string capitalize(std::string_view s);  // str.capitalize
void append_upper(std::u32string& out, char32_t c);
void append_lower(std::u32string& out, char32_t c);
void append_title(std::u32string& out, char32_t c);

}  // namespace uma::text::jinja::unicode
