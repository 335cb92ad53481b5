// A causal language model: token ids in, logits out, with a KV cache per
// layer. Architectures live in models/<arch>.cpp and are created by the
// `model_type` of config.json.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "uma/lm/kv_cache.h"
#include "uma/nn/module.h"

namespace uma::lm {

using json = nlohmann::json;

class Model : public nn::Module {
 public:
  // inputs: (B, T) int32 token ids. Returns logits (B, T, vocab).
  // cache: one entry per layer (make_cache()), or null for no cache.
  virtual array operator()(const array& inputs, CacheList* cache) = 0;
  // The logits of the last position only, (B, vocab): what generation needs.
  // Decoders apply the head to the last hidden state alone, so a prompt of
  // T tokens costs one row of the (vocab x hidden) head, not T.
  virtual array last_logits(const array& inputs, CacheList* cache);
  // Per-layer caches; max_kv_size bounds them (rotating, keeping 4 sink
  // tokens as mlx-lm does).
  virtual CacheList make_cache(std::optional<int> max_kv_size = std::nullopt) const;
  // Renames/drops checkpoint tensors to this module's names (rotary buffers,
  // tied heads, ...).
  virtual std::map<std::string, array> sanitize(std::map<std::string, array> weights) const { return weights; }
  virtual int num_layers() const = 0;
  virtual int vocab_size() const = 0;
  virtual int max_context() const { return 0; }  // 0: unknown
  // The shape of each layer's cached keys/values: (1, kv_heads, T,
  // kv_head_dim); 0 when unknown.
  virtual int kv_heads() const { return 0; }
  virtual int kv_head_dim() const { return 0; }

  const json& config() const { return config_; }
  const std::string& model_type() const { return model_type_; }

 protected:
  json config_;
  std::string model_type_;
};

// x[:, -1, :] of a (B, T, D) array, as (B, D).
array last_position(const array& x);
// What last_logits returns of x (B, T, D) computed with `cache`: the last
// position of each row, or of each row that wants logits in a packed batch
// (kv_cache_batch.h), as (rows, D).
array last_positions(const array& x, const CacheList* cache);

using ModelFactory = std::function<std::shared_ptr<Model>(const json& config)>;

// The model for config["model_type"]; throws naming the type when unknown.
std::shared_ptr<Model> create_model(const json& config);
std::vector<std::string> supported_model_types();

}  // namespace uma::lm
