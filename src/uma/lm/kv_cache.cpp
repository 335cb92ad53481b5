#include "uma/lm/kv_cache.h"

#include <stdexcept>

#include "uma/core/ops.h"
#include "uma/lm/kv_cache_seq.h"

namespace uma::lm {

using detail::seq_slice;
using detail::seq_update;
using detail::zeros_like_seq;

array create_causal_mask(int n, int offset, std::optional<int> window) {
  array rinds = reshape(arange(0, offset + n), {1, offset + n});
  array linds = reshape(arange(offset, offset + n), {n, 1});
  array mask = greater_equal(linds, rinds);
  if (window) mask = logical_and(mask, less(linds, add(rinds, array(*window))));
  return mask;
}

// --- standard

StandardKVCache::StandardKVCache(const array& keys, const array& values)
    : step_(256), offset_(keys.shape(2)), keys_(keys), values_(values) {}

std::pair<array, array> StandardKVCache::update_and_fetch(const array& keys, const array& values) {
  int prev = offset_, n = keys.shape(2);
  if (!keys_ || prev + n > keys_->shape(2)) {
    int n_steps = (step_ + n - 1) / step_;
    array nk = zeros_like_seq(keys, n_steps * step_);
    array nv = zeros_like_seq(values, n_steps * step_);
    if (keys_) {
      if (prev % step_ != 0) {
        keys_ = seq_slice(*keys_, 0, prev);
        values_ = seq_slice(*values_, 0, prev);
      }
      keys_ = concatenate({*keys_, nk}, 2);
      values_ = concatenate({*values_, nv}, 2);
    } else {
      keys_ = nk;
      values_ = nv;
    }
  }
  offset_ += n;
  keys_ = seq_update(*keys_, keys, prev);
  values_ = seq_update(*values_, values, prev);
  return {seq_slice(*keys_, 0, offset_), seq_slice(*values_, 0, offset_)};
}

AttentionMask StandardKVCache::make_mask(int n, std::optional<int> window) const {
  // Queries reaching past the window need an explicit mask, a single query too.
  if (window && offset_ + n > *window) return {"", create_causal_mask(n, offset_, window)};
  return n == 1 ? AttentionMask::none() : AttentionMask::causal();
}

int StandardKVCache::trim(int n) {
  n = std::min(offset_, n);
  offset_ -= n;
  return n;
}

std::vector<array> StandardKVCache::state() const {
  if (!keys_) return {};
  return {*keys_, *values_};
}

size_t StandardKVCache::nbytes() const { return keys_ ? keys_->nbytes() + values_->nbytes() : 0; }

std::vector<std::pair<std::string, array>> StandardKVCache::saved_state() const {
  if (!keys_) return {};
  if (offset_ == keys_->shape(2)) return {{"0", *keys_}, {"1", *values_}};
  return {{"0", seq_slice(*keys_, 0, offset_)}, {"1", seq_slice(*values_, 0, offset_)}};
}

std::unique_ptr<QuantizedKVCache> StandardKVCache::to_quantized(int group_size, int bits) const {
  if (!keys_) return std::make_unique<QuantizedKVCache>(group_size, bits);
  return std::make_unique<QuantizedKVCache>(quantize(*keys_, group_size, bits), quantize(*values_, group_size, bits),
                                            offset_, group_size, bits);
}

// --- rotating

RotatingKVCache::RotatingKVCache(const array& keys, const array& values, int keep, int max_size, int offset,
                                 int idx)
    : max_size_(max_size), keep_(keep), step_(256), offset_(offset), idx_(idx), keys_(keys), values_(values) {
  int held = keys.shape(2);
  // The buffer never holds more than was seen; after a multi-token update it
  // may hold up to max_size + n - 1.
  if (max_size < 1 || keep < 0 || keep > max_size || idx < 0 || idx > held || held > offset ||
      (offset < max_size && held != offset)) {
    throw std::invalid_argument("[RotatingKVCache] inconsistent state: keep " + std::to_string(keep) +
                                ", max_size " + std::to_string(max_size) + ", offset " + std::to_string(offset) +
                                ", idx " + std::to_string(idx) + " with " + std::to_string(held) +
                                " positions held");
  }
}

array RotatingKVCache::trim_front(int trim_size, const array& x, const std::optional<array>& append) const {
  std::vector<array> parts;
  if (trim_size > 0) {
    parts.push_back(seq_slice(x, 0, keep_));
    parts.push_back(seq_slice(x, trim_size + keep_, x.shape(2)));
  } else {
    parts.push_back(x);
  }
  if (append) parts.push_back(*append);
  return parts.size() == 1 ? parts[0] : concatenate(parts, 2);
}

// Rearranges the ring buffer into the order the tokens arrived.
array RotatingKVCache::temporal_order(const array& x) const {
  if (idx_ == x.shape(2)) return x;
  if (idx_ < offset_) {
    return concatenate({seq_slice(x, 0, keep_), seq_slice(x, idx_, x.shape(2)), seq_slice(x, keep_, idx_)}, 2);
  }
  return seq_slice(x, 0, idx_);
}

std::pair<array, array> RotatingKVCache::update_concat(const array& keys, const array& values) {
  if (!keys_) {
    keys_ = keys;
    values_ = values;
  } else {
    keys_ = temporal_order(*keys_);
    values_ = temporal_order(*values_);
    idx_ = keys_->shape(2);
    // Up to max_size + n - 1 so every new token sees max_size tokens.
    int trim_size = idx_ - max_size_ + 1;
    keys_ = trim_front(trim_size, *keys_, keys);
    values_ = trim_front(trim_size, *values_, values);
  }
  offset_ += keys.shape(2);
  idx_ = keys_->shape(2);
  return {*keys_, *values_};
}

std::pair<array, array> RotatingKVCache::update_in_place(const array& keys, const array& values) {
  int prev = offset_, n = keys.shape(2);
  if (!keys_ || (prev >= keys_->shape(2) && keys_->shape(2) < max_size_)) {
    int new_size = std::min(step_, max_size_ - prev);
    array nk = zeros_like_seq(keys, new_size);
    array nv = zeros_like_seq(values, new_size);
    if (keys_) {
      keys_ = concatenate({*keys_, nk}, 2);
      values_ = concatenate({*values_, nv}, 2);
    } else {
      keys_ = nk;
      values_ = nv;
    }
    idx_ = prev;
  }
  int trim_size = keys_->shape(2) - max_size_;
  if (trim_size > 0) {
    keys_ = trim_front(trim_size, *keys_);
    values_ = trim_front(trim_size, *values_);
    idx_ = max_size_;
  }
  if (idx_ == max_size_) idx_ = keep_;
  keys_ = seq_update(*keys_, keys, idx_);
  values_ = seq_update(*values_, values, idx_);
  offset_ += n;
  idx_ += n;
  if (offset_ < max_size_) return {seq_slice(*keys_, 0, offset_), seq_slice(*values_, 0, offset_)};
  return {*keys_, *values_};
}

std::pair<array, array> RotatingKVCache::update_and_fetch(const array& keys, const array& values) {
  if (keys.shape(2) == 1) return update_in_place(keys, values);
  return update_concat(keys, values);
}

AttentionMask RotatingKVCache::make_mask(int n, std::optional<int> window) const {
  if (n > 1) {
    int w = window.value_or(max_size_);
    int off = std::min(max_size_ - 1, offset_);
    if (off + n > w) return {"", create_causal_mask(n, off, w)};
    return AttentionMask::causal();
  }
  if (!window) return AttentionMask::none();
  if (offset_ >= *window && max_size_ > *window) {
    int idx = idx_ >= max_size_ ? 0 : idx_;
    int mask_size = std::min(max_size_, offset_ + 1);
    array m = greater_equal(arange(0, mask_size), array(mask_size - *window));
    return {"", roll(m, idx + 1)};
  }
  return AttentionMask::none();
}

int RotatingKVCache::trim(int n) {
  n = std::min(offset_, n);
  offset_ -= n;
  idx_ -= n;
  return n;
}

std::vector<array> RotatingKVCache::state() const {
  if (!keys_) return {};
  return {*keys_, *values_};
}

size_t RotatingKVCache::nbytes() const { return keys_ ? keys_->nbytes() + values_->nbytes() : 0; }

std::vector<std::pair<std::string, array>> RotatingKVCache::saved_state() const {
  if (!keys_) return {};
  if (offset_ < keys_->shape(2)) return {{"0", seq_slice(*keys_, 0, offset_)}, {"1", seq_slice(*values_, 0, offset_)}};
  return {{"0", *keys_}, {"1", *values_}};
}

std::vector<std::string> RotatingKVCache::meta_state() const {
  return {std::to_string(keep_), std::to_string(max_size_), std::to_string(offset_), std::to_string(idx_)};
}

// --- quantization of caches

void check_kv_quantization(const KVQuantization& q) {
  if (q.bits < 2 || q.bits > 8 || q.bits == 7) {
    throw std::invalid_argument("--kv-bits must be 2, 3, 4, 5, 6 or 8, got " + std::to_string(q.bits));
  }
  if (q.group_size != 32 && q.group_size != 64 && q.group_size != 128) {
    throw std::invalid_argument("--kv-group-size must be 32, 64 or 128, got " + std::to_string(q.group_size));
  }
  if (q.start < 0) throw std::invalid_argument("--quantized-kv-start must be >= 0, got " + std::to_string(q.start));
}

int maybe_quantize_kv_cache(CacheList& caches, const KVQuantization& q) {
  int converted = 0;
  for (auto& c : caches) {
    auto* standard = dynamic_cast<StandardKVCache*>(c.get());
    if (standard && standard->offset() >= q.start) {
      c = standard->to_quantized(q.group_size, q.bits);
      ++converted;
    }
  }
  return converted;
}

}  // namespace uma::lm
