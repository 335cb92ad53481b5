// Helpers of the quantized-KV and prompt-cache-file suites: a decoder with
// random weights at a head_dim the KV group sizes divide, and feeding tokens.
#pragma once

#include <cmath>
#include <vector>

#include "uma/lm/load.h"
#include "uma/uma.h"

namespace uma::test {

// A Llama with head_dim 64 (the tiny fixtures have 16 or 32), 2 layers,
// random weights scaled 1/sqrt(fan_in) so the logits are far from uniform.
inline std::shared_ptr<lm::Model> random_llama(uint64_t seed = 7) {
  lm::json c = {{"model_type", "llama"}, {"hidden_size", 128}, {"intermediate_size", 256},
                {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                {"head_dim", 64}, {"vocab_size", 200}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
                {"max_position_embeddings", 4096}, {"tie_word_embeddings", false}};
  auto m = lm::create_model(c);
  std::map<std::string, array> w;
  array key = random::key(seed);
  for (auto& [name, p] : m->parameters()) {
    auto ks = random::split(key);
    key = ks.first;
    if (name.find("norm") != std::string::npos) {
      w.emplace(name, ones(p.shape(), float32));
    } else {
      float sd = name.find("embed") != std::string::npos ? 1.0f : 1.0f / std::sqrt(float(p.shape(-1)));
      w.emplace(name, random::normal(p.shape(), float32, 0.0f, sd, ks.second));
    }
  }
  m->load_weights(w);
  return m;
}

inline std::vector<int> token_ids(int n, int vocab, int seed) {
  std::vector<int> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = (37 * i + 11 * seed + 5) % vocab;
  return ids;
}

// The last position's logits of `tokens` fed through `caches`.
inline array feed(lm::Model& m, lm::CacheList& caches, const std::vector<int>& tokens) {
  array logits = m.last_logits(array(tokens, {1, int(tokens.size())}), &caches);
  eval(logits);
  return logits;
}

}  // namespace uma::test
