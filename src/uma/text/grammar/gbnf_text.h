// Pieces of GBNF text for the grammar generators (json_schema.cpp): quoted
// literals, class characters, integer ranges and regular expressions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uma::text::grammar {

// `text` (UTF-8) as a GBNF string literal, escaped.
std::string gbnf_literal(std::string_view text);
// One code point escaped for use inside [...].
std::string gbnf_class_char(uint32_t cp);

// A GBNF expression (no rule references) matching the decimal integers in
// [lo, hi] as JSON writes them (no leading zeros, "-" for negatives); an
// unset bound is +-(10^16 - 1). Throws std::invalid_argument when lo > hi.
std::string gbnf_int_range(std::optional<int64_t> lo, std::optional<int64_t> hi);

// A GBNF expression for the contents of a JSON string (between the quotes)
// whose decoded text matches the regular expression `pattern` (ECMA-262
// syntax, as JSON Schema uses: literals, escapes, ., [...] with ranges and
// negation, \d \w \s \D \W \S, groups (...) and (?:...), |, *, +, ?, {m,n},
// ^ at the start and $ at the end). An unanchored side may have any text.
// Characters that JSON must escape are written escaped. Throws
// std::invalid_argument "[pattern] ..." for syntax it does not take
// (lookarounds, backreferences, ...), naming the position.
std::string gbnf_from_regex(std::string_view pattern);

}  // namespace uma::text::grammar
