// Unigram language-model tokenization (Viterbi over a byte trie), as the
// optimized path of Hugging Face `tokenizers` Unigram / SentencePiece.
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "uma/text/tokenizer/bpe.h"
#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/trie.h"
#include "uma/text/tokenizer/unicode.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

namespace {

constexpr double kUnkPenalty = 10.0;

class UnigramModel : public Model {
 public:
  UnigramModel(std::vector<std::pair<std::string, double>> vocab, std::optional<int32_t> unk_id,
               bool byte_fallback)
      : scores_(), unk_id_(unk_id), byte_fallback_(byte_fallback) {
    if (unk_id_) {
      if (vocab.empty()) throw std::invalid_argument("[tokenizer] Unigram vocabulary is empty");
      if (*unk_id_ < 0 || static_cast<size_t>(*unk_id_) >= vocab.size()) {
        throw std::invalid_argument("[tokenizer] Unigram unk_id " + std::to_string(*unk_id_) +
                                    " is outside the vocabulary of " +
                                    std::to_string(vocab.size()));
      }
    }
    size_t bytes = 0;
    for (const auto& [t, s] : vocab) bytes += t.size();
    vocab_.reserve(vocab.size(), bytes);
    scores_.reserve(vocab.size());
    min_score_ = std::numeric_limits<double>::infinity();
    for (size_t id = 0; id < vocab.size(); ++id) {
      const auto& [token, score] = vocab[id];
      vocab_.insert(token, static_cast<int32_t>(id));
      scores_.push_back(score);
      if (score < min_score_) min_score_ = score;
    }
    // Trie over the distinct strings; each end holds the string's id.
    vocab_.for_each([this](std::string_view token, int32_t id) {
      if (!token.empty()) trie_.insert(token, id);
    });
    byte_ids_.fill(-1);
    if (byte_fallback_) {
      char buf[8];
      for (int b = 0; b < 256; ++b) {
        std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
        byte_ids_[b] = vocab_.find(buf);
      }
    }
  }

  void tokenize(std::string_view s, std::vector<int32_t>& ids) const override {
    if (s.empty()) return;
    if (cache_.get(s, ids)) return;
    size_t before = ids.size();
    encode(s, ids);
    cache_.put(s, ids.data() + before, ids.size() - before);
  }

  int32_t token_to_id(std::string_view t) const override { return vocab_.find(t); }
  std::optional<std::string_view> id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return scores_.size(); }
  int32_t id_limit() const override { return static_cast<int32_t>(scores_.size()); }
  const char* type_name() const override { return "Unigram"; }

 private:
  struct Best {
    int32_t id = -1;
    double score = 0;
    int64_t start = -1;  // -1: not reached
  };

  void encode(std::string_view s, std::vector<int32_t>& ids) const {
    thread_local std::vector<Best> best;
    best.assign(s.size() + 1, Best{});
    const double unk_score = min_score_ - kUnkPenalty;
    size_t pos = 0;
    while (pos < s.size()) {
      double here = best[pos].score;
      size_t mblen = unicode::utf8_len(static_cast<unsigned char>(s[pos]));
      bool single = false;
      trie_.for_each_prefix(s, pos, [&](size_t end, int32_t id) {
        double cand = here + scores_[id];
        Best& t = best[end];
        if (t.start < 0 || cand > t.score) t = {id, cand, static_cast<int64_t>(pos)};
        if (end - pos == mblen) single = true;
      });
      if (!single) {
        if (!unk_id_) {
          throw std::invalid_argument("[tokenizer] Unigram met an unknown character but has no unk_id");
        }
        Best& t = best[pos + mblen];
        double cand = here + unk_score;
        if (t.start < 0 || cand > t.score) t = {*unk_id_, cand, static_cast<int64_t>(pos)};
      }
      pos += mblen;
    }
    // Walk back, fusing consecutive unknowns into one piece.
    thread_local std::vector<std::pair<size_t, size_t>> pieces;
    pieces.clear();
    size_t end = s.size();
    bool in_unk = false;
    while (end > 0) {
      const Best& b = best[end];
      size_t start = static_cast<size_t>(b.start);
      bool unk = unk_id_ && b.id == *unk_id_;
      if (unk && in_unk) {
        pieces.back().first = start;
      } else {
        pieces.push_back({start, end});
      }
      in_unk = unk;
      end = start;
    }
    for (size_t k = pieces.size(); k-- > 0;) {
      std::string_view piece = s.substr(pieces[k].first, pieces[k].second - pieces[k].first);
      int32_t id = vocab_.find(piece);
      if (id < 0) {
        if (byte_fallback_) {
          bool all = true;
          for (unsigned char c : piece) all = all && byte_ids_[c] >= 0;
          if (all) {
            for (unsigned char c : piece) ids.push_back(byte_ids_[c]);
            continue;
          }
        }
        if (!unk_id_) {
          throw std::invalid_argument("[tokenizer] Unigram met an unknown piece but has no unk_id");
        }
        id = *unk_id_;
      }
      ids.push_back(id);
    }
  }

  Vocab vocab_;
  std::vector<double> scores_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
  PatternTrie trie_;
  std::array<int32_t, 256> byte_ids_{};
  WordCache cache_;
};

}  // namespace

ModelPtr make_unigram(std::vector<std::pair<std::string, double>> vocab,
                      std::optional<int32_t> unk_id, bool byte_fallback) {
  return std::make_unique<UnigramModel>(std::move(vocab), unk_id, byte_fallback);
}

}  // namespace uma::text::tokenizer
