#include "uma/lm/prefix_cache.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::lm {

namespace {

// The bytes an entry keeps alive: each buffer its arrays hold, once, whole
// (a view of a cache that grows in steps pins the whole step).
size_t held_bytes(const CacheList& caches) {
  std::vector<array> st;
  for (auto& c : caches) {
    for (auto& a : c->state()) st.push_back(a);
  }
  eval(st);
  std::set<const void*> seen;
  size_t n = 0;
  for (auto& a : st) {
    const auto& b = a.buffer();
    if (!b.ptr) {
      n += a.nbytes();  // on a device alone: its own bytes
    } else if (seen.insert(b.ptr).second) {
      n += std::max(b.size, a.nbytes());
    }
  }
  return n;
}

bool trimmable(const CacheList& caches) {
  return std::all_of(caches.begin(), caches.end(), [](auto& c) { return c->is_trimmable(); });
}

// With `compact`, the copy's arrays are buffers of their own holding just
// the cached positions (an entry kept for later must not pin the spare room
// of the growing buffers it was copied from); else it shares them.
std::unique_ptr<KVCache> copy_cache(const KVCache& c, bool compact) {
  auto own = [compact](const array& a) { return compact ? copy(a) : a; };
  auto own3 = [&](const QuantizedKVCache::Triple& t) {
    QuantizedKVCache::Triple out;
    for (auto& a : t) out.push_back(own(a));
    return out;
  };
  if (auto* s = dynamic_cast<const StandardKVCache*>(&c)) {
    auto st = s->saved_state();  // keys and values up to the offset
    if (st.empty()) return std::make_unique<StandardKVCache>();
    return std::make_unique<StandardKVCache>(own(st[0].second), own(st[1].second));
  }
  if (auto* q = dynamic_cast<const QuantizedKVCache*>(&c)) {
    if (q->offset() == 0) return std::make_unique<QuantizedKVCache>(q->group_size(), q->bits());
    auto [k, v] = q->held();
    return std::make_unique<QuantizedKVCache>(own3(k), own3(v), q->offset(), q->group_size(), q->bits());
  }
  if (auto* r = dynamic_cast<const RotatingKVCache*>(&c)) {
    auto st = r->saved_state();
    if (st.empty()) return std::make_unique<RotatingKVCache>(r->max_size(), r->keep());
    auto meta = r->meta_state();  // keep, max_size, offset, idx
    return std::make_unique<RotatingKVCache>(own(st[0].second), own(st[1].second), r->keep(), r->max_size(),
                                             r->offset(), std::stoi(meta[3]));
  }
  throw std::invalid_argument("[prefix_cache] cannot copy a " + c.class_name() +
                              " (standard, rotating and quantized caches only)");
}

}  // namespace

size_t common_prefix(const std::vector<int>& a, const std::vector<int>& b) {
  size_t n = 0, most = std::min(a.size(), b.size());
  while (n < most && a[n] == b[n]) ++n;
  return n;
}

CacheList copy_caches(const CacheList& caches, bool compact) {
  CacheList out;
  for (auto& c : caches) out.push_back(copy_cache(*c, compact));
  return out;
}

std::list<PrefixCache::Entry>::const_iterator PrefixCache::longest(const std::vector<int>& prompt,
                                                                   size_t& best_n) const {
  auto best = lru_.end();
  best_n = 0;
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    size_t n = std::min(common_prefix(it->tokens, prompt), prompt.empty() ? 0 : prompt.size() - 1);
    if (n <= best_n) continue;
    if (n < it->tokens.size() && !trimmable(it->cache)) continue;  // cannot drop its tail
    best = it;
    best_n = n;
  }
  return best;
}

int PrefixCache::match(const std::vector<int>& prompt) const {
  size_t n = 0;
  longest(prompt, n);
  return int(n);
}

PrefixCache::Hit PrefixCache::fetch(const std::vector<int>& prompt) {
  size_t best_n = 0;
  auto best = longest(prompt, best_n);
  Hit hit;
  if (best == lru_.end()) {
    ++counters_.misses;
    return hit;
  }
  hit.cache = copy_caches(best->cache);
  int drop = int(best->tokens.size() - best_n);
  for (auto& c : hit.cache) {
    if (drop > 0 && c->trim(drop) != drop) {
      // A cache that trims short: the entry is of no use for this prompt.
      ++counters_.misses;
      return {};
    }
  }
  hit.tokens = int(best_n);
  lru_.splice(lru_.begin(), lru_, best);
  ++counters_.hits;
  counters_.reused_tokens += hit.tokens;
  return hit;
}

void PrefixCache::insert(const std::vector<int>& tokens, const CacheList& caches) {
  if (tokens.empty() || caches.empty() || caches[0]->offset() != int(tokens.size())) return;
  const bool trims = trimmable(caches);
  for (auto it = lru_.begin(); it != lru_.end();) {
    size_t common = common_prefix(it->tokens, tokens);
    if (common == tokens.size() && (common == it->tokens.size() || trimmable(it->cache))) {
      // An entry holding these tokens and maybe more already serves them.
      lru_.splice(lru_.begin(), lru_, it);
      return;
    }
    if (common == it->tokens.size() && trims) {
      bytes_ -= it->bytes;  // served by the new entry from now on
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
  Entry e;
  e.tokens = tokens;
  e.cache = copy_caches(caches, /*compact=*/true);
  e.bytes = held_bytes(e.cache);
  if (e.bytes > max_bytes_) return;
  bytes_ += e.bytes;
  lru_.push_front(std::move(e));
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    lru_.pop_back();
    ++counters_.evictions;
  }
}

void PrefixCache::clear() {
  lru_.clear();
  bytes_ = 0;
}

std::vector<std::vector<int>> PrefixCache::entries() const {
  std::vector<std::vector<int>> out;
  for (auto& e : lru_) out.push_back(e.tokens);
  return out;
}

}  // namespace uma::lm
