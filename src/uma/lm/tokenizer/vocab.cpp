#include "uma/lm/tokenizer/vocab.h"

#include <stdexcept>

namespace uma::tokenizer {

void Vocab::reserve(size_t n_tokens, size_t n_bytes) {
  pool_.reserve(n_bytes);
  entries_.reserve(n_tokens);
  size_t cap = 16;
  while (cap < n_tokens * 2) cap <<= 1;
  if (cap > slots_.size()) {
    slots_.assign(cap, 0);
    for (size_t e = 0; e < entries_.size(); ++e) {
      const Entry& en = entries_[e];
      size_t mask = slots_.size() - 1, i = en.hash & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(e + 1);
    }
  }
}

void Vocab::grow() { reserve(entries_.empty() ? 8 : entries_.size() * 2, pool_.capacity()); }

size_t Vocab::slot_of(std::string_view token, uint32_t hash) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t s = slots_[i];
    if (s == 0) return i;
    const Entry& e = entries_[s - 1];
    if (e.hash == hash && e.length == token.size() &&
        std::memcmp(pool_.data() + e.offset, token.data(), token.size()) == 0) {
      return i;
    }
  }
}

void Vocab::insert(std::string_view token, int32_t id) {
  if (id < 0) throw std::invalid_argument("[tokenizer] negative token id for '" + std::string(token) + "'");
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  auto hash = static_cast<uint32_t>(hash_string(token));
  size_t i = slot_of(token, hash);
  if (slots_[i] != 0) {
    Entry& e = entries_[slots_[i] - 1];
    if (e.id >= 0 && static_cast<size_t>(e.id) < id_to_entry_.size() &&
        id_to_entry_[e.id] == static_cast<int32_t>(slots_[i] - 1)) {
      id_to_entry_[e.id] = -1;
    }
    e.id = id;
  } else {
    if (pool_.size() + token.size() > UINT32_MAX) {
      throw std::invalid_argument("[tokenizer] vocabulary larger than 4 GiB");
    }
    entries_.push_back({static_cast<uint32_t>(pool_.size()), static_cast<uint32_t>(token.size()),
                        id, hash});
    pool_.append(token);
    slots_[i] = static_cast<uint32_t>(entries_.size());
    ++n_live_;
    if (token.size() > max_len_) max_len_ = token.size();
  }
  if (static_cast<size_t>(id) >= id_to_entry_.size()) id_to_entry_.resize(id + 1, -1);
  id_to_entry_[id] = static_cast<int32_t>(slots_[i] - 1);
  if (id > max_id_) max_id_ = id;
}

int32_t Vocab::find(std::string_view token) const {
  if (slots_.empty()) return -1;
  auto hash = static_cast<uint32_t>(hash_string(token));
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t s = slots_[i];
    if (s == 0) return -1;
    const Entry& e = entries_[s - 1];
    if (e.hash == hash && e.length == token.size() &&
        std::memcmp(pool_.data() + e.offset, token.data(), token.size()) == 0) {
      return e.id;
    }
  }
}

std::optional<std::string_view> Vocab::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_entry_.size()) return std::nullopt;
  int32_t e = id_to_entry_[id];
  if (e < 0) return std::nullopt;
  const Entry& en = entries_[e];
  return std::string_view(pool_.data() + en.offset, en.length);
}

void PairMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  if (cap > slots_.size()) rehash(cap);
}

void PairMap::rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = hash(s.key) & mask;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void PairMap::insert(int32_t a, int32_t b, Value v) {
  if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  uint64_t key = make_key(a, b);
  size_t mask = slots_.size() - 1;
  size_t i = hash(key) & mask;
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
  if (slots_[i].key == kEmpty) ++size_;
  slots_[i].key = key;
  slots_[i].value = v;
}

}  // namespace uma::tokenizer
