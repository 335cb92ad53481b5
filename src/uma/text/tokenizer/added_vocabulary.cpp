#include "uma/text/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "uma/text/tokenizer/model.h"
#include "uma/text/tokenizer/normalizer.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

size_t AddedVocabulary::add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                                   const Normalizer* normalizer) {
  int32_t vocab_size = static_cast<int32_t>(model.vocab_size());
  int32_t next_id = vocab_size;
  if (!by_id_.empty()) {
    int32_t max = by_id_.rbegin()->first;
    next_id = (max >= vocab_size || vocab_size == 0) ? max + 1 : vocab_size;
  }
  size_t added = 0;
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    auto it = by_content_.find(t.content);
    if (it != by_content_.end()) {
      auto cur = by_id_.find(it->second);
      if (cur != by_id_.end() && cur->second == t) continue;
    }
    int32_t id = it != by_content_.end() ? it->second : model.token_to_id(t.content);
    if (id < 0) id = next_id++;
    if (t.normalized && normalizer) {
      std::string s = t.content;
      normalizer->normalize(s);
      if (s != t.content) normalized_cache_[id] = s;
    }
    by_content_[t.content] = id;
    if (t.special) special_.insert(t.content);
    by_id_[id] = t;
    ++added;
  }
  refresh();
  return added;
}

void AddedVocabulary::refresh() {
  raw_trie_.clear();
  normalized_trie_.clear();
  for (const auto& [id, t] : by_id_) {
    if (t.normalized) {
      auto c = normalized_cache_.find(id);
      normalized_trie_.insert(c != normalized_cache_.end() ? c->second : t.content, id);
    } else {
      raw_trie_.insert(t.content, id);
    }
  }
}

int32_t AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(content);
  return it == by_content_.end() ? -1 : it->second;
}

const AddedToken* AddedVocabulary::token(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::optional<std::string_view> AddedVocabulary::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  auto c = normalized_cache_.find(id);
  if (c != normalized_cache_.end()) return std::string_view(c->second);
  return std::string_view(it->second.content);
}

namespace {

// Start of the whitespace run that ends the text (Rust regex `\s*$`).
size_t trailing_space_start(std::string_view s) {
  size_t e = s.size();
  int len;
  while (e > 0 && unicode::is_white_space(unicode::decode_last(s, e, &len))) e -= len;
  return e;
}

// End of the whitespace run that starts the text (Rust regex `^\s*`).
size_t leading_space_end(std::string_view s) {
  size_t b = 0;
  int len;
  while (b < s.size() && unicode::is_white_space(unicode::decode(s, b, &len))) b += len;
  return b;
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool normalized_set, bool skip_special,
                            std::vector<AddedMatch>& out) const {
  const PatternTrie& trie = normalized_set ? normalized_trie_ : raw_trie_;
  size_t start_offset = 0, from = 0;
  size_t b, e;
  int32_t id;
  while (from < text.size() && trie.find(text, from, &b, &e, &id)) {
    from = e;
    const AddedToken& t = by_id_.at(id);
    if (skip_special && t.special) continue;
    size_t start = b, stop = e;
    int len;
    if (t.single_word) {
      bool start_space = start == 0 || !unicode::is_word_char(unicode::decode_last(text, start, &len));
      bool stop_space =
          stop == text.size() || !unicode::is_word_char(unicode::decode(text, stop, &len));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (t.rstrip) stop += leading_space_end(text.substr(stop));
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

}  // namespace uma::text::tokenizer
