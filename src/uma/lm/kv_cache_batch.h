// The caches of a batch of sequences for one layer: each row keeps its own
// cache (standard, rotating or quantized, of its own length), so a sequence
// joins or leaves a batch without copying anyone's keys. A decoder layer
// runs its projections and MLP over the whole (B, T) batch and its attention
// row by row (DecoderAttention): each row's RoPE positions, mask and cache
// kind are its own, and no position is padding. Built anew for every batched
// step (lm/batch_generate.h); the rows' caches must outlive it.
#pragma once

#include <vector>

#include "uma/lm/kv_cache.h"

namespace uma::lm {

class BatchKVCache : public KVCache {
 public:
  explicit BatchKVCache(std::vector<KVCache*> rows) : rows_(std::move(rows)) {}
  int size() const { return int(rows_.size()); }
  KVCache* row(int b) const { return rows_[size_t(b)]; }

  // Attention reads each row's cache itself; a reader that asks the batch for
  // keys is a model that does not know batches, and is told so.
  std::pair<array, array> update_and_fetch(const array& keys, const array& values) override;
  // The longest row's offset.
  int offset() const override;
  // None: each row makes its own mask.
  AttentionMask make_mask(int, std::optional<int>) const override { return AttentionMask::none(); }
  std::vector<array> state() const override;
  size_t nbytes() const override;
  std::string class_name() const override { return "BatchKVCache"; }
  std::vector<std::pair<std::string, array>> saved_state() const override { return {}; }

 private:
  std::vector<KVCache*> rows_;
};

// One BatchKVCache per layer over the rows' cache lists (each with as many
// layers as the first); throws std::invalid_argument "[BatchKVCache] ..."
// naming the row whose layer count differs.
CacheList batch_caches(const std::vector<CacheList*>& rows);

}  // namespace uma::lm
