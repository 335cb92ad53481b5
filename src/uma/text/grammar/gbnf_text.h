// Pieces of GBNF text for the grammar generators (json_schema.cpp): quoted
// literals, class characters, integer ranges and regular expressions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Makes a rule of `body` (named after `hint`) and returns its name: the
// generators below add rules through it.
using GbnfRuleFn = std::function<std::string(const std::string& hint, const std::string& body)>;

// An expression matching exactly the strings `texts` (UTF-8), factored into
// a trie of rules so that a long list is matched by a few parse stacks, not
// one per string.
std::string gbnf_literal_set(std::vector<std::string> texts, const GbnfRuleFn& rule);

// The rest of a JSON string (after its opening quote; `close` is its closing
// quote and what follows) whose raw characters spell none of `excluded`:
// a trie over them, where leaving the trie, or ending off an excluded
// string, gives any string. Escapes are not offered, so "n\u0061me" cannot
// spell "name".
std::string gbnf_string_except(const std::vector<std::string>& excluded, const std::string& close,
                               const GbnfRuleFn& rule);

}  // namespace uma::text::grammar
