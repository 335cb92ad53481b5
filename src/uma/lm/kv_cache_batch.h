// The caches of a batch of sequences for one layer: each row keeps its own
// cache (standard, rotating or quantized, of its own length), so a sequence
// joins or leaves a batch without copying anyone's keys. A decoder layer
// runs its projections and MLP over the whole batch and its attention row by
// row (DecoderAttention): each row's RoPE positions, mask and cache kind are
// its own, and no position is padding. Built anew for every batched step
// (lm/batch_generate.h); the rows' caches must outlive it.
//
// Two layouts of the step's input:
//   (B, T)             row b is inputs[b]: every row feeds T tokens
//   packed (1, N)      row b is the next lengths[b] positions, N their sum:
//                      rows of different lengths (decode steps of one token
//                      beside chunks of prompts) in one forward pass, and
//                      Model::last_logits returns (R, vocab), the last
//                      position of each row in `logit_rows`
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "uma/core/array.h"
#include "uma/lm/kv_cache.h"

namespace uma::lm {

struct PackedRows {
  std::vector<int> lengths;     // tokens of each row, in input order
  std::vector<int> logit_rows;  // rows whose last position last_logits returns
};

class BatchKVCache : public KVCache {
 public:
  explicit BatchKVCache(std::vector<KVCache*> rows, std::shared_ptr<const PackedRows> packed = nullptr)
      : rows_(std::move(rows)), packed_(std::move(packed)) {}
  int size() const { return int(rows_.size()); }
  KVCache* row(int b) const { return rows_[size_t(b)]; }
  // Null for the (B, T) layout.
  const PackedRows* packed() const { return packed_.get(); }

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
  std::shared_ptr<const PackedRows> packed_;
};

// One BatchKVCache per layer over the rows' cache lists (each with as many
// layers as the first), packed when `packed` is given (one length per row);
// throws std::invalid_argument "[BatchKVCache] ..." naming the row whose
// layer count differs, or a packed layout that does not fit the rows.
CacheList batch_caches(const std::vector<CacheList*>& rows, std::optional<PackedRows> packed = std::nullopt);

// For a packed batch: the positions (int32) of the last token of each row in
// logit_rows, for taking them out of the (1, N, ...) output; none otherwise.
std::optional<array> packed_last_positions(const CacheList* cache);

}  // namespace uma::lm
