// SentencePiece BPE by token scores, as llama.cpp's llm_tokenizer_spm does for
// GGUF `llama` vocabularies (which carry scores, not merges): repeatedly join
// the adjacent pair whose concatenation is the vocabulary token of highest
// score (leftmost on ties); characters left unknown become <0xNN> tokens.
#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "uma/text/tokenizer/bpe.h"
#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/unicode.h"
#include "uma/text/tokenizer/vocab.h"

namespace uma::text::tokenizer {

namespace {

class SpmModel : public Model {
 public:
  SpmModel(const std::vector<std::string>& tokens, const std::vector<float>& scores)
      : scores_(scores) {
    if (scores_.size() < tokens.size()) scores_.resize(tokens.size(), 0.0f);
    size_t bytes = 0;
    for (const auto& t : tokens) bytes += t.size();
    vocab_.reserve(tokens.size(), bytes);
    for (size_t i = 0; i < tokens.size(); ++i) vocab_.insert(tokens[i], static_cast<int32_t>(i));
    char buf[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
      byte_ids_[b] = vocab_.find(buf);
      if (byte_ids_[b] < 0) {
        char one[2] = {static_cast<char>(b), 0};
        byte_ids_[b] = vocab_.find(std::string_view(one, 1));
      }
    }
    unk_id_ = vocab_.find("<unk>");
    split_ = metaspace_is_a_word_boundary(vocab_);
  }

  void tokenize(std::string_view text, std::vector<int32_t>& ids) const override {
    if (split_) {
      for_each_metaspace_word(text, [&](std::string_view w) { tokenize_word(w, ids); });
    } else {
      tokenize_word(text, ids);
    }
  }

  void tokenize_word(std::string_view text, std::vector<int32_t>& ids) const {
    if (text.empty() || cache_.get(text, ids)) return;
    size_t before = ids.size();
    merge(text, ids);
    cache_.put(text, ids.data() + before, ids.size() - before);
  }

  void merge(std::string_view text, std::vector<int32_t>& ids) const {
    struct Sym {
      int32_t prev, next;
      uint32_t off, n;
    };
    struct Bigram {
      int32_t left, right;
      float score;
      uint32_t size;
    };
    // Max-heap on score, then the leftmost pair first.
    auto before = [](const Bigram& l, const Bigram& r) {
      return l.score < r.score || (l.score == r.score && l.left > r.left);
    };
    thread_local std::vector<Sym> syms;
    thread_local std::vector<Bigram> queue;
    syms.clear();
    queue.clear();
    size_t off = 0;
    while (off < text.size()) {
      size_t len = std::min<size_t>(unicode::utf8_len(static_cast<unsigned char>(text[off])),
                                    text.size() - off);
      int32_t idx = static_cast<int32_t>(syms.size());
      syms.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1,
                      static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
      off += len;
    }
    auto try_add = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      std::string_view t = text.substr(syms[left].off, syms[left].n + syms[right].n);
      int32_t id = vocab_.find(t);
      if (id < 0) return;
      queue.push_back({left, right, scores_[id], static_cast<uint32_t>(t.size())});
      std::push_heap(queue.begin(), queue.end(), before);
    };
    for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
    while (!queue.empty()) {
      std::pop_heap(queue.begin(), queue.end(), before);
      Bigram b = queue.back();
      queue.pop_back();
      Sym& l = syms[b.left];
      Sym& r = syms[b.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) syms[r.next].prev = b.left;
      try_add(l.prev, b.left);
      try_add(b.left, l.next);
    }
    for (int32_t i = syms.empty() ? -1 : 0; i != -1; i = syms[i].next) {
      std::string_view t = text.substr(syms[i].off, syms[i].n);
      int32_t id = vocab_.find(t);
      if (id >= 0) {
        ids.push_back(id);
        continue;
      }
      for (unsigned char c : t) {
        int32_t bid = byte_ids_[c] >= 0 ? byte_ids_[c] : unk_id_;
        if (bid >= 0) ids.push_back(bid);
      }
    }
  }

  int32_t token_to_id(std::string_view t) const override { return vocab_.find(t); }
  std::optional<std::string_view> id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  int32_t id_limit() const override { return vocab_.max_id() + 1; }
  const char* type_name() const override { return "SentencePieceBPE"; }

 private:
  Vocab vocab_;
  std::vector<float> scores_;
  std::array<int32_t, 256> byte_ids_{};
  int32_t unk_id_ = -1;
  bool split_ = false;
  WordCache cache_;
};

}  // namespace

ModelPtr make_spm(const std::vector<std::string>& tokens, const std::vector<float>& scores) {
  return std::make_unique<SpmModel>(tokens, scores);
}

}  // namespace uma::text::tokenizer
