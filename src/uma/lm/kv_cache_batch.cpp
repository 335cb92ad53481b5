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

CacheList batch_caches(const std::vector<CacheList*>& rows) {
  CacheList out;
  if (rows.empty()) return out;
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
    out.push_back(std::make_unique<BatchKVCache>(std::move(layer)));
  }
  return out;
}

}  // namespace uma::lm
