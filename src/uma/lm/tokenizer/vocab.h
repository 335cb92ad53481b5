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

namespace uma::tokenizer {

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
// a serde HashMap; several strings may share an id.
class Vocab {
 public:
  void reserve(size_t n_tokens, size_t n_bytes);
  void insert(std::string_view token, int32_t id);
  int32_t find(std::string_view token) const;  // -1 when absent
  bool contains(std::string_view token) const { return find(token) >= 0; }
  // The string of an id (the last inserted one when several share it).
  std::optional<std::string_view> token(int32_t id) const;
  size_t size() const { return n_live_; }  // distinct strings
  int32_t max_id() const { return max_id_; }
  size_t max_token_bytes() const { return max_len_; }
  // Calls f(token, id) for every distinct string.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& e : entries_) f(std::string_view(pool_.data() + e.offset, e.length), e.id);
  }

 private:
  struct Entry {
    uint32_t offset, length;
    int32_t id;
    uint32_t hash;
  };
  void grow();
  size_t slot_of(std::string_view token, uint32_t hash) const;

  std::string pool_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1; 0 = empty
  std::vector<int32_t> id_to_entry_;
  size_t n_live_ = 0, max_len_ = 0;
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

}  // namespace uma::tokenizer
