// Key/value caches for autoregressive decoding, as mlx-lm's: a standard cache
// pre-allocated in steps and grown as needed, and a rotating cache of bounded
// size (sliding-window layers, --max-kv-size). Models only call
// update_and_fetch and make_mask, so quantized caches and saved prompt caches
// can be added without touching them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uma/core/array.h"

namespace uma::lm {

// What scaled_dot_product_attention gets: a mode ("causal" or none) or an
// explicit boolean mask (true = attend).
struct AttentionMask {
  std::string mode;
  std::optional<array> mask;
  static AttentionMask none() { return {}; }
  static AttentionMask causal() { return {"causal", std::nullopt}; }
};

// Boolean (N, offset + N) mask: query i (at position offset + i) sees key j
// when j <= offset + i and, with a window, offset + i - j < window.
array create_causal_mask(int n, int offset, std::optional<int> window = std::nullopt);

class KVCache {
 public:
  virtual ~KVCache() = default;
  // Appends keys/values (B, H, T, D) and returns everything attention needs.
  virtual std::pair<array, array> update_and_fetch(const array& keys, const array& values) = 0;
  // Tokens seen so far (positions of the next token start here).
  virtual int offset() const = 0;
  // The mask for `n` new queries (call before update_and_fetch).
  virtual AttentionMask make_mask(int n, std::optional<int> window) const = 0;
  virtual bool is_trimmable() const { return false; }
  // Drops the last n tokens; returns how many were dropped.
  virtual int trim(int n) { return 0; }
  // Arrays that hold the cache's state (to evaluate with the step's outputs).
  virtual std::vector<array> state() const = 0;
  virtual size_t nbytes() const = 0;
  virtual std::map<std::string, std::string> meta_state() const { return {}; }
};

class StandardKVCache : public KVCache {
 public:
  explicit StandardKVCache(int step = 256) : step_(step) {}
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  int offset() const override { return offset_; }
  AttentionMask make_mask(int n, std::optional<int> window) const override;
  bool is_trimmable() const override { return true; }
  int trim(int n) override;
  std::vector<array> state() const override;
  size_t nbytes() const override;

 private:
  int step_;
  int offset_ = 0;
  std::optional<array> keys_, values_;
};

// Holds at most max_size tokens; the first `keep` tokens (attention sinks)
// are never evicted.
class RotatingKVCache : public KVCache {
 public:
  RotatingKVCache(int max_size, int keep = 0, int step = 256) : max_size_(max_size), keep_(keep), step_(step) {}
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  int offset() const override { return offset_; }
  AttentionMask make_mask(int n, std::optional<int> window) const override;
  bool is_trimmable() const override { return offset_ < max_size_; }
  int trim(int n) override;
  std::vector<array> state() const override;
  size_t nbytes() const override;
  int max_size() const { return max_size_; }

 private:
  std::pair<array, array> update_concat(const array& keys, const array& values);
  std::pair<array, array> update_in_place(const array& keys, const array& values);
  array temporal_order(const array& x) const;
  array trim_front(int trim_size, const array& x, const std::optional<array>& append = std::nullopt) const;

  int max_size_, keep_, step_;
  int offset_ = 0;
  int idx_ = 0;
  std::optional<array> keys_, values_;
};

using CacheList = std::vector<std::unique_ptr<KVCache>>;

}  // namespace uma::lm
