// Gemma 2: (1 + w) norms around attention and MLP, scaled embeddings,
// attention and final logit soft-capping, sliding window on even layers.
#include <cmath>

#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

void apply_gemma_common(DecoderOptions& o, const json& c) {
  o.norm_offset = 1.0f;
  o.norm_eps = c.value("rms_norm_eps", 1e-6f);
  o.sandwich_norms = true;
  o.scale_embeddings = true;
  o.tie_word_embeddings = c.value("tie_word_embeddings", true);
  o.hidden_act = c.value("hidden_activation", c.value("hidden_act", std::string("gelu_pytorch_tanh")));
  if (o.hidden_act == "gelu") o.hidden_act = "gelu_pytorch_tanh";  // transformers overrides exact gelu for Gemma
  float qpas = c.contains("query_pre_attn_scalar") && c["query_pre_attn_scalar"].is_number()
                   ? c["query_pre_attn_scalar"].get<float>()
                   : float(o.head_dim);
  o.attn_scale = 1.0f / std::sqrt(qpas);
  if (c.contains("final_logit_softcapping") && c["final_logit_softcapping"].is_number()) {
    o.final_logit_softcap = c["final_logit_softcapping"].get<float>();
  }
}

// Layer i's attention type from layer_types, else the architecture's pattern.
std::vector<bool> gemma_sliding_layers(const json& c, int n, int pattern) {
  std::vector<bool> sliding(n);
  if (c.contains("layer_types") && c["layer_types"].is_array() && int(c["layer_types"].size()) == n) {
    for (int i = 0; i < n; ++i) sliding[i] = c["layer_types"][i].get<std::string>() == "sliding_attention";
  } else {
    for (int i = 0; i < n; ++i) sliding[i] = (i + 1) % pattern != 0;
  }
  return sliding;
}

std::shared_ptr<Model> make_gemma2(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  apply_gemma_common(o, c);
  if (c.contains("attn_logit_softcapping") && c["attn_logit_softcapping"].is_number()) {
    o.attn_logit_softcap = c["attn_logit_softcapping"].get<float>();
  }
  int window = c.value("sliding_window", 4096);
  auto sliding = gemma_sliding_layers(c, o.num_layers, 2);
  for (int i = 0; i < o.num_layers; ++i) {
    if (sliding[i]) o.layer_window[i] = window;
  }
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
