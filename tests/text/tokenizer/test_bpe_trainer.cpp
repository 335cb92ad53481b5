// Byte-level BPE training: the merges against a naive trainer written here
// (recount every pair after every merge), and the written tokenizer.json
// loaded back and used.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "uma/text/tokenizer/bpe_trainer.h"
#include "uma/text/tokenizer/pre_tokenizer.h"
#include "uma/text/tokenizer/tokenizer.h"
#include "uma/text/tokenizer/unicode.h"

namespace tk = uma::text::tokenizer;

namespace {

const std::vector<std::string> kCorpus = {
    "the cat sat on the mat. the cat ate the rat!",
    "A mat is a flat piece of material; the rat sat there, 123 456 7890.",
    "Cynic, n. A blackguard whose faulty vision sees things as they are, not as they ought to be.",
    "the the the theme thermal thesis 'tis the season \n\n  spaces   and\ttabs",
    "naïve café — déjà vu, ℕ and emoji 🙂🙂",
};

// Naive BPE over the same words: words are lists of byte strings; each
// round counts every adjacent pair and merges the most frequent one (ties:
// the pair of smaller token ids, as the trainer orders them).
std::vector<std::string> naive_merges(const std::map<std::vector<std::string>, uint64_t>& words_in, size_t n,
                                      size_t max_bytes) {
  std::map<std::string, int> id;
  for (int b = 0; b < 256; ++b) id[std::string(1, char(b))] = b;
  std::vector<std::pair<std::vector<std::string>, uint64_t>> words(words_in.begin(), words_in.end());
  std::vector<std::string> merges;
  while (merges.size() < n) {
    std::map<std::pair<int, int>, uint64_t> counts;
    for (auto& [w, c] : words) {
      for (size_t i = 0; i + 1 < w.size(); ++i) {
        if (w[i].size() + w[i + 1].size() <= max_bytes) counts[{id[w[i]], id[w[i + 1]]}] += c;
      }
    }
    std::pair<int, int> best{-1, -1};
    uint64_t best_count = 0;
    for (auto& [p, c] : counts) {
      if (c > best_count) best = p, best_count = c;  // map order: smaller pair wins ties
    }
    if (best_count < 2) break;
    std::string a, b;
    for (auto& [s, i] : id) {
      if (i == best.first) a = s;
      if (i == best.second) b = s;
    }
    id[a + b] = int(id.size());
    merges.push_back(a + "\x01" + b);
    for (auto& [w, c] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < w.size();) {
        if (i + 1 < w.size() && w[i] == a && w[i + 1] == b) {
          out.push_back(a + b);
          i += 2;
        } else {
          out.push_back(w[i++]);
        }
      }
      w = out;
    }
  }
  return merges;
}

// A vocabulary token's bytes (decode would turn partial UTF-8 into U+FFFD).
std::string from_byte_level(std::string_view token) {
  std::string bytes;
  for (size_t i = 0; i < token.size();) {
    auto c = uint8_t(token[i]);
    uint32_t cp = c < 0x80 ? c : ((c & 0x1fu) << 6) | (uint8_t(token[i + 1]) & 0x3fu);
    i += c < 0x80 ? 1 : 2;
    bytes.push_back(char(tk::unicode::byte_level_table().cp_to_byte[cp]));
  }
  return bytes;
}

// The pre-tokens of the corpus as byte strings, split by the same
// pre-tokenizer the trained tokenizer.json names (tested on its own in the
// tokenizer suites).
std::map<std::vector<std::string>, uint64_t> corpus_words(const nlohmann::ordered_json& pre_json) {
  auto pre = tk::make_pre_tokenizer(nlohmann::json::parse(pre_json.dump()));
  // No merges: every byte is one token, so decoding one id gives one byte.
  std::map<std::vector<std::string>, uint64_t> words;
  tk::PreTokenized pt;
  for (auto& doc : kCorpus) {
    pt.clear();
    pt.text = doc;
    pt.pieces.push_back(tk::Piece{0, uint32_t(doc.size()), -1, true});
    pre->pre_tokenize(pt);
    for (auto& p : pt.pieces) {
      std::string_view v = pt.view(p);
      std::vector<std::string> w;
      for (size_t i = 0; i < v.size();) {  // byte-level code points -> bytes
        size_t len = uint8_t(v[i]) < 0x80 ? 1 : 2;
        w.push_back(from_byte_level(v.substr(i, len)));
        i += len;
      }
      ++words[w];
    }
  }
  return words;
}

}  // namespace

TEST(BpeTrainer, MergesMatchANaiveTrainer) {
  tk::BpeTrainOptions opt{.vocab_size = 3 + 256 + 80,
                          .min_frequency = 2,
                          .special_tokens = {"<s>", "</s>", "<|eot|>"},
                          .bos_token = "<s>",
                          .split_regex = "",
                          .max_token_bytes = 8};
  tk::BpeTrainer trainer(opt);
  for (auto& doc : kCorpus) trainer.feed(doc);
  auto json = trainer.finish();
  auto want = naive_merges(corpus_words(json["pre_tokenizer"]), 80, 8);
  ASSERT_GT(want.size(), 20u);
  const auto& merges = json["model"]["merges"];
  ASSERT_EQ(merges.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::string m = merges[i].get<std::string>();
    size_t sp = m.find(' ');
    ASSERT_NE(sp, std::string::npos);
    std::string got = from_byte_level(m.substr(0, sp)) + "\x01" + from_byte_level(m.substr(sp + 1));
    EXPECT_EQ(got, want[i]) << "merge " << i;
  }
}

TEST(BpeTrainer, WrittenTokenizerRoundTripsWithSpecials) {
  tk::BpeTrainer trainer({.vocab_size = 3 + 256 + 60,
                          .min_frequency = 2,
                          .special_tokens = {"<s>", "</s>", "<|eot|>"},
                          .bos_token = "<s>",
                          .split_regex = "",
                          .max_token_bytes = 8});
  for (auto& doc : kCorpus) trainer.feed(doc);
  auto tok = tk::Tokenizer::from_json(trainer.finish().dump());
  for (auto& doc : kCorpus) {
    auto ids = tok.encode(doc);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], 0);  // <s> from the post-processor
    EXPECT_EQ(tok.decode(ids, true), doc);
    EXPECT_LT(ids.size(), doc.size());  // merges shorten the text
  }
  auto ids = tok.encode("<|eot|>the cat", false);
  EXPECT_EQ(ids[0], 2);
  EXPECT_TRUE(tok.is_special(2));
  // This small corpus runs out of pairs seen twice before 60 merges.
  EXPECT_GT(tok.vocab_size(), 3u + 256u + 20u);
  EXPECT_LE(tok.vocab_size(), 3u + 256u + 60u);
  EXPECT_EQ(tok.decode({*tok.token_to_id("Ġthe")}), " the");
}

TEST(BpeTrainer, RejectsBadOptions) {
  EXPECT_THROW(tk::BpeTrainer({.vocab_size = 100}), std::invalid_argument);
  EXPECT_THROW(tk::BpeTrainer({.vocab_size = 300, .min_frequency = 2, .special_tokens = {"a", "a"}}),
               std::invalid_argument);
  EXPECT_THROW(tk::BpeTrainer({.vocab_size = 300, .min_frequency = 2, .special_tokens = {"a"}, .bos_token = "b"}),
               std::invalid_argument);
}
