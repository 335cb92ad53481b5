// Added tokens: the AddedVocabulary cases of the Hugging Face `tokenizers`
// test suite (lstrip/rstrip/single_word/normalized/special), and the same
// rules through a whole tokenizer.
#include <gtest/gtest.h>

#include "test_util.h"
#include "uma/text/tokenizer/added_vocabulary.h"
#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/normalizer.h"

namespace uma::text::tokenizer {
namespace {

using nlohmann::json;
using Splits = std::vector<std::pair<std::string, int32_t>>;

AddedToken token(const std::string& content, bool special) {
  AddedToken t;
  t.content = content;
  t.special = special;
  t.normalized = !special;
  return t;
}

// tokenizers' extract_and_normalize: raw tokens on the original text, then
// normalized tokens on the normalized gaps.
Splits extract(const AddedVocabulary& v, const Normalizer* n, const std::string& text,
               bool skip_special = false) {
  Splits out;
  std::vector<AddedMatch> raw, norm;
  v.split(text, false, skip_special, raw);
  for (const auto& m : raw) {
    std::string seg = text.substr(m.begin, m.end - m.begin);
    if (m.id >= 0) {
      out.emplace_back(seg, m.id);
      continue;
    }
    if (n) n->normalize(seg);
    norm.clear();
    v.split(seg, true, skip_special, norm);
    for (const auto& k : norm) out.emplace_back(seg.substr(k.begin, k.end - k.begin), k.id);
  }
  return out;
}

class AddedVocab : public ::testing::Test {
 protected:
  ModelPtr model = make_wordlevel(Vocab(), "<unk>");
  NormalizerPtr lower = make_normalizer({{"type", "Lowercase"}});
};

TEST_F(AddedVocab, ExtractsNormalAndSpecial) {
  AddedVocabulary v;
  v.add_tokens({token("my", false), token("name", false)}, *model, nullptr);
  v.add_tokens({token("[CLS]", true), token("[SEP]", true)}, *model, nullptr);
  EXPECT_EQ(extract(v, nullptr, "[CLS] My name is Anthony [SEP]"),
            (Splits{{"[CLS]", 2}, {" My ", -1}, {"name", 1}, {" is Anthony ", -1}, {"[SEP]", 3}}));
}

TEST_F(AddedVocab, OptionUseCases) {
  AddedVocabulary v;
  auto my = token("my", false);
  my.lstrip = my.rstrip = true;
  auto ony = token("ony", false);
  ony.single_word = true;
  v.add_tokens({my, token("name", false), ony}, *model, lower.get());
  v.add_tokens({token("[CLS]", true), token("[SEP]", true)}, *model, lower.get());
  EXPECT_EQ(extract(v, lower.get(), "[CLS] My name is Anthony [SEP]"),
            (Splits{{"[CLS]", 3}, {" my ", 0}, {"name", 1}, {" is anthony ", -1}, {"[SEP]", 4}}));
}

TEST_F(AddedVocab, SingleWord) {
  AddedVocabulary v;
  auto mask = token("<mask>", false);
  mask.single_word = true;
  v.add_tokens({mask}, *model, lower.get());
  EXPECT_EQ(extract(v, lower.get(), "<mask> My name <mask> A<mask> <mask>ony <mask>"),
            (Splits{{"<mask>", 0}, {" my name ", -1}, {"<mask>", 0}, {" a<mask> <mask>ony ", -1}, {"<mask>", 0}}));
  // Punctuation is not a word character; a combining mark is.
  EXPECT_EQ(extract(v, lower.get(), "<mask>, <mask>- \u25cc\u0330<mask>"),
            (Splits{{"<mask>", 0}, {", ", -1}, {"<mask>", 0}, {"- \u25cc\u0330<mask>", -1}}));
}

TEST_F(AddedVocab, LstripRstripUnicodeSpaces) {
  AddedVocabulary v;
  auto mask = token("<mask>", false);
  mask.lstrip = mask.rstrip = mask.single_word = true;
  v.add_tokens({mask}, *model, lower.get());
  EXPECT_EQ(extract(v, lower.get(), "Hi <mask> there\t<mask>\t<mask>\u2000"),
            (Splits{{"hi", -1}, {" <mask> ", 0}, {"there", -1}, {"\t<mask>\t", 0}, {"<mask>\u2000", 0}}));
}

TEST_F(AddedVocab, EncodeSpecialTokensAsText) {
  AddedVocabulary v;
  auto mask = token("<mask>", true);
  mask.lstrip = mask.rstrip = mask.single_word = true;
  v.add_tokens({mask, token("ask>", false), token("<pad>", true)}, *model, lower.get());
  const std::string text = "Hi <mask> there\t<mask>\t<mask>\u2000 <pad> <mask><pad><pad>";
  EXPECT_EQ(extract(v, lower.get(), text, /*skip_special=*/true),
            (Splits{{"hi <m", -1}, {"ask>", 1}, {" there\t<m", -1}, {"ask>", 1}, {"\t<m", -1}, {"ask>", 1},
                    {"\u2000 <pad> <m", -1}, {"ask>", 1}, {"<pad><pad>", -1}}));
  EXPECT_EQ(extract(v, lower.get(), text),
            (Splits{{"hi", -1}, {" <mask> ", 0}, {"there", -1}, {"\t<mask>\t", 0}, {"<mask>\u2000 ", 0},
                    {"<pad>", 2}, {" <mask>", 0}, {"<pad>", 2}, {"<pad>", 2}}));
}

TEST_F(AddedVocab, LeftmostLongestAndIds) {
  Vocab vocab;
  vocab.insert("a", 0);
  vocab.insert("<s>", 1);
  auto m = make_wordlevel(std::move(vocab), "a");
  AddedVocabulary v;
  // "<s>" exists in the model: it keeps id 1; new tokens take ids from 2.
  v.add_tokens({token("<s>", true), token("<|x|>", true), token("<|x|>y", true)}, *m, nullptr);
  EXPECT_EQ(v.token_to_id("<s>"), 1);
  EXPECT_EQ(v.token_to_id("<|x|>"), 2);
  EXPECT_EQ(v.token_to_id("<|x|>y"), 3);
  EXPECT_EQ(extract(v, nullptr, "a<|x|>yb<|x|>"), (Splits{{"a", -1}, {"<|x|>y", 3}, {"b", -1}, {"<|x|>", 2}}));
}

// The same rules inside a tokenizer.json: normalized tokens match after the
// normalizer, special tokens are skipped when decoding with skip_special.
TEST(AddedTokensInTokenizer, FlagsThroughEncodeAndDecode) {
  json j = {
      {"version", "1.0"},
      {"added_tokens",
       {{{"id", 4}, {"content", "[MASK]"}, {"single_word", false}, {"lstrip", true}, {"rstrip", false},
         {"normalized", false}, {"special", true}},
        {{"id", 5}, {"content", "hello world"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
         {"normalized", true}, {"special", false}}}},
      {"normalizer", {{"type", "Lowercase"}}},
      {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
      {"post_processor", nullptr},
      {"decoder", nullptr},
      {"model", {{"type", "WordLevel"}, {"vocab", {{"<unk>", 0}, {"hello", 1}, {"world", 2}, {"x", 3}}},
                 {"unk_token", "<unk>"}}}};
  Tokenizer tok = testing::from_json_value(j);
  EXPECT_EQ(tok.encode("x [MASK] HELLO WORLD x"), (std::vector<int32_t>{3, 4, 5, 3}));
  EXPECT_EQ(tok.encode("x [mask]"), (std::vector<int32_t>{3, 0}));  // not normalized: case matters
  EXPECT_EQ(tok.decode({3, 4, 5, 1}, false), "x [MASK] hello world hello");
  EXPECT_EQ(tok.decode({3, 4, 5, 1}, true), "x hello world hello");
  EXPECT_TRUE(tok.is_special(4));
  EXPECT_FALSE(tok.is_special(5));
  EncodeOptions as_text;
  as_text.parse_special_tokens = false;
  std::vector<int32_t> ids;
  tok.encode("x [MASK]", ids, as_text);
  EXPECT_EQ(ids, (std::vector<int32_t>{3, 0}));
  EXPECT_EQ(tok.vocab_size(), 6u);
  EXPECT_EQ(tok.token_to_id("hello world"), 5);
  EXPECT_EQ(tok.id_to_token(4), "[MASK]");
  EXPECT_EQ(tok.id_to_token(99), std::nullopt);
}

}  // namespace
}  // namespace uma::text::tokenizer
