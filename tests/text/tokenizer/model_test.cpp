// Models: the cases of the Hugging Face `tokenizers` test suite for BPE
// (unk fusing, byte fallback, subword prefix, ignore_merges), WordPiece and
// Unigram, plus llama.cpp-style SentencePiece by scores.
#include <gtest/gtest.h>

#include "uma/text/tokenizer/bpe.h"
#include "uma/text/tokenizer/model.h"

namespace uma::text::tokenizer {
namespace {

using Ids = std::vector<int32_t>;

Vocab vocab_of(std::initializer_list<std::pair<const char*, int32_t>> items) {
  Vocab v;
  for (const auto& [t, id] : items) v.insert(t, id);
  return v;
}

Ids tok(const Model& m, std::string_view s) {
  Ids ids;
  m.tokenize(s, ids);
  return ids;
}

TEST(Bpe, MergesByRank) {
  BpeModel bpe(vocab_of({{"u", 0}, {"n", 1}, {"r", 2}, {"e", 3}, {"l", 4}, {"a", 5}, {"t", 6}, {"d", 7},
                         {"re", 8}, {"at", 9}, {"ed", 10}, {"un", 11}, {"ated", 12}, {"rel", 13},
                         {"related", 14}, {"unrelated", 15}}),
               {});
  bpe.add_merges({{"r", "e"}, {"a", "t"}, {"e", "d"}, {"u", "n"}, {"at", "ed"}, {"re", "l"}, {"rel", "ated"},
                  {"un", "related"}});
  EXPECT_EQ(tok(bpe, "unrelated"), Ids{15});
  EXPECT_EQ(tok(bpe, "unrelated"), Ids{15});  // cached
  EXPECT_EQ(tok(bpe, "relate"), (Ids{13, 9, 3}));
  // Equal pairs merge leftmost first.
  BpeModel aa(vocab_of({{"a", 0}, {"aa", 1}}), {});
  aa.add_merges({{"a", "a"}});
  EXPECT_EQ(tok(aa, "aaa"), (Ids{1, 0}));
  EXPECT_EQ(tok(aa, "aaaa"), (Ids{1, 1}));
}

TEST(Bpe, UnknownsFusedOrNot) {
  BpeOptions opt;
  opt.unk_token = "<unk>";
  BpeModel plain(vocab_of({{"<unk>", 0}, {"a", 1}, {"b", 2}}), opt);
  EXPECT_EQ(tok(plain, "c"), Ids{0});
  EXPECT_EQ(tok(plain, "cc"), (Ids{0, 0}));
  EXPECT_EQ(tok(plain, "accb"), (Ids{1, 0, 0, 2}));
  opt.fuse_unk = true;
  BpeModel fused(vocab_of({{"<unk>", 0}, {"a", 1}, {"b", 2}}), opt);
  EXPECT_EQ(tok(fused, "cc"), Ids{0});
  EXPECT_EQ(tok(fused, "accb"), (Ids{1, 0, 2}));
  // Without unk_token unknown characters are dropped.
  BpeModel none(vocab_of({{"a", 0}}), {});
  EXPECT_EQ(tok(none, "xax"), Ids{0});
}

TEST(Bpe, ByteFallback) {
  BpeOptions opt;
  opt.unk_token = "<unk>";
  opt.byte_fallback = true;
  BpeModel bpe(vocab_of({{"<unk>", 0}, {"<0x61>", 1}, {"<0x0A>", 2}, {"<0xC3>", 3}, {"<0xA9>", 4}}), opt);
  EXPECT_EQ(tok(bpe, "c"), Ids{0});
  EXPECT_EQ(tok(bpe, "a"), Ids{1});
  EXPECT_EQ(tok(bpe, "\n"), Ids{2});
  EXPECT_EQ(tok(bpe, "\u00e9"), (Ids{3, 4}));
  // As in tokenizers, byte tokens go in while an unknown is still pending,
  // so the unknown lands after them.
  EXPECT_EQ(tok(bpe, "\u00e9c\n"), (Ids{3, 4, 2, 0}));
}

TEST(Bpe, ContinuingSubwordPrefix) {
  BpeOptions opt;
  opt.unk_token = "[UNK]";
  opt.continuing_subword_prefix = "##";
  BpeModel bpe(vocab_of({{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}, {"[UNK]", 5}}), opt);
  bpe.add_merges({{"a", "##b"}, {"ab", "##c"}});
  EXPECT_EQ(tok(bpe, "ab"), Ids{3});
  EXPECT_EQ(tok(bpe, "abc"), Ids{4});
  EXPECT_EQ(tok(bpe, "ba"), (Ids{5, 5}));  // "b" and "##a" are unknown
}

TEST(Bpe, EndOfWordSuffix) {
  BpeOptions opt;
  opt.end_of_word_suffix = "</w>";
  BpeModel bpe(vocab_of({{"l", 0}, {"o", 1}, {"w</w>", 2}, {"lo", 3}, {"low</w>", 4}}), opt);
  bpe.add_merges({{"l", "o"}, {"lo", "w</w>"}});
  EXPECT_EQ(tok(bpe, "low"), Ids{4});
  EXPECT_EQ(tok(bpe, "lo"), Ids{0});  // "o</w>" is not in the vocabulary: dropped
}

TEST(Bpe, IgnoreMerges) {
  auto make = [](bool ignore) {
    BpeOptions opt;
    opt.ignore_merges = ignore;
    auto bpe = std::make_unique<BpeModel>(
        vocab_of({{".:.:", 0}, {"\u0120belirtilen", 1}, {".", 2}, {":", 3}, {"bel", 4}, {"irtilen", 5},
                  {"\u0120", 6}, {".:", 7}, {"belirtilen", 8}, {".:.", 9}, {"be", 10}, {"l", 11}, {"ir", 12},
                  {"ti", 13}, {"en", 14}, {"irtil", 15}, {"irti", 16}, {"i", 17}, {"r", 18}, {"t", 19},
                  {"b", 20}, {"e", 21}, {"n", 22}}),
        opt);
    bpe->add_merges({{".", ":"}, {"b", "e"}, {"be", "l"}, {"i", "r"}, {"t", "i"}, {"ir", "ti"}, {"e", "n"},
                     {"irti", "l"}});
    return bpe;
  };
  auto on = make(true), off = make(false);
  EXPECT_EQ(tok(*on, ".:.:"), Ids{0});
  EXPECT_EQ(tok(*on, "\u0120belirtilen"), Ids{1});
  EXPECT_EQ(tok(*off, ".:.:"), (Ids{7, 7}));
  EXPECT_EQ(tok(*off, "\u0120belirtilen"), (Ids{6, 4, 15, 14}));
}

TEST(Bpe, MergeErrorsNameTheToken) {
  BpeModel bpe(vocab_of({{"a", 0}, {"b", 1}}), {});
  try {
    bpe.add_merges({{"a", "b"}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'ab'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(bpe.add_merges({{"a", "z"}}), std::invalid_argument);
}

TEST(WordPiece, GreedyLongestMatch) {
  auto wp = make_wordpiece(
      vocab_of({{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"runn", 4}, {"##ing", 5}, {"a", 6}}),
      "[UNK]", "##", 100);
  EXPECT_EQ(tok(*wp, "unaffable"), (Ids{1, 2, 3}));
  EXPECT_EQ(tok(*wp, "running"), (Ids{4, 5}));
  EXPECT_EQ(tok(*wp, "unx"), Ids{0});  // any unmatched rest makes the whole word unknown
  auto short_wp = make_wordpiece(vocab_of({{"[UNK]", 0}, {"a", 1}, {"##a", 2}}), "[UNK]", "##", 3);
  EXPECT_EQ(tok(*short_wp, "aaa"), (Ids{1, 2, 2}));
  EXPECT_EQ(tok(*short_wp, "aaaa"), Ids{0});  // longer than max_input_chars_per_word
}

TEST(WordLevel, LookupOrUnk) {
  auto wl = make_wordlevel(vocab_of({{"<unk>", 0}, {"hello", 1}}), "<unk>");
  EXPECT_EQ(tok(*wl, "hello"), Ids{1});
  EXPECT_EQ(tok(*wl, "bye"), Ids{0});
}

TEST(Unigram, Viterbi) {
  auto m = make_unigram({{"<unk>", 0.0}, {"a", 0.0}, {"b", 0.0}, {"c", 0.0}, {"d", 0.0}, {"cd", 1.0},
                         {"ab", 2.0}, {"abc", 5.0}, {"abcd", 10.0}},
                        0, false);
  EXPECT_EQ(tok(*m, "abcd"), Ids{8});
  auto m2 = make_unigram({{"<unk>", 0.0}, {"ab", 0.0}, {"cd", -0.1}, {"abc", -0.2}, {"a", -0.3}, {"b", -0.4},
                          {"c", -0.5}, {"ABC", -0.5}, {"abcdabcd", 20.0}, {"q", 20.5}, {"r", 20.5},
                          {"qr", -0.5}},
                         0, false);
  EXPECT_EQ(tok(*m2, "abc"), Ids{3});
  EXPECT_EQ(tok(*m2, "AB"), Ids{0});  // fused unknowns
  EXPECT_EQ(tok(*m2, "abcd"), (Ids{1, 2}));
  EXPECT_EQ(tok(*m2, "abcc"), (Ids{3, 6}));
  EXPECT_EQ(tok(*m2, "xabcabaabcdd"), (Ids{0, 3, 1, 4, 1, 2, 0}));
  EXPECT_EQ(tok(*m2, "xyz\u6771\u4eac"), Ids{0});
  EXPECT_EQ(tok(*m2, "ABC"), Ids{7});
  EXPECT_EQ(tok(*m2, "abABCcd"), (Ids{1, 7, 2}));
  EXPECT_EQ(tok(*m2, "ababcdabcdcd"), (Ids{1, 8, 2}));
  EXPECT_EQ(tok(*m2, "abqrcd"), (Ids{1, 9, 10, 2}));
}

TEST(Unigram, ByteFallback) {
  auto m = make_unigram({{"<unk>", 0.0}, {"<0xC3>", -0.01}, {"<0xA9>", -0.03}}, 0, true);
  EXPECT_EQ(tok(*m, "\u00e9"), (Ids{1, 2}));
  EXPECT_EQ(tok(*m, "?\u00e9")[0], 0);
  EXPECT_THROW(make_unigram({{"a", 0.0}}, 5, false), std::invalid_argument);
}

TEST(Spm, HighestScoreFirstWithByteFallback) {
  // "ab" (-1) beats "bc" (-2); then "abc" is not reachable from "ab"+"c".
  std::vector<std::string> toks = {"<unk>", "a", "b", "c", "ab", "bc", "<0xC3>", "<0xA9>"};
  std::vector<float> scores = {0, -5, -5, -5, -1, -2, 0, 0};
  auto m = make_spm(toks, scores);
  EXPECT_EQ(tok(*m, "abc"), (Ids{4, 3}));
  EXPECT_EQ(tok(*m, "bca"), (Ids{5, 1}));
  EXPECT_EQ(tok(*m, "a\u00e9"), (Ids{1, 6, 7}));
}

}  // namespace
}  // namespace uma::text::tokenizer

namespace uma::text::tokenizer {
namespace {

// Cutting SentencePiece-style text before each "▁" (when no token joins a
// character to a following "▁") must not change the result.
TEST(Bpe, MetaspaceWordsGiveTheSameIds) {
  auto make = [](bool joined) {
    auto v = vocab_of({{"\u2581", 0}, {"a", 1}, {"b", 2}, {"\u2581a", 3}, {"\u2581\u2581", 4}, {"ab", 5},
                       {"\u2581ab", 6}, {"<0x63>", 7}});
    if (joined) v.insert("a\u2581", 8);
    BpeOptions opt;
    opt.byte_fallback = true;
    auto bpe = std::make_unique<BpeModel>(std::move(v), opt);
    std::vector<std::pair<std::string_view, std::string_view>> merges = {
        {"\u2581", "a"}, {"a", "b"}, {"\u2581", "\u2581"}, {"\u2581a", "b"}};
    if (joined) merges.insert(merges.begin(), {"a", "\u2581"});
    bpe->add_merges(merges);
    return bpe;
  };
  auto cut = make(false), whole = make(true);
  // As one word: "▁a" merges first (rank 0) at 0, 4 and 9, which leaves the
  // "▁▁" pair stale; then "▁a"+"b".
  EXPECT_EQ(tok(*cut, "\u2581ab\u2581\u2581ab\u2581c\u2581a"), (Ids{6, 0, 6, 0, 7, 3}));
  EXPECT_EQ(tok(*cut, "a\u2581b"), (Ids{1, 0, 2}));
  EXPECT_EQ(tok(*cut, "ab\u2581"), (Ids{5, 0}));
  // With "a▁" in the vocabulary the text is not cut and the merge applies.
  EXPECT_EQ(tok(*whole, "a\u2581b"), (Ids{8, 2}));
}

}  // namespace
}  // namespace uma::text::tokenizer
