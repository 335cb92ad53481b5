// KV caches shared across requests, keyed by the tokens they hold, as
// mlx-lm's LRUPromptCache and llama.cpp's server slots: a request whose
// prompt starts like an earlier one (the same system prompt, an earlier turn
// of the conversation) starts from the longest prefix held and prefills only
// the rest. Entries are least-recently-used first to go once their bytes pass
// a budget: an entry counts the buffers it keeps alive, and holds its
// tokens compactly (not the spare room of the caches it was copied from). A
// request gets a copy that shares the entry's arrays (arrays are values:
// appending to the copy never changes the entry), trimmed to the prefix it
// uses. Not thread-safe: one scheduler owns it.
//
//   PrefixCache pc(512 << 20);
//   auto hit = pc.fetch(prompt);              // hit.cache holds prompt[0 .. hit.tokens)
//   ... generate, feeding prompt[hit.tokens ..] ...
//   pc.insert(held_tokens, caches);           // for the requests after it
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "uma/lm/kv_cache.h"

namespace uma::lm {

// Caches holding the same tokens as `caches`, sharing their arrays (standard,
// rotating and quantized caches), or with `compact` in buffers of their own
// that hold just those tokens; throws std::invalid_argument
// "[prefix_cache] ..." naming a cache class it cannot copy.
CacheList copy_caches(const CacheList& caches, bool compact = false);

// How many tokens a and b share from the start.
size_t common_prefix(const std::vector<int>& a, const std::vector<int>& b);

class PrefixCache {
 public:
  explicit PrefixCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  struct Hit {
    CacheList cache;  // empty on a miss
    int tokens = 0;   // the prompt tokens it holds
  };
  // Caches holding the longest prefix of `prompt` that an entry holds, but
  // never the whole prompt (its last token's logits start the answer); a
  // miss when no entry shares a first token (or the entry cannot be trimmed
  // back to the prefix: a rotating cache that has wrapped).
  Hit fetch(const std::vector<int>& prompt);
  // The tokens fetch(prompt) would serve, without fetching (no counters, no
  // reordering); an entry that would trim short counts as serving them.
  int match(const std::vector<int>& prompt) const;

  // Keeps a copy of `caches`, which hold `tokens`. Entries whose tokens are a
  // prefix of these are dropped when this one can serve them (its caches
  // trim); when an entry holding more already serves these, it is kept
  // instead. Then the least recently used go until the budget holds; caches
  // larger than the whole budget are not kept.
  void insert(const std::vector<int>& tokens, const CacheList& caches);

  void clear();
  size_t nbytes() const { return bytes_; }
  size_t max_bytes() const { return max_bytes_; }
  size_t size() const { return lru_.size(); }
  // The tokens of each entry, most recently used first.
  std::vector<std::vector<int>> entries() const;

  struct Counters {
    int64_t hits = 0, misses = 0;
    int64_t reused_tokens = 0;  // prompt tokens served from entries
    int64_t evictions = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Entry {
    std::vector<int> tokens;
    CacheList cache;
    size_t bytes = 0;
  };
  // The entry sharing the longest usable prefix of prompt (its length in n),
  // or end().
  std::list<Entry>::const_iterator longest(const std::vector<int>& prompt, size_t& n) const;

  size_t max_bytes_;
  size_t bytes_ = 0;
  std::list<Entry> lru_;  // most recently used first
  Counters counters_;
};

}  // namespace uma::lm
