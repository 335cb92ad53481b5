#include "uma/text/tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {

// --- cache -------------------------------------------------------------------

namespace {

// One cache line per entry: the key and the ids are stored inline, so a hit
// costs a single memory access. Longer keys or results are not cached.
constexpr size_t kCacheSlots = 1 << 16;  // 4 MiB per thread
constexpr size_t kKeyBytes = 30;
constexpr size_t kMaxIds = 6;

struct alignas(64) CacheSlot {
  uint64_t tag = 0;
  uint8_t key_len = 0;
  uint8_t n_ids = 0;
  char key[kKeyBytes];
  int32_t ids[kMaxIds];
};
static_assert(sizeof(CacheSlot) == 64);

CacheSlot* thread_cache() {
  thread_local std::unique_ptr<CacheSlot[]> slots(new CacheSlot[kCacheSlots]());
  return slots.get();
}

std::atomic<uint64_t> next_cache_uid{1};

// Distinct for every cache (an odd multiplier is a bijection), so equal keys
// of two models never share a tag.
inline uint64_t make_tag(uint64_t hash, uint64_t uid) { return hash ^ (uid * 0x9E3779B97F4A7C15ull); }

}  // namespace

WordCache::WordCache() : uid_(next_cache_uid.fetch_add(1)) {}

bool WordCache::get(std::string_view key, std::vector<int32_t>& out) const {
  if (key.size() > kKeyBytes) return false;
  uint64_t h = hash_string(key);
  const CacheSlot& slot = thread_cache()[h & (kCacheSlots - 1)];
  if (slot.tag != make_tag(h, uid_) || slot.key_len != key.size() ||
      std::memcmp(slot.key, key.data(), key.size()) != 0) {
    return false;
  }
  for (uint8_t k = 0; k < slot.n_ids; ++k) out.push_back(slot.ids[k]);
  return true;
}

void WordCache::put(std::string_view key, const int32_t* ids, size_t n) const {
  if (key.size() > kKeyBytes || n > kMaxIds) return;
  uint64_t h = hash_string(key);
  CacheSlot& slot = thread_cache()[h & (kCacheSlots - 1)];
  slot.tag = make_tag(h, uid_);
  slot.key_len = static_cast<uint8_t>(key.size());
  slot.n_ids = static_cast<uint8_t>(n);
  std::memcpy(slot.key, key.data(), key.size());
  std::memcpy(slot.ids, ids, n * sizeof(int32_t));
}

// --- model -------------------------------------------------------------------

BpeModel::BpeModel(Vocab vocab, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  // Single characters of a word without prefix/suffix decoration: a table
  // for the first code points (all of the GPT-2 byte alphabet).
  char_ids_.assign(0x800, -1);
  for (uint32_t cp = 0; cp < 0x800; ++cp) char_ids_[cp] = vocab_.find(unicode::to_utf8(cp));
  split_at_metaspace_ = !options_.continuing_subword_prefix && !options_.end_of_word_suffix &&
                       metaspace_is_a_word_boundary(vocab_);
  byte_ids_.fill(-1);
  if (options_.byte_fallback) {
    char buf[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
      byte_ids_[b] = vocab_.find(buf);
    }
  }
}

void BpeModel::add_merges(const std::vector<std::pair<std::string_view, std::string_view>>& merges) {
  // Three stages a few merges apart: hash and prefetch the parts; look them
  // up and prefetch the merged token; look that up and insert.
  constexpr size_t kLag = 8;
  const size_t n = merges.size();
  const size_t prefix = options_.continuing_subword_prefix ? options_.continuing_subword_prefix->size() : 0;
  struct Stage {
    uint32_t ha, hb, hm;
    int32_t a, b;
    std::string merged;
  };
  std::vector<Stage> st(std::min(n, 2 * kLag + 1) + 1);
  merges_.reserve(merges_.size() + n);  // grows its table by doubling
  // Geometric growth, so that many small batches (add_merge) stay linear.
  if (rank_info_.capacity() < rank_info_.size() + n) {
    rank_info_.reserve(std::max(rank_info_.size() + n, 2 * rank_info_.capacity()));
  }
  auto slot = [&](size_t i) -> Stage& { return st[i % st.size()]; };
  auto missing = [](std::string_view what, std::string_view tok) {
    return std::invalid_argument("[tokenizer] BPE " + std::string(what) + " '" + std::string(tok) +
                                 "' is not in the vocabulary");
  };
  for (size_t i = 0; i < n + 2 * kLag; ++i) {
    if (i < n) {
      Stage& s = slot(i);
      s.ha = Vocab::hash_of(merges[i].first);
      s.hb = Vocab::hash_of(merges[i].second);
      vocab_.prefetch(s.ha);
      vocab_.prefetch(s.hb);
    }
    if (i >= kLag && i - kLag < n) {
      size_t j = i - kLag;
      Stage& s = slot(j);
      const auto& [left, right] = merges[j];
      s.a = vocab_.find(left, s.ha);
      if (s.a < 0) throw missing("merge token", left);
      s.b = vocab_.find(right, s.hb);
      if (s.b < 0) throw missing("merge token", right);
      if (right.size() < prefix) {
        throw std::invalid_argument("[tokenizer] BPE merge token '" + std::string(right) +
                                    "' is shorter than the continuing_subword_prefix");
      }
      s.merged.assign(left);
      s.merged.append(right.substr(prefix));
      s.hm = Vocab::hash_of(s.merged);
      vocab_.prefetch(s.hm);
      merges_.prefetch(s.a, s.b);
    }
    if (i >= 2 * kLag) {
      size_t j = i - 2 * kLag;
      Stage& s = slot(j);
      int32_t id = vocab_.find(s.merged, s.hm);
      if (id < 0) throw missing("merged token", s.merged);
      rank_info_.push_back({s.a, s.b, id});
      merges_.insert(s.a, s.b, {n_merges_++, id});
    }
  }
}

bool metaspace_is_a_word_boundary(const Vocab& vocab) {
  if (vocab.find(kMetaspace) < 0) return false;
  bool ok = true;
  vocab.for_each([&](std::string_view t, int32_t) {
    for (size_t p = t.find(kMetaspace, 1); ok && p != std::string_view::npos; p = t.find(kMetaspace, p + 1)) {
      if (p < 3 || t.substr(p - 3, 3) != kMetaspace) ok = false;
    }
  });
  return ok;
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& ids) const {
  if (split_at_metaspace_) {
    for_each_metaspace_word(piece, [&](std::string_view w) { tokenize_word(w, ids); });
  } else {
    tokenize_word(piece, ids);
  }
}

void BpeModel::tokenize_word(std::string_view piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  // The cache holds final results, so it may be asked before the vocabulary
  // (ignore_merges); it is the smaller table of the two.
  if (cache_.get(piece, ids)) return;
  size_t before = ids.size();
  int32_t id = options_.ignore_merges ? vocab_.find(piece) : -1;
  if (id >= 0) {
    ids.push_back(id);
  } else {
    merge_word(piece, ids);
  }
  cache_.put(piece, ids.data() + before, ids.size() - before);
}

namespace {

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t len;  // bytes; 0 once merged into the left neighbour
};

// Heap entries are (rank << 32 | position): a min-heap on them pops merges
// in tokenizers' order (lowest rank, then leftmost). The pair and the merged
// id of a rank are in rank_info_.
inline uint64_t merge_key(uint32_t rank, uint32_t pos) { return (static_cast<uint64_t>(rank) << 32) | pos; }

}  // namespace

void BpeModel::merge_word(std::string_view w, std::vector<int32_t>& ids) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<uint64_t> heap;
  thread_local std::string buf;
  symbols.clear();
  heap.clear();

  auto add = [](int32_t id, uint32_t len) {
    int32_t n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1, len});
  };

  int32_t unk_id = -1;
  if (options_.unk_token) {
    unk_id = vocab_.find(*options_.unk_token);
    if (unk_id < 0) {
      // Only an error when an unknown character actually needs it.
      unk_id = -2;
    }
  }
  bool have_unk = false;
  int32_t pending_unk = -1;
  uint32_t pending_len = 0;
  auto resolve_unk = [&]() -> int32_t {
    if (unk_id == -2) {
      throw std::invalid_argument("[tokenizer] BPE unk_token '" + *options_.unk_token +
                                  "' is not in the vocabulary");
    }
    return unk_id;
  };

  size_t i = 0;
  while (i < w.size()) {
    size_t len = unicode::utf8_len(static_cast<unsigned char>(w[i]));
    if (i + len > w.size()) len = w.size() - i;
    bool first = i == 0, last = i + len == w.size();
    std::string_view s = w.substr(i, len);
    bool decorated = (!first && options_.continuing_subword_prefix) ||
                     (last && options_.end_of_word_suffix);
    if (decorated) {
      buf.clear();
      if (!first && options_.continuing_subword_prefix) buf += *options_.continuing_subword_prefix;
      buf.append(s);
      if (last && options_.end_of_word_suffix) buf += *options_.end_of_word_suffix;
      s = buf;
    }
    int32_t id;
    if (!decorated && len <= 2 && static_cast<unsigned char>(w[i]) < 0xE0) {
      int l;
      id = char_ids_[unicode::decode(w, i, &l)];
    } else {
      id = vocab_.find(s);
    }
    if (id >= 0) {
      if (have_unk) {
        add(pending_unk, pending_len);
        have_unk = false;
      }
      add(id, static_cast<uint32_t>(len));
    } else {
      bool done = false;
      if (options_.byte_fallback) {
        bool all = true;
        for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
        if (all) {
          // Byte tokens go straight in (the pending unk stays pending).
          for (unsigned char b : s) add(byte_ids_[b], 1);
          done = true;
        }
      }
      if (!done && options_.unk_token) {
        int32_t u = resolve_unk();
        if (have_unk && options_.fuse_unk) {
          pending_len += static_cast<uint32_t>(len);
        } else {
          if (have_unk) add(pending_unk, pending_len);
          have_unk = true;
          pending_unk = u;
          pending_len = static_cast<uint32_t>(len);
        }
      }
    }
    i += len;
  }
  if (have_unk) add(pending_unk, pending_len);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  for (size_t k = 0; k + 1 < symbols.size(); ++k) {
    if (const auto* m = merges_.find(symbols[k].id, symbols[k + 1].id)) {
      heap.push_back(merge_key(m->rank, static_cast<uint32_t>(k)));
    }
  }
  const std::greater<uint64_t> after;
  std::make_heap(heap.begin(), heap.end(), after);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    uint64_t top = heap.back();
    heap.pop_back();
    auto pos = static_cast<uint32_t>(top);
    const RankInfo& info = rank_info_[top >> 32];
    Symbol& cur = symbols[pos];
    if (cur.len == 0 || cur.next < 0) continue;
    int32_t right_pos = cur.next;
    Symbol right = symbols[right_pos];
    // Skip entries that a previous merge made stale. tokenizers checks that
    // the current pair merges into the same token; the same pair surely does.
    if (cur.id != info.left || right.id != info.right) {
      const auto* m = merges_.find(cur.id, right.id);
      if (m == nullptr || m->id != info.id) continue;
    }
    cur.id = info.id;
    cur.len += right.len;
    cur.next = right.next;
    symbols[right_pos].len = 0;
    if (right.next >= 0) symbols[right.next].prev = static_cast<int32_t>(pos);
    if (cur.prev >= 0) {
      if (const auto* pm = merges_.find(symbols[cur.prev].id, cur.id)) {
        heap.push_back(merge_key(pm->rank, static_cast<uint32_t>(cur.prev)));
        std::push_heap(heap.begin(), heap.end(), after);
      }
    }
    if (cur.next >= 0) {
      if (const auto* nm = merges_.find(cur.id, symbols[cur.next].id)) {
        heap.push_back(merge_key(nm->rank, pos));
        std::push_heap(heap.begin(), heap.end(), after);
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len != 0) ids.push_back(s.id);
  }
}

}  // namespace uma::text::tokenizer
