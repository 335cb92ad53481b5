// Grammars for constrained decoding: llama.cpp's GBNF text parsed into a
// compact IR that GrammarMatcher (matcher.h) runs over UTF-8 bytes.
//
//   auto g = uma::text::grammar::parse_gbnf(R"(root ::= "yes" | "no")");
//   GrammarMatcher m(g);
//   m.accept("ye");  // true; m.can_end() is false until "s"
//
// GBNF: `name ::= alternatives` rules (names of [a-zA-Z0-9_-]), `|`
// alternation, `( ... )` grouping, postfix `*`, `+`, `?`, `{m}`, `{m,}`,
// `{m,n}`, string literals "...", character classes [a-z0-9_] with `^`
// negation and ranges, `.` (any character), escapes \n \r \t \\ \" \[ \]
// \- \xHH \uHHHH \UHHHHHHHH, and `#` comments. A rule ends at the end of its
// line unless the line ends inside parentheses or after `::=` or `|`. The
// start rule is `root`.
//
// Left recursion (a rule that can reach itself without consuming a
// character, with something after the reference, e.g. `expr ::= expr "+"
// term`) is rejected with an error naming the cycle: the matcher expands
// rules top-down and its stack would grow without end. A repetition of
// something that may match nothing, ("a"?)*, is fine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uma::text::grammar {

// A set of Unicode code points as sorted, disjoint, non-adjacent ranges
// [first, last]; code points below 128 also in a bitmap (the common case).
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  uint64_t ascii[2] = {0, 0};

  bool contains(uint32_t cp) const {
    if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
    size_t lo = 0, hi = ranges.size();
    while (lo < hi) {  // the first range whose last >= cp
      size_t mid = (lo + hi) / 2;
      if (ranges[mid].second < cp) lo = mid + 1; else hi = mid;
    }
    return lo < ranges.size() && ranges[lo].first <= cp;
  }
  // Whether any code point of [first, last] is in the class.
  bool intersects(uint32_t first, uint32_t last) const;
  // Whether all of them are.
  bool covers(uint32_t first, uint32_t last) const;
  bool operator==(const CharClass& o) const { return ranges == o.ranges; }
};

// The IR: every alternative of every rule is a run of symbols in `code`,
// ended by kEnd. A symbol >= 0 is a rule reference; kEnd is -1; a terminal
// (one code point of class c) is -2 - c.
struct Grammar {
  static constexpr int32_t kEnd = -1;
  static bool is_terminal(int32_t sym) { return sym <= -2; }
  static int32_t terminal_class(int32_t sym) { return -2 - sym; }

  std::vector<int32_t> code;
  std::vector<std::vector<int32_t>> alternatives;  // per rule: offsets into code where each alternative starts
  std::vector<std::string> rule_names;             // generated rules are named parent_N
  std::vector<CharClass> classes;
  int32_t root = 0;

  // GBNF text of the IR (one line per rule): for error messages and tests.
  std::string to_gbnf() const;
};

// Limits that keep hostile grammars bounded: code symbols (after expanding
// repetitions), the count of a `{m,n}` repetition, and nesting of groups.
struct GrammarLimits {
  size_t max_symbols = size_t(1) << 22;
  uint32_t max_repetition = 100000;
  int max_nesting = 256;
};

// Parses GBNF. Throws std::invalid_argument "[parse_gbnf] line L, column C:
// ..." for syntax errors, undefined rules (naming them), a missing root,
// a rule defined twice, left recursion, and grammars over the limits.
std::shared_ptr<const Grammar> parse_gbnf(std::string_view text, const GrammarLimits& limits = {});

}  // namespace uma::text::grammar
