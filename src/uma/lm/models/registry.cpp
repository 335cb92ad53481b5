#include "uma/lm/models/registry.h"

#include <map>

#include "uma/core/ops.h"
#include "uma/lm/kv_cache_batch.h"

namespace uma::lm {

namespace {
const std::map<std::string, ModelFactory>& factories() {
  static const std::map<std::string, ModelFactory> f = {
      {"llama", make_llama},   {"mistral", make_llama}, {"qwen2", make_qwen2},       {"qwen3", make_qwen3},
      {"phi3", make_phi3},     {"gemma2", make_gemma2}, {"gemma3_text", make_gemma3}, {"gemma3", make_gemma3},
  };
  return f;
}
}  // namespace

std::shared_ptr<Model> create_model(const json& config) {
  if (!config.is_object() || !config.contains("model_type") || !config["model_type"].is_string()) {
    throw std::invalid_argument("[load] config.json has no model_type");
  }
  std::string type = config["model_type"];
  auto it = factories().find(type);
  if (it == factories().end()) {
    std::string known;
    for (auto& [k, _] : factories()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument("[load] unsupported model_type '" + type + "' (supported: " + known + ")");
  }
  return it->second(config);
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (auto& [k, _] : factories()) out.push_back(k);
  return out;
}

array last_position(const array& x) {
  Shape start(3, 0);
  start[1] = x.shape(1) - 1;
  return squeeze(slice(x, start, x.shape()), 1);
}

array last_positions(const array& x, const CacheList* cache) {
  if (auto pos = packed_last_positions(cache)) return squeeze(take(x, *pos, 1), 0);
  return last_position(x);
}

array Model::last_logits(const array& inputs, CacheList* cache) {
  return last_positions((*this)(inputs, cache), cache);
}

CacheList Model::make_cache(std::optional<int> max_kv_size) const {
  CacheList caches;
  for (int i = 0; i < num_layers(); ++i) {
    if (max_kv_size) {
      caches.push_back(std::make_unique<RotatingKVCache>(*max_kv_size, 4));
    } else {
      caches.push_back(std::make_unique<StandardKVCache>());
    }
  }
  return caches;
}

}  // namespace uma::lm
