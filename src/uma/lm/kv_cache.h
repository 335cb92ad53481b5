// Key/value caches for autoregressive decoding, as mlx-lm's (models/cache.py):
// a standard cache pre-allocated in steps and grown as needed, a rotating
// cache of bounded size (sliding-window layers, --max-kv-size) and a
// quantized cache (--kv-bits). Models only call update_and_fetch and
// make_mask, through lm::cached_attention (attention.h), which reads a
// quantized cache without dequantizing it.
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

  // What a prompt cache file holds (prompt_cache_file.h), as mlx-lm's
  // `state` and `meta_state` properties: the class name mlx-lm knows the
  // cache by, the state arrays trimmed to what is held, named by their
  // tree_flatten path within the cache's state ("0" and "1" for keys and
  // values; "0.0" .. "1.2" for a quantized cache's (packed, scales, biases)
  // pairs), and the meta strings (none: mlx-lm's "").
  virtual std::string class_name() const = 0;
  virtual std::vector<std::pair<std::string, array>> saved_state() const = 0;
  virtual std::vector<std::string> meta_state() const { return {}; }
};

class QuantizedKVCache;

class StandardKVCache : public KVCache {
 public:
  explicit StandardKVCache(int step = 256) : step_(step) {}
  // A cache holding keys/values (B, H, T, D): offset T (mlx-lm's from_state).
  StandardKVCache(const array& keys, const array& values);
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  int offset() const override { return offset_; }
  AttentionMask make_mask(int n, std::optional<int> window) const override;
  bool is_trimmable() const override { return true; }
  int trim(int n) override;
  std::vector<array> state() const override;
  size_t nbytes() const override;
  std::string class_name() const override { return "KVCache"; }
  std::vector<std::pair<std::string, array>> saved_state() const override;
  // The same tokens quantized (mlx-lm's KVCache.to_quantized): the whole
  // buffer is quantized once, the offset kept.
  std::unique_ptr<QuantizedKVCache> to_quantized(int group_size, int bits) const;

 private:
  int step_;
  int offset_ = 0;
  std::optional<array> keys_, values_;
};

// Keys and values as (packed uint32, scales, biases) triples of quantize()
// (ops/quantized.h), grown in steps of 256 tokens, as mlx-lm's
// QuantizedKVCache. Attention reads them with quantized_matmul
// (attention.h); update_and_fetch, for any other reader, dequantizes.
class QuantizedKVCache : public KVCache {
 public:
  using Triple = std::vector<array>;  // {packed, scales, biases}
  // Throws std::invalid_argument for a group size not 32/64/128 or bits not
  // 2, 3, 4, 5, 6 or 8.
  QuantizedKVCache(int group_size = 64, int bits = 8, int step = 256);
  // A cache holding these triples, offset tokens of them (mlx-lm's
  // from_state); throws std::invalid_argument "[QuantizedKVCache] ..." when
  // the shapes or dtypes do not fit together.
  QuantizedKVCache(Triple keys, Triple values, int offset, int group_size, int bits);

  // Appends keys/values (B, H, T, D), quantized, and returns the triples of
  // everything held.
  std::pair<Triple, Triple> update_and_fetch_quantized(const array& keys, const array& values);
  // The same, dequantized (a reader that is not quantized attention).
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  int offset() const override { return offset_; }
  AttentionMask make_mask(int n, std::optional<int> window) const override;
  bool is_trimmable() const override { return true; }
  int trim(int n) override;
  std::vector<array> state() const override;
  size_t nbytes() const override;
  std::string class_name() const override { return "QuantizedKVCache"; }
  std::vector<std::pair<std::string, array>> saved_state() const override;
  std::vector<std::string> meta_state() const override;
  int group_size() const { return group_size_; }
  int bits() const { return bits_; }
  // The held (packed, scales, biases) of keys and values, trimmed to offset.
  std::pair<Triple, Triple> held() const;

 private:
  int group_size_, bits_, step_;
  int offset_ = 0;
  std::optional<Triple> keys_, values_;
};

// Holds at most max_size tokens; the first `keep` tokens (attention sinks)
// are never evicted.
class RotatingKVCache : public KVCache {
 public:
  RotatingKVCache(int max_size, int keep = 0, int step = 256) : max_size_(max_size), keep_(keep), step_(step) {}
  // A cache restored from mlx-lm's state and meta_state (keep, max_size,
  // offset, idx); throws std::invalid_argument "[RotatingKVCache] ..." when
  // they contradict each other or the arrays.
  RotatingKVCache(const array& keys, const array& values, int keep, int max_size, int offset, int idx);
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  int offset() const override { return offset_; }
  AttentionMask make_mask(int n, std::optional<int> window) const override;
  bool is_trimmable() const override { return offset_ < max_size_; }
  int trim(int n) override;
  std::vector<array> state() const override;
  size_t nbytes() const override;
  int max_size() const { return max_size_; }
  int keep() const { return keep_; }
  std::string class_name() const override { return "RotatingKVCache"; }
  std::vector<std::pair<std::string, array>> saved_state() const override;
  std::vector<std::string> meta_state() const override;

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

// --kv-bits, --kv-group-size, --quantized-kv-start (mlx-lm's defaults).
struct KVQuantization {
  int bits = 8;
  int group_size = 64;
  int start = 5000;
};

// Throws std::invalid_argument naming the flag when bits are not 2, 3, 4, 5,
// 6 or 8, the group size not 32, 64 or 128, or start negative.
void check_kv_quantization(const KVQuantization& q);

// mlx-lm's maybe_quantize_kv_cache: every standard cache whose offset has
// reached q.start (offset >= start) is replaced by its quantized copy.
// Rotating caches stay as they are (mlx-lm cannot quantize them either:
// RotatingKVCache.to_quantized raises "RotatingKVCache Quantization NYI"),
// quantized ones too. Returns how many caches were converted.
int maybe_quantize_kv_cache(CacheList& caches, const KVQuantization& q);

}  // namespace uma::lm
