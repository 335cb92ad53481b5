// GBNF parsing (the IR it builds, printed back as GBNF, and its errors) and
// the matcher on hand-made strings: accept/reject byte by byte, can_end,
// rollback, UTF-8 split across calls.
#include <gtest/gtest.h>

#include "uma/text/grammar/grammar.h"
#include "uma/text/grammar/matcher.h"

namespace uma::text::grammar {
namespace {

bool matches(const std::string& gbnf, const std::string& text) {
  GrammarMatcher m(parse_gbnf(gbnf));
  return m.accept(text) && m.can_end();
}

// The message of the std::invalid_argument parse_gbnf throws ("" if none).
std::string parse_error(const std::string& gbnf) {
  try {
    parse_gbnf(gbnf);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Gbnf, ParsesRulesIntoTheIr) {
  auto g = parse_gbnf("root ::= \"ab\" x | [a-c] # comment\nx ::= [^0-9]");
  EXPECT_EQ(g->to_gbnf(), "root ::= \"a\" \"b\" x | [a-c]\nx ::= [\\x00-/:-\\U0010FFFF]\n");
}

TEST(Gbnf, PrintsBackWhatItRead) {
  auto g = parse_gbnf("root ::= \"x\" | \"\"");
  EXPECT_EQ(g->to_gbnf(), "root ::= \"x\" | \"\"\n");
}

TEST(Gbnf, Alternation) {
  const char* g = "root ::= \"yes\" | \"no\" | \"maybe\"";
  EXPECT_TRUE(matches(g, "yes"));
  EXPECT_TRUE(matches(g, "no"));
  EXPECT_TRUE(matches(g, "maybe"));
  EXPECT_FALSE(matches(g, "ye"));
  EXPECT_FALSE(matches(g, "yess"));
  EXPECT_FALSE(matches(g, ""));
}

TEST(Gbnf, Repetitions) {
  EXPECT_TRUE(matches("root ::= \"a\"*", ""));
  EXPECT_TRUE(matches("root ::= \"a\"*", "aaaa"));
  EXPECT_FALSE(matches("root ::= \"a\"+", ""));
  EXPECT_TRUE(matches("root ::= \"a\"+", "a"));
  EXPECT_TRUE(matches("root ::= \"ab\"+", "ababab"));
  EXPECT_FALSE(matches("root ::= \"ab\"+", "aba"));
  EXPECT_TRUE(matches("root ::= \"a\"? \"b\"", "b"));
  EXPECT_TRUE(matches("root ::= \"a\"? \"b\"", "ab"));
  EXPECT_FALSE(matches("root ::= \"a\"? \"b\"", "aab"));
  const char* r = "root ::= [0-9]{2,4}";
  EXPECT_FALSE(matches(r, "1"));
  EXPECT_TRUE(matches(r, "12"));
  EXPECT_TRUE(matches(r, "123"));
  EXPECT_TRUE(matches(r, "1234"));
  EXPECT_FALSE(matches(r, "12345"));
  EXPECT_TRUE(matches("root ::= \"x\"{3}", "xxx"));
  EXPECT_FALSE(matches("root ::= \"x\"{3}", "xx"));
  EXPECT_FALSE(matches("root ::= \"x\"{3}", "xxxx"));
  EXPECT_FALSE(matches("root ::= \"x\"{2,}", "x"));
  EXPECT_TRUE(matches("root ::= \"x\"{2,}", "xxxxxxx"));
  EXPECT_TRUE(matches("root ::= \"x\"{0,1} \"y\"", "y"));
  for (int n = 0; n <= 6; ++n) EXPECT_EQ(matches("root ::= (\"a\" | \"bc\"){1,4}", std::string(size_t(n), 'a')), n >= 1 && n <= 4) << n;
}

TEST(Gbnf, GroupsAndMultiLineRules) {
  const char* g = R"(
root   ::= item ("," ws item)*
item   ::=
  "[" ws (
     [a-z]+ |
     [0-9]+
  ) ws "]"
ws ::= [ \t\n]*
)";
  EXPECT_TRUE(matches(g, "[abc]"));
  EXPECT_TRUE(matches(g, "[ abc ], [12]"));
  EXPECT_TRUE(matches(g, "[a],\n\t[1]"));
  EXPECT_FALSE(matches(g, "[a1]"));
  EXPECT_FALSE(matches(g, "[a],"));
}

TEST(Gbnf, CharClassesAndEscapes) {
  EXPECT_TRUE(matches("root ::= [^\"\\\\]+", "hello world"));
  EXPECT_FALSE(matches("root ::= [^\"\\\\]+", "a\"b"));
  EXPECT_TRUE(matches("root ::= \"\\n\\t\\x41\\u00e9\\U0001F600\"", "\n\tA\xC3\xA9\xF0\x9F\x98\x80"));
  EXPECT_TRUE(matches("root ::= [a-zA-Z_\\-]+", "Snake_case-x"));
  EXPECT_TRUE(matches("root ::= [\\]\\[]", "]"));
  EXPECT_TRUE(matches("root ::= .", "\xE2\x82\xAC"));  // one character, three bytes
  EXPECT_FALSE(matches("root ::= .", "ab"));
  EXPECT_TRUE(matches("root ::= [α-ω]+", "λόγος") == false);  // ό is outside α-ω
  EXPECT_TRUE(matches("root ::= [α-ω]+", "λαμβδα"));
}

TEST(Gbnf, Utf8SplitAcrossAccepts) {
  GrammarMatcher m(parse_gbnf("root ::= \"€\" [a-z]"));
  EXPECT_TRUE(m.accept("\xE2"));
  EXPECT_FALSE(m.can_end());
  EXPECT_FALSE(m.accept("\xE2"));       // not a continuation byte
  EXPECT_FALSE(m.accept("\x82\xAD"));   // U+20AD, not €
  EXPECT_TRUE(m.accept("\x82"));
  EXPECT_TRUE(m.accept("\xAC" "z"));
  EXPECT_TRUE(m.can_end());
  // A lead byte no character of the grammar starts with is refused at once.
  GrammarMatcher ascii(parse_gbnf("root ::= [a-z]*"));
  EXPECT_FALSE(ascii.accept("\xC3"));
  EXPECT_FALSE(ascii.accept("\xFF"));
  // Overlong encodings and surrogates are not characters.
  GrammarMatcher any(parse_gbnf("root ::= .*"));
  EXPECT_FALSE(any.accept("\xC0\xAF"));
  EXPECT_FALSE(any.accept("\xED\xA0\x80"));
  EXPECT_TRUE(any.accept("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(any.accept("\xF4\x90\x80\x80"));
}

TEST(Gbnf, RejectionLeavesTheStateAndRollbackRestoresIt) {
  GrammarMatcher m(parse_gbnf("root ::= \"ab\" \"c\"* \"!\""));
  ASSERT_TRUE(m.accept("ab"));
  MatcherState saved = m.state();
  EXPECT_FALSE(m.accept("cx"));
  EXPECT_EQ(m.state(), saved);
  EXPECT_TRUE(m.accept("cc!"));
  EXPECT_TRUE(m.is_done());
  m.restore(saved);
  EXPECT_FALSE(m.can_end());
  EXPECT_TRUE(m.accept("!"));
  EXPECT_TRUE(m.is_done());
}

TEST(Gbnf, CanEndAndIsDone) {
  GrammarMatcher m(parse_gbnf("root ::= \"a\" \"b\"?"));
  EXPECT_FALSE(m.can_end());
  m.accept("a");
  EXPECT_TRUE(m.can_end());
  EXPECT_FALSE(m.is_done());  // "b" may still come
  m.accept("b");
  EXPECT_TRUE(m.is_done());
}

TEST(Gbnf, RecursiveRules) {
  const char* g = "root ::= list\nlist ::= \"[\" (list (\",\" list)*)? \"]\"";
  EXPECT_TRUE(matches(g, "[]"));
  EXPECT_TRUE(matches(g, "[[],[[]],[]]"));
  EXPECT_FALSE(matches(g, "[[]"));
  EXPECT_FALSE(matches(g, "[],"));
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  EXPECT_TRUE(matches(g, deep));
}

TEST(Gbnf, Errors) {
  EXPECT_EQ(parse_error("root ::= foo"), "[parse_gbnf] line 1, column 10: rule 'foo' is used but never defined");
  EXPECT_EQ(parse_error("x ::= \"a\""), "[parse_gbnf] line 1, column 10: the grammar has no 'root' rule");
  EXPECT_EQ(parse_error("root ::= \"a\"\nroot ::= \"b\""), "[parse_gbnf] line 2, column 1: rule 'root' is defined twice");
  EXPECT_EQ(parse_error("root ::= \"abc"), "[parse_gbnf] line 1, column 10: unterminated string literal");
  EXPECT_EQ(parse_error("root ::= [a-"), "[parse_gbnf] line 1, column 10: unterminated character class");
  EXPECT_EQ(parse_error("root ::= [z-a]"), "[parse_gbnf] line 1, column 14: character range is backwards (end below start)");
  EXPECT_EQ(parse_error("root ::= (\"a\""), "[parse_gbnf] line 1, column 10: unclosed '('");
  EXPECT_EQ(parse_error("root = \"a\""), "[parse_gbnf] line 1, column 6: expected '::=' after rule name 'root'");
  EXPECT_EQ(parse_error("root ::= *"), "[parse_gbnf] line 1, column 10: '*' has nothing before it to repeat");
  EXPECT_EQ(parse_error("root ::= \"a\"{3,1}"), "[parse_gbnf] line 1, column 17: in '{m,n}', n is below m");
  EXPECT_EQ(parse_error("root ::= \"\\q\""), "[parse_gbnf] line 1, column 11: unknown escape '\\q'");
  EXPECT_EQ(parse_error("root ::= \"a\" )"), "[parse_gbnf] line 1, column 14: unexpected ')' in rule 'root'");
  EXPECT_EQ(parse_error("root ::= [^\\x00-\\U0010FFFF]"), "[parse_gbnf] line 1, column 10: the character class matches nothing");
  EXPECT_EQ(parse_error("root ::= a\na ::= b\nb ::= a"),
            "[parse_gbnf] line 1, column 1: rule 'root' can never be completed (its rules only refer to each "
            "other without reaching text)");
  EXPECT_EQ(parse_error("root ::= \"a\"{1000000}"),
            "[parse_gbnf] line 1, column 20: repetition count is over the limit of 100000");
}

TEST(Gbnf, LeftRecursionIsRejected) {
  EXPECT_EQ(parse_error("root ::= expr\nexpr ::= expr \"+\" [0-9] | [0-9]"),
            "[parse_gbnf] line 2, column 1: left recursion (expr -> expr): rewrite it with repetition, e.g. "
            "'expr ::= term (\"+\" term)*'");
  // Through a rule that can match nothing, and through two rules.
  EXPECT_NE(parse_error("root ::= a\na ::= b a \"x\" | \"y\"\nb ::= \"z\"?").find("left recursion (a -> a)"), std::string::npos)
      << parse_error("root ::= a\na ::= b a \"x\" | \"y\"\nb ::= \"z\"?");
  EXPECT_NE(parse_error("root ::= a\na ::= b \"x\"\nb ::= a \"y\" | \"z\"").find("left recursion"), std::string::npos);
  // Right recursion is fine, and so is repeating what may match nothing:
  // the parse comes back to the same stack.
  EXPECT_EQ(parse_error("root ::= \"x\" root | \"\""), "");
  EXPECT_EQ(parse_error("root ::= (\"a\"*)*"), "");
  EXPECT_TRUE(matches("root ::= (\"a\"? \"b\"?)* \"c\"", "abbac"));
  EXPECT_TRUE(matches("root ::= (\"a\"? \"b\"?)* \"c\"", "c"));
  EXPECT_FALSE(matches("root ::= (\"a\"? \"b\"?)* \"c\"", "abca"));
}

TEST(Gbnf, HostileGrammarsAreBounded) {
  std::string nested = "root ::= " + std::string(300, '(') + "\"a\"" + std::string(300, ')');
  EXPECT_NE(parse_error(nested).find("groups nested deeper than 256"), std::string::npos);
  GrammarLimits small;
  small.max_symbols = 1000;
  try {
    parse_gbnf("root ::= \"a\"{600} \"b\"{600}", small);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("grows past 1000 symbols"), std::string::npos) << e.what();
  }
  // Nested repetitions stay small: each group is one rule.
  EXPECT_EQ(parse_error("root ::= ((\"a\"{1000}){1000}){1000}"), "");
  // An ambiguous grammar whose parses multiply stops with an error, not a hang.
  GrammarMatcher m(parse_gbnf("root ::= x*\nx ::= \"a\" | \"a\" \"a\" | \"a\" \"a\" \"a\""));
  EXPECT_TRUE(m.accept(std::string(200, 'a')));
  EXPECT_TRUE(m.can_end());
}

}  // namespace
}  // namespace uma::text::grammar
