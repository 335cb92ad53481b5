#include "uma/lm/kv_cache_batch.h"

#include <algorithm>
#include <stdexcept>

namespace uma::lm {

std::pair<array, array> BatchKVCache::update_and_fetch(const array&, const array&) {
  throw std::invalid_argument(
      "[BatchKVCache] this model's attention does not read batched caches row by row; generate its "
      "sequences one at a time");
}

int BatchKVCache::offset() const {
  int most = 0;
  for (auto* r : rows_) most = std::max(most, r->offset());
  return most;
}

std::vector<array> BatchKVCache::state() const {
  std::vector<array> out;
  for (auto* r : rows_) {
    for (auto& a : r->state()) out.push_back(a);
  }
  return out;
}

size_t BatchKVCache::nbytes() const {
  size_t n = 0;
  for (auto* r : rows_) n += r->nbytes();
  return n;
}

CacheList batch_caches(const std::vector<CacheList*>& rows, std::optional<PackedRows> packed) {
  CacheList out;
  if (rows.empty()) return out;
  std::shared_ptr<const PackedRows> layout;
  if (packed) {
    if (packed->lengths.size() != rows.size()) {
      throw std::invalid_argument("[BatchKVCache] " + std::to_string(packed->lengths.size()) + " packed lengths for " +
                                  std::to_string(rows.size()) + " rows");
    }
    for (int n : packed->lengths) {
      if (n < 1) throw std::invalid_argument("[BatchKVCache] a packed row of " + std::to_string(n) + " tokens");
    }
    for (int r : packed->logit_rows) {
      if (r < 0 || r >= int(rows.size())) {
        throw std::invalid_argument("[BatchKVCache] logit row " + std::to_string(r) + " of " +
                                    std::to_string(rows.size()));
      }
    }
    layout = std::make_shared<const PackedRows>(std::move(*packed));
  }
  size_t layers = rows[0]->size();
  for (size_t b = 0; b < rows.size(); ++b) {
    if (rows[b]->size() != layers) {
      throw std::invalid_argument("[BatchKVCache] row " + std::to_string(b) + " has " +
                                  std::to_string(rows[b]->size()) + " layer caches, row 0 has " +
                                  std::to_string(layers));
    }
  }
  for (size_t l = 0; l < layers; ++l) {
    std::vector<KVCache*> layer;
    for (auto* r : rows) layer.push_back((*r)[l].get());
    out.push_back(std::make_unique<BatchKVCache>(std::move(layer), layout));
  }
  return out;
}

std::optional<array> packed_last_positions(const CacheList* cache) {
  if (!cache || cache->empty()) return std::nullopt;
  auto* batch = dynamic_cast<const BatchKVCache*>((*cache)[0].get());
  if (!batch || !batch->packed()) return std::nullopt;
  const PackedRows& p = *batch->packed();
  std::vector<int> ends(p.lengths.size());
  int at = 0;
  for (size_t b = 0; b < p.lengths.size(); ++b) ends[b] = (at += p.lengths[b]) - 1;
  std::vector<int> pos;
  for (int r : p.logit_rows) pos.push_back(ends[size_t(r)]);
  return array(pos.data(), {int(pos.size())});
}

}  // namespace uma::lm
