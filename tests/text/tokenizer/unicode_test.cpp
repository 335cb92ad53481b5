// UTF-8 repair, character classes and regex iteration semantics.
#include <gtest/gtest.h>

#include "uma/text/tokenizer/regex.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {
namespace {

TEST(Unicode, LossyMatchesRustFromUtf8Lossy) {
  using unicode::to_valid_utf8;
  EXPECT_EQ(to_valid_utf8("abc"), "abc");
  EXPECT_EQ(to_valid_utf8("a\xff" "b"), "a\ufffd" "b");
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  EXPECT_EQ(to_valid_utf8("\xe2\x82" "a"), "\ufffd" "a");
  EXPECT_EQ(to_valid_utf8("\xe2\x82"), "\ufffd");
  // Surrogates and overlongs: every byte is its own subpart.
  EXPECT_EQ(to_valid_utf8("\xed\xa0\x80"), "\ufffd\ufffd\ufffd");
  EXPECT_EQ(to_valid_utf8("\xc0\xaf"), "\ufffd\ufffd");
  EXPECT_EQ(to_valid_utf8("\xf0\x9f\x98"), "\ufffd");
  EXPECT_EQ(to_valid_utf8("\xf0\x9f\x98\x80"), "\U0001F600");
  EXPECT_TRUE(unicode::is_valid_utf8("\U0001F600 \u00e9"));
  EXPECT_FALSE(unicode::is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Unicode, Classes) {
  EXPECT_TRUE(unicode::is_white_space(0x3000));
  EXPECT_TRUE(unicode::is_white_space(0x85));
  EXPECT_FALSE(unicode::is_white_space(0x200B));  // zero-width space is Cf
  EXPECT_TRUE(unicode::is_word_char(0x24B6));     // circled A is Alphabetic
  EXPECT_TRUE(unicode::is_word_char(0x0301));     // combining mark
  EXPECT_FALSE(unicode::is_word_char(0x00B2));    // superscript two is No
  EXPECT_TRUE(unicode::is_numeric(0x00B2));
  EXPECT_TRUE(unicode::is_punctuation(0x3001));
  EXPECT_TRUE(unicode::is_ascii_punctuation('$'));
}

std::vector<std::string> matches(const Regex& re, const std::string& s) {
  std::vector<Span> spans;
  re.find_matches(s, spans);
  std::vector<std::string> out;
  for (const auto& sp : spans) {
    std::string m(1, sp.is_match ? '+' : '-');
    m.append(s, sp.begin, sp.end - sp.begin);
    out.push_back(m);
  }
  return out;
}

TEST(Regex, FindMatchesCoversTextAndSkipsEmptyAfterMatch) {
  Regex re("a*");
  // onig find_iter: "a" at 0, then no empty match right after it; empty at 2.
  EXPECT_EQ(matches(re, "abc"), (std::vector<std::string>{"+a", "-b", "+", "-c", "+"}));
  Regex space(R"(\s+(?!\S))");
  EXPECT_EQ(matches(space, "a  b"), (std::vector<std::string>{"-a", "+ ", "- b"}));
  EXPECT_EQ(matches(Regex("x"), ""), (std::vector<std::string>{"-"}));
  // Unicode classes and possessive quantifiers compile.
  Regex p(R"([^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++)");
  EXPECT_EQ(matches(p, "\u00c9t\u00e9 42!"), (std::vector<std::string>{"+\u00c9t\u00e9", "- ", "+4", "+2", "+!"}));
}

TEST(Regex, EscapeAndErrors) {
  std::string lit = "a.b*(c)\\ \n$";
  Regex re(Regex::escape(lit));
  EXPECT_EQ(matches(re, "x" + lit), (std::vector<std::string>{"-x", "+" + lit}));
  try {
    Regex bad("(unclosed");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(unclosed"), std::string::npos);
  }
}

}  // namespace
}  // namespace uma::text::tokenizer
