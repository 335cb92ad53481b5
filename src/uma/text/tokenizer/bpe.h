// Byte-pair encoding exactly as Hugging Face `tokenizers` BPE: merges applied
// lowest rank first (leftmost on ties) with a heap over a linked list of
// symbols, optional ignore_merges, byte fallback, unk fusing, subword
// prefix/suffix. Results of pieces are cached.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

// Cache from a piece to its ids. The slots live in a per-thread table shared
// by all caches of that thread (no locks), tagged with the cache's unique id;
// a colliding insert evicts the previous entry.
class WordCache {
 public:
  WordCache();
  bool get(std::string_view key, std::vector<int32_t>& out) const;
  void put(std::string_view key, const int32_t* ids, size_t n) const;

 private:
  uint64_t uid_;
};

// SentencePiece-style text (no pre-tokenizer, spaces as "▁" U+2581) can be
// tokenized word by word when no token joins a character to a following "▁":
// no merge can then cross such a boundary.
inline constexpr std::string_view kMetaspace = "\xE2\x96\x81";
bool metaspace_is_a_word_boundary(const Vocab& vocab);

// Calls f(word) for the words of `text` cut before every "▁" that follows a
// character other than "▁".
template <class F>
void for_each_metaspace_word(std::string_view text, F&& f) {
  size_t start = 0;
  for (size_t p = text.find(kMetaspace, 1); p != std::string_view::npos; p = text.find(kMetaspace, p + 3)) {
    if (p >= 3 && text.substr(p - 3, 3) == kMetaspace) continue;
    f(text.substr(start, p - start));
    start = p;
  }
  f(text.substr(start));
}

class BpeModel : public Model {
 public:
  BpeModel(Vocab vocab, BpeOptions options);
  // Adds the next merge (rank = number of merges added before). Throws if a
  // part or the merged token is not in the vocabulary.
  void add_merge(std::string_view left, std::string_view right) { add_merges({{left, right}}); }
  // Adds merges in order; lookups are pipelined with prefetches.
  void add_merges(const std::vector<std::pair<std::string_view, std::string_view>>& merges);

  void tokenize(std::string_view piece, std::vector<int32_t>& ids) const override;
  int32_t token_to_id(std::string_view token) const override { return vocab_.find(token); }
  std::optional<std::string_view> id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  int32_t id_limit() const override { return vocab_.max_id() + 1; }
  const char* type_name() const override { return "BPE"; }

  size_t num_merges() const { return n_merges_; }

 private:
  void tokenize_word(std::string_view word, std::vector<int32_t>& ids) const;
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;

  struct RankInfo {
    int32_t left, right, id;  // the pair of a merge and the token it makes
  };

  Vocab vocab_;
  PairMap merges_;
  std::vector<RankInfo> rank_info_;
  BpeOptions options_;
  uint32_t n_merges_ = 0;
  bool split_at_metaspace_ = false;
  std::array<int32_t, 256> byte_ids_{};  // ids of "<0xNN>" for byte fallback
  std::vector<int32_t> char_ids_;        // ids of single code points < 0x800
  WordCache cache_;
};

}  // namespace uma::text::tokenizer
