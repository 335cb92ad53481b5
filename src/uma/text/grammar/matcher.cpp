#include "uma/text/grammar/matcher.h"

#include "uma/text/grammar/utf8.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace uma::text::grammar {

namespace {
inline uint64_t mix(int32_t pos, int32_t parent) {
  uint64_t k = (uint64_t(uint32_t(pos)) << 32) | uint32_t(parent);
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar) : g_(std::move(grammar)) {
  if (!g_) throw std::invalid_argument("[GrammarMatcher] grammar is null");
  code_ = g_->code.data();
  table_.assign(1024, -1);
  for (int32_t start : g_->alternatives[size_t(g_->root)]) work_.push_back(intern(start, -1));
  expand(state_);
  std::sort(state_.stacks.begin(), state_.stacks.end());
}

int32_t GrammarMatcher::intern(int32_t pos, int32_t parent) {
  size_t mask = table_.size() - 1;
  for (size_t i = mix(pos, parent) & mask;; i = (i + 1) & mask) {
    int32_t id = table_[i];
    if (id < 0) {
      id = int32_t(nodes_.size());
      nodes_.push_back({pos, parent});
      mark_.push_back(0);
      table_[i] = id;
      if (nodes_.size() * 2 > table_.size()) grow_table();
      return id;
    }
    if (nodes_[size_t(id)].pos == pos && nodes_[size_t(id)].parent == parent) return id;
  }
}

void GrammarMatcher::grow_table() {
  table_.assign(table_.size() * 2, -1);
  size_t mask = table_.size() - 1;
  for (size_t id = 0; id < nodes_.size(); ++id) {
    size_t i = mix(nodes_[id].pos, nodes_[id].parent) & mask;
    while (table_[i] >= 0) i = (i + 1) & mask;
    table_[i] = int32_t(id);
  }
}

void GrammarMatcher::expand(MatcherState& out) {
  if (++pass_ == 0) {  // wrapped: forget every mark
    std::fill(mark_.begin(), mark_.end(), 0);
    pass_ = 1;
  }
  while (!work_.empty()) {
    int32_t id = work_.back();
    work_.pop_back();
    if (mark_[size_t(id)] == pass_) continue;
    mark_[size_t(id)] = pass_;
    const Node n = nodes_[size_t(id)];
    int32_t sym = code_[n.pos];
    if (Grammar::is_terminal(sym)) {
      out.stacks.push_back(id);
      if (out.stacks.size() > kMaxStacks) {
        work_.clear();
        throw std::runtime_error("[GrammarMatcher] more than " + std::to_string(kMaxStacks) +
                                 " parses at once: the grammar is too ambiguous");
      }
    } else if (sym == Grammar::kEnd) {
      if (n.parent < 0) {
        out.accepting = true;
      } else {
        work_.push_back(n.parent);
      }
    } else {
      // Entering a rule: what follows it in this alternative goes below, or
      // nothing when the rule ends it (so right recursion keeps stacks flat).
      int32_t below = code_[n.pos + 1] == Grammar::kEnd ? n.parent : intern(n.pos + 1, n.parent);
      for (int32_t start : g_->alternatives[size_t(sym)]) work_.push_back(intern(start, below));
    }
  }
}

bool GrammarMatcher::advance(const MatcherState& in, uint32_t cp, MatcherState& out) {
  out.stacks.clear();
  out.accepting = false;
  out.partial = 0;
  out.need = out.length = 0;
  for (int32_t id : in.stacks) {
    const Node n = nodes_[size_t(id)];
    if (g_->classes[size_t(Grammar::terminal_class(code_[n.pos]))].contains(cp)) {
      work_.push_back(intern(n.pos + 1, n.parent));
    }
  }
  if (work_.empty()) return false;
  expand(out);
  return true;
}

bool GrammarMatcher::feasible(const MatcherState& s, uint32_t lo, uint32_t hi) const {
  for (int32_t id : s.stacks) {
    if (g_->classes[size_t(Grammar::terminal_class(code_[nodes_[size_t(id)].pos]))].intersects(lo, hi)) return true;
  }
  return false;
}

bool GrammarMatcher::step(const MatcherState& in, uint8_t b, MatcherState& out) {
  Utf8Byte u = utf8_byte(in.partial, in.need, in.length, b);
  if (u.kind == Utf8Byte::refused) return false;
  if (u.kind != Utf8Byte::begun) return advance(in, u.bits, out);
  if (!feasible(in, u.lo, u.hi)) return false;
  out.stacks = in.stacks;
  out.accepting = false;
  out.partial = u.bits;
  out.need = u.need;
  out.length = u.length;
  return true;
}

bool GrammarMatcher::accept_byte(uint8_t byte) {
  if (!step(state_, byte, scratch_)) return false;
  std::sort(scratch_.stacks.begin(), scratch_.stacks.end());
  std::swap(state_, scratch_);
  return true;
}

bool GrammarMatcher::accept(std::string_view bytes) {
  MatcherState saved = state_;
  for (char c : bytes) {
    if (!accept_byte(uint8_t(c))) {
      state_ = std::move(saved);
      return false;
    }
  }
  return true;
}

size_t MatcherStateHash::operator()(const MatcherState& s) const {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t(s.partial) << 8) ^ s.need ^ (uint64_t(s.accepting) << 40);
  for (int32_t id : s.stacks) h = (h ^ uint64_t(uint32_t(id))) * 0x100000001B3ULL;
  return size_t(h ^ (h >> 29));
}

int32_t GrammarMatcher::dfa_state(const MatcherState& s) {
  auto it = dfa_ids_.find(s);
  if (it != dfa_ids_.end()) return it->second;
  int32_t id = int32_t(dfa_states_.size());
  dfa_states_.push_back(s);
  dfa_ids_.emplace(s, id);
  dfa_next_.resize(dfa_next_.size() + 256, -2);
  return id;
}

int32_t GrammarMatcher::dfa_next(int32_t state, uint8_t byte) {
  int32_t next = dfa_next_[size_t(state) * 256 + byte];
  if (next != -2) return next;
  next = -1;
  if (step(dfa_states_[size_t(state)], byte, scratch_)) {
    if (scratch_.need > 0) {
      next = -3;
    } else {
      std::sort(scratch_.stacks.begin(), scratch_.stacks.end());
      next = dfa_state(scratch_);
    }
  }
  dfa_next_[size_t(state) * 256 + byte] = next;  // after dfa_state, which may grow the table
  return next;
}

bool GrammarMatcher::dfa_step_slow(const DfaCursor& in, uint8_t b, DfaCursor& out) {
  if (in.need == 0) {  // the byte table also remembers which lead bytes may begin a character
    int32_t next = dfa_next(in.state, b);
    if (next == -1) return false;
    if (next >= 0) {
      out = {next, 0, 0, 0};
      return true;
    }
  }
  Utf8Byte u = utf8_byte(in.partial, in.need, in.length, b);
  if (u.kind == Utf8Byte::refused) return false;
  if (u.kind == Utf8Byte::begun) {
    if (in.need > 0 && !feasible(dfa_states_[size_t(in.state)], u.lo, u.hi)) return false;
    out = {in.state, u.bits, u.need, u.length};
    return true;
  }
  // A whole character of several bytes: one transition per (state, character).
  const uint64_t key = ((uint64_t(uint32_t(in.state)) << 21) | u.bits) + 1;
  if (dfa_char_.empty()) dfa_char_.assign(4096, {0, 0});
  size_t mask = dfa_char_.size() - 1, at = mix(int32_t(key >> 32), int32_t(key)) & mask;
  while (dfa_char_[at].first != 0 && dfa_char_[at].first != key) at = (at + 1) & mask;
  int32_t next;
  if (dfa_char_[at].first == key) {
    next = dfa_char_[at].second;
  } else {
    next = -1;
    if (advance(dfa_states_[size_t(in.state)], u.bits, scratch_)) {
      std::sort(scratch_.stacks.begin(), scratch_.stacks.end());
      next = dfa_state(scratch_);
    }
    dfa_char_[at] = {key, next};
    if (++dfa_char_count_ * 2 > dfa_char_.size()) {
      std::vector<std::pair<uint64_t, int32_t>> old(dfa_char_.size() * 2, {0, 0});
      old.swap(dfa_char_);
      mask = dfa_char_.size() - 1;
      for (auto& [k, v] : old) {
        if (k == 0) continue;
        size_t j = mix(int32_t(k >> 32), int32_t(k)) & mask;
        while (dfa_char_[j].first != 0) j = (j + 1) & mask;
        dfa_char_[j] = {k, v};
      }
    }
  }
  if (next < 0) return false;
  out = {next, 0, 0, 0};
  return true;
}

int32_t GrammarMatcher::dfa_high_next(int32_t state) {
  // Every character from U+0080 up leads to the same state when each stack
  // takes all of them or none (surrogates are never characters).
  bool any = false;
  for (int32_t id : dfa_states_[size_t(state)].stacks) {
    const CharClass& c = g_->classes[size_t(Grammar::terminal_class(code_[nodes_[size_t(id)].pos]))];
    bool all = c.covers(0x80, 0xD7FF) && c.covers(0xE000, 0x10FFFF);
    if (!all && (c.intersects(0x80, 0xD7FF) || c.intersects(0xE000, 0x10FFFF))) return -1;
    any |= all;
  }
  if (!any) return -1;
  DfaCursor at{state, 0, 0, 0}, mid, end;
  if (!dfa_step(at, 0xC2, mid) || !dfa_step(mid, 0x80, end)) return -1;  // U+0080
  return end.state;
}

void GrammarMatcher::dfa_trim(size_t max_states) {
  if (dfa_states_.size() <= max_states) return;
  dfa_states_.clear();
  dfa_ids_.clear();
  dfa_next_.clear();
  dfa_char_.clear();
  dfa_char_count_ = 0;
  ++dfa_generation_;
}

bool GrammarMatcher::compact(size_t max_nodes) {
  if (nodes_.size() <= max_nodes) return false;
  dfa_trim(0);
  std::vector<Node> old;
  old.swap(nodes_);
  mark_.clear();
  table_.assign(1024, -1);
  pass_ = 0;
  // Re-intern each stack bottom-up into the fresh pool.
  std::vector<int32_t> chain;
  for (int32_t& id : state_.stacks) {
    chain.clear();
    for (int32_t at = id; at >= 0; at = old[size_t(at)].parent) chain.push_back(at);
    int32_t parent = -1;
    for (size_t i = chain.size(); i-- > 0;) parent = intern(old[size_t(chain[i])].pos, parent);
    id = parent;
  }
  std::sort(state_.stacks.begin(), state_.stacks.end());
  return true;
}

}  // namespace uma::text::grammar
