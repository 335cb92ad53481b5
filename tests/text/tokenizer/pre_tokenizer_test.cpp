// Pre-tokenizers, with the examples of the Hugging Face `tokenizers`
// documentation and test suite.
#include <gtest/gtest.h>

#include "uma/text/tokenizer/pre_tokenizer.h"

namespace uma::text::tokenizer {
namespace {

using nlohmann::json;
using Pieces = std::vector<std::string>;

Pieces run(const json& config, const std::string& text) {
  auto p = make_pre_tokenizer(config);
  PreTokenized pt;
  pt.text = text;
  pt.pieces.push_back({0, static_cast<uint32_t>(text.size()), -1, true});
  p->pre_tokenize(pt);
  Pieces out;
  for (const auto& piece : pt.pieces) out.emplace_back(pt.view(piece));
  return out;
}

json split(const std::string& pattern, const std::string& behavior, bool invert = false, bool regex = false) {
  return {{"type", "Split"},
          {"pattern", {{regex ? "Regex" : "String", pattern}}},
          {"behavior", behavior},
          {"invert", invert}};
}

TEST(PreTokenizer, SplitBehaviors) {
  const std::string s = "the-final--countdown";
  EXPECT_EQ(run(split("-", "Removed"), s), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(run(split("-", "Isolated"), s), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run(split("-", "MergedWithPrevious"), s), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run(split("-", "MergedWithNext"), s), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run(split("-", "Contiguous"), s), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizer, SplitRegexAndInvert) {
  EXPECT_EQ(run(split("\\w+", "Removed", true, true), "Hello, world!"), (Pieces{"Hello", "world"}));
  EXPECT_EQ(run(split("\\s+", "Removed", false, true), " a \t b "), (Pieces{"a", "b"}));
  // A literal with regex metacharacters.
  EXPECT_EQ(run(split("a.", "Isolated"), "xa.yaz"), (Pieces{"x", "a.", "yaz"}));
}

// Found with the fuzz_tokenizer harness: a catastrophically backtracking
// pattern hits PCRE2's match limit, which escaped as std::runtime_error; it is
// bad input and throws std::invalid_argument. The same pattern still splits
// text it can match ("aaa" at the end).
TEST(PreTokenizer, SplitRegexMatchLimitIsInvalidArgument) {
  const json bad = split("(a+)+$", "Isolated", false, true);
  EXPECT_EQ(run(bad, "xaaa"), (Pieces{"x", "aaa"}));
  try {
    run(bad, std::string(40, 'a') + "!");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[tokenizer] regex '(a+)+$' failed: match limit exceeded"),
              std::string::npos)
        << e.what();
  }
}

TEST(PreTokenizer, SplitLlama3Pattern) {
  json llama3 = split(
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
      "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      "Isolated", false, true);
  EXPECT_EQ(run(llama3, "I'M 12345 \u00e9t\u00e9!!\n\n  x"),
            (Pieces{"I", "'M", " ", "123", "45", " \u00e9t\u00e9", "!!\n\n", " ", " x"}));
}

TEST(PreTokenizer, Digits) {
  EXPECT_EQ(run({{"type", "Digits"}, {"individual_digits", true}}, "Call 123 please"),
            (Pieces{"Call ", "1", "2", "3", " please"}));
  EXPECT_EQ(run({{"type", "Digits"}, {"individual_digits", false}}, "Call 123 please"),
            (Pieces{"Call ", "123", " please"}));
}

TEST(PreTokenizer, Metaspace) {
  json m = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}, {"split", true}};
  EXPECT_EQ(run(m, "Hey friend!"), (Pieces{"\u2581Hey", "\u2581friend!"}));
  EXPECT_EQ(run(m, "Hey   friend"), (Pieces{"\u2581Hey", "\u2581", "\u2581", "\u2581friend"}));
  m["prepend_scheme"] = "never";
  EXPECT_EQ(run(m, "Hey friend"), (Pieces{"Hey", "\u2581friend"}));
  m["prepend_scheme"] = "always";
  m["split"] = false;
  EXPECT_EQ(run(m, "Hey friend!"), (Pieces{"\u2581Hey\u2581friend!"}));
}

TEST(PreTokenizer, MetaspaceFirstOnlyAtStart) {
  json m = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
  auto p = make_pre_tokenizer(m);
  PreTokenized pt;
  pt.text = "Hey you";
  pt.pieces = {{0, 3, -1, true}, {0, 0, 7, false}, {3, 7, -1, false}};
  p->pre_tokenize(pt);
  ASSERT_EQ(pt.pieces.size(), 3u);
  EXPECT_EQ(pt.view(pt.pieces[0]), "\u2581Hey");
  EXPECT_EQ(pt.pieces[1].token, 7);
  EXPECT_EQ(pt.view(pt.pieces[2]), "\u2581you");  // " you": the space becomes the replacement
}

TEST(PreTokenizer, WhitespaceFamilies) {
  EXPECT_EQ(run({{"type", "Whitespace"}}, "Hey man!"), (Pieces{"Hey", "man", "!"}));
  EXPECT_EQ(run({{"type", "Whitespace"}}, "How are you doing?"), (Pieces{"How", "are", "you", "doing", "?"}));
  EXPECT_EQ(run({{"type", "Whitespace"}}, "caf\u00e9\u00b2--x_1"), (Pieces{"caf\u00e9", "\u00b2--", "x_1"}));
  EXPECT_EQ(run({{"type", "WhitespaceSplit"}}, "Hey man!\u3000ok"), (Pieces{"Hey", "man!", "ok"}));
}

TEST(PreTokenizer, PunctuationAndBert) {
  EXPECT_EQ(run({{"type", "Punctuation"}}, "Hey friend!    How are you?!?"),
            (Pieces{"Hey friend", "!", "    How are you", "?", "!", "?"}));
  EXPECT_EQ(run({{"type", "Punctuation"}, {"behavior", "MergedWithPrevious"}}, "a,b"), (Pieces{"a,", "b"}));
  EXPECT_EQ(run({{"type", "BertPreTokenizer"}}, "Hey friend!     How are you?!?"),
            (Pieces{"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"}));
}

TEST(PreTokenizer, ByteLevel) {
  json bl = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(run(bl, "Hello my friend, how is your day going?"),
            (Pieces{"\u0120Hello", "\u0120my", "\u0120friend", ",", "\u0120how", "\u0120is", "\u0120your",
                    "\u0120day", "\u0120going", "?"}));
  bl["add_prefix_space"] = false;
  bl["use_regex"] = false;
  EXPECT_EQ(run(bl, "a b\n\u00e9"), (Pieces{"a\u0120b\u010a\u00c3\u00a9"}));
}

TEST(PreTokenizer, Sequence) {
  json seq = {{"type", "Sequence"},
              {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}, {"individual_digits", true}}}}};
  EXPECT_EQ(run(seq, "Hey 123 friend"), (Pieces{"Hey", "1", "2", "3", "friend"}));
}

TEST(PreTokenizer, Errors) {
  try {
    make_pre_tokenizer({{"type", "UnicodeScripts"}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'UnicodeScripts'"), std::string::npos);
  }
  EXPECT_THROW(make_pre_tokenizer(split("(", "Isolated", false, true)), std::invalid_argument);
  EXPECT_THROW(make_pre_tokenizer(split("-", "Sideways")), std::invalid_argument);
}

}  // namespace
}  // namespace uma::text::tokenizer
