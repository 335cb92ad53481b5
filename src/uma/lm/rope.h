// Rotary position embeddings as Hugging Face configures them: default,
// linear, dynamic (as linear), llama3, yarn and longrope scaling, partial
// rotary dims. Frequencies follow transformers' rope initialisation; the
// type freq_factors (llama.cpp's rope_freqs tensor, read from GGUF files)
// divides each frequency by its own factor.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <vector>

#include "uma/core/array.h"

namespace uma::lm {

struct RopeSpec {
  std::string type = "default";  // default|linear|llama3|yarn|longrope|freq_factors
  float theta = 10000.0f;
  int dims = 0;                  // rotated features (head_dim * partial_rotary_factor)
  bool traditional = false;      // interleaved pairs (GPT-J) instead of halves
  nlohmann::json params;         // the scaling dict (factor, ...)
  int max_position_embeddings = 0;
  std::optional<int> original_max_position_embeddings;  // top-level key (Phi-3)
};

// Reads rope_theta / rope_scaling (transformers 4 keys) or rope_parameters
// (transformers 5 keys; `layer_type` picks a per-layer-type entry, as Gemma 3
// stores them). head_dim: the attention head size. Every field read is
// type- and range-checked (finite positive theta and factors, ...): errors
// name config.json and the key, prefixed by `where` for nested configs.
RopeSpec rope_spec_from_config(const nlohmann::json& config, int head_dim,
                               const std::string& layer_type = "", const std::string& where = "");

class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(const RopeSpec& spec);
  // x: (B, H, T, D); positions offset .. offset + T - 1.
  array operator()(const array& x, int offset) const;
  int dims() const { return dims_; }

 private:
  int dims_;
  bool traditional_;
  float base_ = 10000.0f;
  float scale_ = 1.0f;
  float mscale_ = 1.0f;                 // yarn/longrope attention factor on cos and sin
  std::optional<array> freqs_;          // periods (1 / inv_freq), when not plain base^(2i/d)
  std::optional<array> long_freqs_;     // longrope beyond the original context
  int original_max_ = 0;
};

}  // namespace uma::lm
