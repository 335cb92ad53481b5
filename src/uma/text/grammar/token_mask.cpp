#include "uma/text/grammar/token_mask.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "uma/text/grammar/utf8.h"
#include "uma/text/tokenizer/tokenizer.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::grammar {

TokenVocab token_vocab(const tokenizer::Tokenizer& tok) {
  const int32_t n = tok.id_limit();
  TokenVocab v;
  v.bytes.resize(size_t(n));
  v.special.assign(size_t(n), 0);
  // The decoder tells how symbols become text. Decoding one token alone
  // loses bytes of a split character (U+FFFD) and, for SentencePiece, the
  // first token's leading space: a token is decoded after an anchor token
  // and the symbols' own mapping (byte-level, <0xNN>) is trusted where the
  // decoder agrees with it.
  int32_t anchor = -1;
  for (const char* a : {"a", "\xE2\x96\x81" "a", "Ġa"}) {
    if (auto id = tok.token_to_id(a); id && tok.decode({*id}) == "a") {
      anchor = *id;
      break;
    }
  }
  const std::string anchor_text = anchor >= 0 ? tok.decode({anchor}) : "";
  std::string mapped;
  for (int32_t id = 0; id < n; ++id) {
    auto sym = tok.id_to_token(id);
    if (!sym || tok.is_special(id)) {
      v.special[size_t(id)] = 1;
      continue;
    }
    const std::string alone = tok.decode({id});
    const std::string& s = *sym;
    if (int byte = tokenizer::unicode::byte_fallback_byte(s); byte >= 0 && alone != s) {
      v.bytes[size_t(id)] = std::string(1, char(byte));
      continue;
    }
    mapped.clear();
    if (tokenizer::unicode::byte_level_to_bytes(s, mapped) && !mapped.empty() &&
        tokenizer::unicode::to_valid_utf8(mapped) == alone) {
      v.bytes[size_t(id)] = mapped;
      continue;
    }
    if (anchor >= 0) {
      std::string pair = tok.decode({anchor, id});
      if (pair.compare(0, anchor_text.size(), anchor_text) == 0) {
        v.bytes[size_t(id)] = pair.substr(anchor_text.size());
        continue;
      }
    }
    v.bytes[size_t(id)] = alone;
  }
  return v;
}

TokenTrie::TokenTrie(const TokenVocab& vocab, std::vector<int32_t> eos_ids)
    : vocab_size_(int32_t(vocab.bytes.size())), bytes_(vocab.bytes), eos_(std::move(eos_ids)) {
  if (vocab.special.size() != vocab.bytes.size()) {
    throw std::invalid_argument("[TokenTrie] vocab.special has " + std::to_string(vocab.special.size()) +
                                " entries for " + std::to_string(vocab.bytes.size()) + " tokens");
  }
  std::vector<int32_t> order;
  for (int32_t id = 0; id < vocab_size_; ++id) {
    if (vocab.special[size_t(id)] || bytes_[size_t(id)].empty()) {
      bytes_[size_t(id)].clear();
    } else if (bytes_[size_t(id)].size() < 65535) {
      order.push_back(id);
    }
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return bytes_[size_t(a)] != bytes_[size_t(b)] ? bytes_[size_t(a)] < bytes_[size_t(b)] : a < b;
  });
  // Sorted spellings give the depth-first order: each token shares a prefix
  // with the previous one and adds the rest as new nodes.
  std::vector<int32_t> path;  // node at each depth of the current spelling
  std::vector<int32_t> parent;
  std::vector<Utf8Byte> decoded;  // UTF-8 decoding along the path
  std::vector<std::vector<int32_t>> tokens_at;
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& s = bytes_[size_t(id)];
    size_t common = 0;
    if (prev) {
      while (common < prev->size() && common < s.size() && (*prev)[common] == s[common]) ++common;
    }
    while (path.size() > common) {
      nodes_[size_t(path.back())].end = int32_t(nodes_.size());
      path.pop_back();
      decoded.pop_back();
    }
    for (size_t d = common; d < s.size(); ++d) {
      parent.push_back(path.empty() ? -1 : path.back());
      path.push_back(int32_t(nodes_.size()));
      Utf8Byte u = decoded.empty() ? utf8_byte(0, 0, 0, uint8_t(s[d]))
                   : decoded.back().kind == Utf8Byte::refused
                       ? decoded.back()
                       : utf8_byte(decoded.back().bits, decoded.back().need, decoded.back().length, uint8_t(s[d]));
      decoded.push_back(u);
      uint8_t flags = uint8_t((uint8_t(s[d]) >= 128 ? 1 : 0) | (u.kind == Utf8Byte::refused ? 2 : 0));
      nodes_.push_back({uint8_t(s[d]), flags, uint16_t(d + 1), uint16_t(d + 1), 0, 0, {0, 0}});
      tokens_at.emplace_back();
    }
    tokens_at[size_t(path.back())].push_back(id);
    max_depth_ = std::max(max_depth_, s.size());
    prev = &s;
  }
  while (!path.empty()) {
    nodes_[size_t(path.back())].end = int32_t(nodes_.size());
    path.pop_back();
    decoded.pop_back();
  }
  for (size_t i = 0; i < tokens_at.size(); ++i) {
    nodes_[i].first = int32_t(ids_.size());
    ids_.insert(ids_.end(), tokens_at[i].begin(), tokens_at[i].end());
  }
  // A sentinel: the first token after the last node.
  nodes_.push_back({0, 0, 0, 0, 0, int32_t(ids_.size()), {0, 0}});
  // Children come after their parent: one backward pass gathers subtrees.
  for (size_t i = tokens_at.size(); i-- > 0;) {
    Node& n = nodes_[i];
    if (n.byte < 128) n.ascii[n.byte >> 6] |= uint64_t(1) << (n.byte & 63);
    if (parent[i] >= 0) {
      Node& up = nodes_[size_t(parent[i])];
      up.ascii[0] |= n.ascii[0];
      up.ascii[1] |= n.ascii[1];
      up.high |= n.high;
      up.height = std::max(up.height, n.height);
    }
  }
}

TokenMasker::TokenMasker(std::shared_ptr<const TokenTrie> trie, size_t cache_entries)
    : trie_(std::move(trie)), cache_entries_(cache_entries) {
  if (!trie_) throw std::invalid_argument("[TokenMasker] trie is null");
}

const std::vector<uint32_t>& TokenMasker::allowed(GrammarMatcher& m) {
  if (m.compact()) {  // stack ids changed: the cached states mean nothing now
    cache_.clear();
    order_.clear();
  }
  if (cache_entries_ == 0) {
    ++misses_;
    compute(m, scratch_);
    return scratch_;
  }
  auto it = cache_.find(m.state());
  if (it != cache_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  if (cache_.size() >= cache_entries_) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
  std::vector<uint32_t> bits;
  compute(m, bits);
  order_.push_back(m.state());
  return cache_.emplace(m.state(), std::move(bits)).first->second;
}

void TokenMasker::compute(GrammarMatcher& m, std::vector<uint32_t>& bits) {
  const TokenTrie& t = *trie_;
  bits.assign((size_t(t.vocab_size_) + 31) / 32, 0);
  auto set = [&](int32_t id) { bits[size_t(id) >> 5] |= 1u << (id & 31); };
  m.dfa_trim();
  if (m.can_end()) {
    for (int32_t id : t.eos_) {
      if (id >= 0 && id < t.vocab_size_) set(id);
    }
  }
  if (levels_.size() < t.max_depth_ + 1) levels_.resize(t.max_depth_ + 1);
  // A character the last token left unfinished stays in the cursor; the
  // DFA state is that of the stacks before it.
  MatcherState base = m.state();
  GrammarMatcher::DfaCursor first{-1, base.partial, base.need, base.length};
  if (base.need > 0) {
    base.partial = base.need = base.length = 0;
    base.accepting = false;
  }
  const int32_t start = m.dfa_state(base);
  first.state = start;
  levels_[0] = first;
  if (m.dfa_generation() != dfa_generation_) {
    dfa_generation_ = m.dfa_generation();
    steps_.clear();
    step_known_.clear();
  }
  const int32_t n = int32_t(t.nodes_.size()) - 1;  // without the sentinel
  const TokenTrie::Node* nodes = t.nodes_.data();
  for (int32_t i = 0; i < n;) {
    const TokenTrie::Node& node = nodes[i];
    const GrammarMatcher::DfaCursor& up = levels_[node.depth - 1];
    if (up.need == 0 && !(node.high & 2) && whole_subtree(m, up.state, node)) {
      for (int32_t k = node.first; k < nodes[node.end].first; ++k) set(t.ids_[size_t(k)]);
      i = node.end;
      continue;
    }
    if (m.dfa_step(up, node.byte, levels_[node.depth])) {
      for (int32_t k = node.first; k < nodes[i + 1].first; ++k) set(t.ids_[size_t(k)]);
      ++i;
    } else {
      i = node.end;
    }
  }
}

const TokenMasker::AsciiStep& TokenMasker::ascii_step(GrammarMatcher& m, int32_t state) {
  if (size_t(state) >= steps_.size()) {
    steps_.resize(size_t(state) + 1);
    step_known_.resize(size_t(state) + 1, 0);
  }
  if (!step_known_[size_t(state)]) {
    // The successor most ASCII bytes share, and those bytes.
    std::vector<std::pair<int32_t, std::array<uint64_t, 2>>> groups;
    GrammarMatcher::DfaCursor from{state, 0, 0, 0}, to;
    for (int b = 0; b < 128; ++b) {
      if (!m.dfa_step(from, uint8_t(b), to)) continue;
      auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == to.state; });
      if (g == groups.end()) g = groups.insert(groups.end(), {to.state, {0, 0}});
      g->second[size_t(b >> 6)] |= uint64_t(1) << (b & 63);
    }
    AsciiStep st{{0, 0}, -1, -1};
    int best = 0;
    for (auto& [next, bytes] : groups) {
      int count = __builtin_popcountll(bytes[0]) + __builtin_popcountll(bytes[1]);
      if (count > best) {
        best = count;
        st = {{bytes[0], bytes[1]}, next, -1};
      }
    }
    st.high_next = m.dfa_high_next(state);
    // dfa_step may have grown the DFA: the vectors too.
    if (size_t(state) >= steps_.size()) steps_.resize(size_t(state) + 1);
    if (step_known_.size() < steps_.size()) step_known_.resize(steps_.size(), 0);
    steps_[size_t(state)] = st;
    step_known_[size_t(state)] = 1;
  }
  return steps_[size_t(state)];
}

bool TokenMasker::whole_subtree(GrammarMatcher& m, int32_t state, const TokenTrie::Node& node) {
  // Along the chain of states the subtree's bytes lead through, each state
  // must accept every byte of the subtree.
  for (int d = node.depth; d <= node.height; ++d) {
    const AsciiStep& st = ascii_step(m, state);
    if (st.next < 0 || ((node.ascii[0] & ~st.accepts[0]) | (node.ascii[1] & ~st.accepts[1]))) return false;
    // Characters of several bytes must lead where the ASCII bytes do (a
    // path may end inside one: any character may still complete it).
    if ((node.high & 1) && st.high_next != st.next) return false;
    if (st.next == state) return true;  // a loop: the rest of the chain is this state
    state = st.next;
  }
  return true;
}

}  // namespace uma::text::grammar
