#include "uma/text/tokenizer/vocab.h"

#include <stdexcept>

namespace uma::text::tokenizer {

namespace {
constexpr uint32_t kNoString = UINT32_MAX;
}

void Vocab::reserve(size_t n_tokens, size_t n_bytes) {
  pool_.reserve(n_bytes);
  size_t cap = 16;
  while (cap * 7 < n_tokens * 10) cap <<= 1;
  if (cap > slots_.size()) rehash(cap);
}

void Vocab::rehash(size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void Vocab::insert(std::string_view token, int32_t id, uint32_t hash) {
  if (id < 0) throw std::invalid_argument("[tokenizer] negative token id for '" + std::string(token) + "'");
  if ((size_ + 1) * 10 > slots_.size() * 7) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  size_t mask = slots_.size() - 1, i = hash & mask;
  while (slots_[i].id >= 0 && !(slots_[i].hash == hash && matches(slots_[i], token))) i = (i + 1) & mask;
  Slot& s = slots_[i];
  if (s.id >= 0) {
    // Overwrite: the old id keeps no string unless another one claims it.
    if (static_cast<size_t>(s.id) < id_to_token_.size() && id_to_token_[s.id].offset == s.offset) {
      id_to_token_[s.id].length = kNoString;
    }
  } else {
    if (pool_.size() + token.size() > UINT32_MAX) {
      throw std::invalid_argument("[tokenizer] vocabulary larger than 4 GiB");
    }
    s.hash = hash;
    s.offset = static_cast<uint32_t>(pool_.size());
    s.length = static_cast<uint32_t>(token.size());
    std::memcpy(s.head, token.data(), token.size() < kInline ? token.size() : kInline);
    pool_.append(token);
    ++size_;
    if (token.size() > max_len_) max_len_ = token.size();
  }
  s.id = id;
  if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(id + 1, Ref{0, kNoString});
  id_to_token_[id] = {s.offset, s.length};
  if (id > max_id_) max_id_ = id;
}

std::optional<std::string_view> Vocab::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return std::nullopt;
  const Ref& r = id_to_token_[id];
  if (r.length == kNoString) return std::nullopt;
  return std::string_view(pool_.data() + r.offset, r.length);
}

void PairMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap * 3 < n * 4) cap <<= 1;
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
  if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  uint64_t key = make_key(a, b);
  size_t mask = slots_.size() - 1;
  size_t i = hash(key) & mask;
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
  if (slots_[i].key == kEmpty) ++size_;
  slots_[i].key = key;
  slots_[i].value = v;
}

}  // namespace uma::text::tokenizer
