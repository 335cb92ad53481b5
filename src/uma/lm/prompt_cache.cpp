#include "uma/lm/prompt_cache.h"

#include <algorithm>

namespace uma::lm {

PromptCache::PromptCache(const Model& model, std::optional<int> max_kv_size)
    : model_(&model), max_kv_size_(max_kv_size) {
  reset();
}

void PromptCache::reset() {
  caches_ = model_->make_cache(max_kv_size_);
  tokens_.clear();
}

void PromptCache::assign(CacheList caches, std::vector<int> tokens) {
  caches_ = std::move(caches);
  tokens_ = std::move(tokens);
}

int PromptCache::offset() const { return caches_.empty() ? 0 : caches_[0]->offset(); }

void PromptCache::keep_prefix(size_t keep) {
  // The caches hold tokens_ (or, after an interrupted prefill, a prefix of
  // them): keep at most what they hold.
  tokens_.resize(std::min({keep, tokens_.size(), size_t(offset())}));
  int drop = offset() - int(tokens_.size());
  if (drop == 0) return;
  bool trimmable = std::all_of(caches_.begin(), caches_.end(), [](auto& c) { return c->is_trimmable(); });
  if (!trimmable) return reset();
  for (auto& c : caches_) {
    if (c->trim(drop) != drop) return reset();
  }
}

std::vector<int> PromptCache::fetch(const std::vector<int>& prompt) {
  size_t common = 0;
  size_t held = std::min(tokens_.size(), size_t(offset()));
  while (common < held && common < prompt.size() && tokens_[common] == prompt[common]) ++common;
  if (common == prompt.size() && common > 0) --common;  // the last prompt token must be fed
  keep_prefix(common);
  std::vector<int> fresh(prompt.begin() + long(tokens_.size()), prompt.end());
  tokens_ = prompt;
  return fresh;
}

void PromptCache::record(const std::vector<int>& generated) {
  tokens_.insert(tokens_.end(), generated.begin(), generated.end());
  keep_prefix(tokens_.size());
}

}  // namespace uma::lm
