// Runs a Grammar over UTF-8 bytes, as llama.cpp's grammar: the state is the
// set of parse stacks whose top is the terminal to match next. Stacks are
// hash-consed linked lists (a node is a position in the grammar and the
// stack below it), so a stack is an int, equal stacks are equal ints, and
// pushing copies nothing. Characters split across bytes (a token may end
// inside one) are held as a partial code point, and a byte is rejected as
// soon as no stack can match any character it could begin.
//
//   GrammarMatcher m(parse_gbnf("root ::= [a-z]+ \"!\""));
//   m.accept("hi");   // true
//   m.accept("?");    // false, and the state is unchanged
//   auto saved = m.state();
//   m.accept("!");    // m.can_end()
//   m.restore(saved); // rollback
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "uma/text/grammar/grammar.h"

namespace uma::text::grammar {

struct MatcherState;
struct MatcherStateHash {
  size_t operator()(const MatcherState& s) const;
};

struct MatcherState {
  std::vector<int32_t> stacks;  // stack ids, each topped by a terminal
  bool accepting = false;       // the input so far is a whole sentence
  uint32_t partial = 0;         // bits of a character begun but not finished
  uint8_t need = 0;             // its continuation bytes still expected
  uint8_t length = 0;           // its total length in bytes
  bool operator==(const MatcherState& o) const {
    return stacks == o.stacks && accepting == o.accepting && partial == o.partial && need == o.need;
  }
};

class GrammarMatcher {
 public:
  // Throws std::runtime_error when a step needs more than this many stacks at
  // once (a hugely ambiguous grammar), rather than using unbounded memory.
  static constexpr size_t kMaxStacks = 1 << 16;

  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Feeds bytes; all or nothing: on false the state is what it was.
  bool accept(std::string_view bytes);
  bool accept_byte(uint8_t byte);
  // The input so far is a sentence of the grammar.
  bool can_end() const { return state_.accepting && state_.need == 0; }
  // A sentence that nothing can extend: only the end may follow.
  bool is_done() const { return can_end() && state_.stacks.empty(); }

  const MatcherState& state() const { return state_; }
  // Back to a state of this matcher saved with state(); compact() makes
  // the states saved before it invalid.
  void restore(MatcherState s) { state_ = std::move(s); }

  // `in` advanced by one byte into `out` (which may not alias `in`); false
  // when no stack accepts it. Stacks in `out` are unordered.
  bool step(const MatcherState& in, uint8_t byte, MatcherState& out);

  // Stack nodes are never freed while states may refer to them; a caller
  // that only keeps the current state can drop the rest when the pool has
  // grown past `max_nodes`. Returns whether it did (stack ids changed).
  bool compact(size_t max_nodes = size_t(1) << 22);
  size_t pool_size() const { return nodes_.size(); }

  // A DFA built lazily over the whole-character states step() reaches: a
  // state visited once gets an id, and each (id, byte) and (id, character)
  // transition is computed once, so walking the vocabulary trie costs an
  // array lookup per byte for states seen before (inside a JSON string,
  // nearly every byte returns to one state). A cursor is a DFA state plus
  // the bytes of a character begun from it (kept out of the DFA: partial
  // characters would multiply its states a thousandfold).
  struct DfaCursor {
    int32_t state = -1;
    uint32_t partial = 0;
    uint8_t need = 0, length = 0;
  };
  int32_t dfa_state(const MatcherState& s);
  // `in` advanced by a byte; false when it is refused. Inline: the hot path
  // of the mask is one table lookup.
  bool dfa_step(const DfaCursor& in, uint8_t byte, DfaCursor& out) {
    if (in.need == 0) {
      int32_t next = dfa_next_[size_t(in.state) * 256 + byte];
      if (next >= 0) {
        out.state = next;
        out.partial = 0;
        out.need = out.length = 0;
        return true;
      }
      if (next == -1) return false;
    }
    return dfa_step_slow(in, byte, out);
  }
  // The state every character from U+0080 up leads `state` to, when they
  // all lead to one; else -1.
  int32_t dfa_high_next(int32_t state);
  bool dfa_can_end(int32_t state) const {
    const MatcherState& s = dfa_states_[size_t(state)];
    return s.accepting && s.need == 0;
  }
  // Forgets the DFA when it holds more than `max_states` (ids change, and
  // dfa_generation() with them).
  void dfa_trim(size_t max_states = 20000);
  size_t dfa_generation() const { return dfa_generation_; }
  const Grammar& grammar() const { return *g_; }

 private:
  struct Node {
    int32_t pos;
    int32_t parent;  // -1: the bottom
  };
  int32_t intern(int32_t pos, int32_t parent);
  void grow_table();
  // The stacks reached by expanding the queued items (node ids) until each
  // is topped by a terminal; appends them to out.stacks.
  void expand(MatcherState& out);
  bool advance(const MatcherState& in, uint32_t cp, MatcherState& out);
  bool feasible(const MatcherState& s, uint32_t lo, uint32_t hi) const;

  std::shared_ptr<const Grammar> g_;
  const int32_t* code_ = nullptr;
  std::vector<Node> nodes_;
  std::vector<int32_t> table_;  // open addressing over nodes_, -1 empty
  std::vector<uint32_t> mark_;  // per node: the expand() pass that reached it
  uint32_t pass_ = 0;
  std::vector<int32_t> work_;
  MatcherState state_, scratch_;
  std::vector<MatcherState> dfa_states_;
  std::unordered_map<MatcherState, int32_t, MatcherStateHash> dfa_ids_;
  std::vector<int32_t> dfa_next_;  // 256 per state: -2 not computed, -1 refused, -3 a character begins
  // (state, code point) -> state (-1 refused), open addressing: the mask
  // looks it up for every token with a character of several bytes.
  std::vector<std::pair<uint64_t, int32_t>> dfa_char_;  // key 0: empty
  size_t dfa_char_count_ = 0;
  size_t dfa_generation_ = 0;
  int32_t dfa_next(int32_t state, uint8_t byte);
  bool dfa_step_slow(const DfaCursor& in, uint8_t byte, DfaCursor& out);
};

}  // namespace uma::text::grammar
