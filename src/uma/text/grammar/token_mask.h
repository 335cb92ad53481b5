// Which tokens a grammar allows next. Each token is its raw bytes (byte-level
// BPE symbols mapped back to bytes, SentencePiece's ▁ as a space, byte
// fallback <0xNN> as that byte); special tokens are never allowed, except the
// end-of-sequence ids once the grammar can end. The vocabulary's bytes form a
// prefix trie laid out in depth-first order; the mask walks it with the
// matcher's state, skipping a whole subtree at the first byte no stack
// accepts, and remembers the mask of each state it has seen (a JSON string
// or a run of digits returns to the same state token after token).
//
//   auto trie = std::make_shared<TokenTrie>(token_vocab(tokenizer), eos_ids);
//   GrammarMatcher m(grammar);
//   TokenMasker masker(trie);
//   const auto& bits = masker.allowed(m);  // bit i of bits[i / 32]: token i allowed
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "uma/text/grammar/matcher.h"

namespace uma::text::tokenizer {
class Tokenizer;
}

namespace uma::text::grammar {

struct TokenVocab {
  std::vector<std::string> bytes;  // per id: what the token adds to the text
  std::vector<char> special;       // per id: never produced by a grammar
};

// The raw bytes of every id below tokenizer.id_limit(). Special added tokens
// (and ids without a token) are marked special.
TokenVocab token_vocab(const tokenizer::Tokenizer& tokenizer);

class TokenTrie {
 public:
  TokenTrie(const TokenVocab& vocab, std::vector<int32_t> eos_ids);

  int32_t vocab_size() const { return vocab_size_; }
  const std::vector<int32_t>& eos_ids() const { return eos_; }
  // The bytes of token id ("" for special ones).
  const std::string& bytes(int32_t id) const { return bytes_[size_t(id)]; }

 private:
  friend class TokenMasker;
  int32_t vocab_size_ = 0;
  std::vector<std::string> bytes_;
  std::vector<int32_t> eos_;
  // Nodes in depth-first order: the byte that leads to the node, its depth
  // (1 for a first byte), the node after its subtree, the tokens spelled by
  // the path to it (ids_[first .. next node's first)), and the bytes below
  // 128 used in its subtree (its own included) and whether any byte >= 128
  // is: a subtree whose bytes all loop back to the state it starts from is
  // allowed whole, without walking it.
  struct Node {
    uint8_t byte;
    uint8_t high;  // bit 0: a byte >= 128 in the subtree; bit 1: a path in it that is not UTF-8
    uint16_t depth;
    uint16_t height;  // the depth of the deepest node of its subtree
    int32_t end;
    int32_t first;
    uint64_t ascii[2];
  };
  std::vector<Node> nodes_;
  std::vector<int32_t> ids_;
  size_t max_depth_ = 0;
};

class TokenMasker {
 public:
  explicit TokenMasker(std::shared_ptr<const TokenTrie> trie, size_t cache_entries = 256);

  // Bit i of the result (word i / 32, bit i % 32) is set when token i may
  // come next in `m`'s current state: all its bytes are accepted, or it is
  // an EOS id and m.can_end(). Valid until the next call.
  const std::vector<uint32_t>& allowed(GrammarMatcher& m);

  // Counts for benchmarks and tests.
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  void compute(GrammarMatcher& m, std::vector<uint32_t>& bits);

  std::shared_ptr<const TokenTrie> trie_;
  size_t cache_entries_;
  std::unordered_map<MatcherState, std::vector<uint32_t>, MatcherStateHash> cache_;
  std::list<MatcherState> order_;  // insertion order, for eviction
  std::vector<uint32_t> scratch_;
  std::vector<GrammarMatcher::DfaCursor> levels_;  // the DFA cursor at each depth of the walk
  // Per DFA state: the state most ASCII bytes lead to, and those bytes
  // (-1: none is accepted). A subtree of ASCII bytes is allowed whole when,
  // along that chain of states, each state sends all its bytes on: a JSON
  // string (the chain loops on one state) or a string of bounded length (a
  // counter) alike.
  struct AsciiStep {
    uint64_t accepts[2];
    int32_t next;
    int32_t high_next;  // where every character from U+0080 up leads (-1: not all to one state)
  };
  std::vector<AsciiStep> steps_;
  std::vector<char> step_known_;
  size_t dfa_generation_ = size_t(-1);
  const AsciiStep& ascii_step(GrammarMatcher& m, int32_t state);
  bool whole_subtree(GrammarMatcher& m, int32_t state, const TokenTrie::Node& node);
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace uma::text::grammar
