// Flat hash tables for vocabularies: string -> id with the strings packed in
// one pool (no per-token allocation), and (id, id) -> (rank, id) for BPE
// merges. Both use open addressing with linear probing.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uma::text::tokenizer {

inline uint64_t hash_bytes(const void* data, size_t n) {
  const auto* s = static_cast<const unsigned char*>(data);
  constexpr uint64_t k1 = 0xbf58476d1ce4e5b9ull, k2 = 0x94d049bb133111ebull;
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * k2);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, s, 8);
    h = (h ^ w) * k1;
    h ^= h >> 29;
    s += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    h = (h ^ ((static_cast<uint64_t>(a) << 32) | b)) * k1;
    h ^= h >> 29;
  } else if (n > 0) {
    uint64_t w = (static_cast<uint64_t>(s[0]) << 16) | (static_cast<uint64_t>(s[n >> 1]) << 8) |
                 s[n - 1];
    h = (h ^ w) * k1;
    h ^= h >> 29;
  }
  h *= k2;
  return h ^ (h >> 31);
}

inline uint64_t hash_string(std::string_view s) { return hash_bytes(s.data(), s.size()); }

// Transparent hash for std::unordered_map<std::string, T> lookups by view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return hash_string(s); }
};

// String -> id map. Later inserts of the same string overwrite the id, like
// a serde HashMap; several strings may share an id. Slots keep the hash, the
// length and the first bytes of the key inline, so a lookup of a short token
// touches one cache line.
class Vocab {
 public:
  void reserve(size_t n_tokens, size_t n_bytes);
  void insert(std::string_view token, int32_t id) { insert(token, id, hash_of(token)); }
  void insert(std::string_view token, int32_t id, uint32_t hash);
  int32_t find(std::string_view token) const {
    return find(token, static_cast<uint32_t>(hash_string(token)));
  }
  // Lookups and inserts with a precomputed hash_of(token), so that callers
  // can prefetch() the slot of a key well before they need it.
  static uint32_t hash_of(std::string_view token) { return static_cast<uint32_t>(hash_string(token)); }
  void prefetch(uint32_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  int32_t find(std::string_view token, uint32_t hash) const {
    if (slots_.empty()) return -1;
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == hash && matches(s, token)) return s.id;
    }
  }
  bool contains(std::string_view token) const { return find(token) >= 0; }
  // The string of an id (the last inserted one when several share it).
  std::optional<std::string_view> token(int32_t id) const;
  size_t size() const { return size_; }  // distinct strings
  int32_t max_id() const { return max_id_; }
  size_t max_token_bytes() const { return max_len_; }
  // Calls f(token, id) for every distinct string.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.id >= 0) f(std::string_view(pool_.data() + s.offset, s.length), s.id);
    }
  }

 private:
  static constexpr size_t kInline = 16;
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;  // -1: empty
    uint32_t offset = 0, length = 0;
    char head[kInline];
  };
  bool matches(const Slot& s, std::string_view t) const {
    if (s.length != t.size()) return false;
    size_t h = t.size() < kInline ? t.size() : kInline;
    if (std::memcmp(s.head, t.data(), h) != 0) return false;
    return t.size() <= kInline ||
           std::memcmp(pool_.data() + s.offset + kInline, t.data() + kInline, t.size() - kInline) == 0;
  }
  void rehash(size_t capacity);

  std::string pool_;
  std::vector<Slot> slots_;
  struct Ref {
    uint32_t offset, length;
  };
  std::vector<Ref> id_to_token_;  // length UINT32_MAX: no string
  size_t size_ = 0, max_len_ = 0;
  int32_t max_id_ = -1;
};

// (left id, right id) -> (rank, merged id).
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  void insert(int32_t a, int32_t b, Value v);  // overwrites
  void prefetch(int32_t a, int32_t b) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash(make_key(a, b)) & (slots_.size() - 1)]);
  }
  const Value* find(int32_t a, int32_t b) const {
    if (slots_.empty()) return nullptr;
    uint64_t key = make_key(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };
  static uint64_t make_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static size_t hash(uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(k ^ (k >> 29));
  }
  void rehash(size_t capacity);
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace uma::text::tokenizer
