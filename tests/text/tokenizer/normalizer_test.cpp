// Normalizers, with expected values from the Unicode standard and the
// behaviour of Hugging Face `tokenizers` (Rust char semantics).
#include <gtest/gtest.h>

#include "uma/text/tokenizer/normalizer.h"

namespace uma::text::tokenizer {
namespace {

using nlohmann::json;

std::string norm(const json& config, std::string s) {
  auto n = make_normalizer(config);
  n->normalize(s);
  return s;
}

TEST(Normalizer, UnicodeForms) {
  EXPECT_EQ(norm({{"type", "NFC"}}, "Cafe\u0301 au lait"), "Caf\u00e9 au lait");
  EXPECT_EQ(norm({{"type", "NFD"}}, "Caf\u00e9"), "Cafe\u0301");
  EXPECT_EQ(norm({{"type", "NFKC"}}, "\ufb01ne \u2460 \uff21"), "fine 1 A");
  EXPECT_EQ(norm({{"type", "NFKD"}}, "\ufb01 \u00e9"), "fi e\u0301");
  // Canonical reordering of combining marks across an ASCII base.
  EXPECT_EQ(norm({{"type", "NFC"}}, "a\u0323\u0307 x"), "\u1ea1\u0307 x");
  EXPECT_EQ(norm({{"type", "NFC"}}, "plain ascii"), "plain ascii");
  // Hangul jamo compose.
  EXPECT_EQ(norm({{"type", "NFC"}}, "\u1100\u1161"), "\uac00");
}

TEST(Normalizer, Lowercase) {
  // Full mapping for U+0130, per-character sigma (no final-sigma rule).
  EXPECT_EQ(norm({{"type", "Lowercase"}}, "HeLLo \u0130 \u03a3\u03a3 \u00c9"), "hello i\u0307 \u03c3\u03c3 \u00e9");
}

TEST(Normalizer, Strip) {
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, " \t hi  \u3000"), "hi");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}}, "  hi "), "hi ");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}, "  hi "), "  hi");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, "   "), "");
}

TEST(Normalizer, StripAccentsAfterNfd) {
  json seq = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}}}};
  EXPECT_EQ(norm(seq, "Cr\u00e8me br\u00fbl\u00e9e"), "Creme brulee");
}

TEST(Normalizer, Replace) {
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}, "a b  c"),
            "a\u2581b\u2581\u2581c");
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}}, "a \t\n b  c"),
            "a b c");
  // Regex metacharacters in a String pattern are literal.
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"String", "a.b"}}}, {"content", "X"}}, "a.b acb"), "X acb");
}

TEST(Normalizer, Prepend) {
  json p = {{"type", "Prepend"}, {"prepend", "\u2581"}};
  EXPECT_EQ(norm(p, "Hey"), "\u2581Hey");
  EXPECT_EQ(norm(p, ""), "");
}

TEST(Normalizer, Bert) {
  json bert = {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
               {"strip_accents", nullptr}, {"lowercase", true}};
  // \t becomes a space; NUL and the zero-width space (Cf) go; accents go with lowercase.
  EXPECT_EQ(norm(bert, std::string("H\u00e9llo\tW\0rld\u200b!", 17)), "hello wrld!");
  EXPECT_EQ(norm(bert, "ab\u4f60\u597dc"), "ab \u4f60  \u597d c");
  json keep = bert;
  keep["lowercase"] = false;
  EXPECT_EQ(norm(keep, "H\u00e9"), "H\u00e9");
}

TEST(Normalizer, NmtAndByteLevel) {
  EXPECT_EQ(norm({{"type", "Nmt"}}, "\x01" "a\u200bb\tc"), "a b c");
  EXPECT_EQ(norm({{"type", "ByteLevel"}}, "\u00e9 a"), "\u00c3\u00a9\u0120a");
}

TEST(Normalizer, UnknownTypeIsAnErrorNamingIt) {
  try {
    make_normalizer({{"type", "Precompiled"}, {"precompiled_charsmap", ""}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'Precompiled'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_normalizer({{"no_type", 1}}), std::invalid_argument);
  EXPECT_EQ(make_normalizer(nullptr), nullptr);
}

}  // namespace
}  // namespace uma::text::tokenizer
