#include "uma/lm/kv_cache.h"

#include "uma/core/ops.h"

namespace uma::lm {

namespace {
array seq_slice(const array& x, int begin, int end) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[2] = begin;
  stop[2] = end;
  return slice(x, start, stop);
}

array seq_update(const array& x, const array& update, int begin) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[2] = begin;
  stop[2] = begin + update.shape(2);
  return slice_update(x, update, start, stop);
}

array zeros_like_seq(const array& x, int n) {
  Shape s = x.shape();
  s[2] = n;
  return zeros(s, x.dtype());
}
}  // namespace

array create_causal_mask(int n, int offset, std::optional<int> window) {
  array rinds = reshape(arange(0, offset + n), {1, offset + n});
  array linds = reshape(arange(offset, offset + n), {n, 1});
  array mask = greater_equal(linds, rinds);
  if (window) mask = logical_and(mask, less(linds, add(rinds, array(*window))));
  return mask;
}

// --- standard

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

// --- rotating

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

}  // namespace uma::lm
