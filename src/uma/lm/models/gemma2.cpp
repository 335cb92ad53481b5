// Gemma 2: (1 + w) norms around attention and MLP, scaled embeddings,
// attention and final logit soft-capping, sliding window on even layers.
#include <cmath>

#include "uma/lm/models/config_reader.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

void apply_gemma_common(DecoderOptions& o, const json& c, const std::string& where) {
  ConfigReader r(c, where);
  o.norm_offset = 1.0f;
  o.norm_eps = float(r.number("rms_norm_eps", 1e-30, 1.0, 1e-6));
  o.sandwich_norms = true;
  o.scale_embeddings = true;
  o.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  o.hidden_act = r.string("hidden_activation", r.string("hidden_act", "gelu_pytorch_tanh"));
  if (o.hidden_act == "gelu")
    o.hidden_act = "gelu_pytorch_tanh";  // transformers overrides exact gelu for Gemma
  double qpas = r.positive("query_pre_attn_scalar", double(o.head_dim));
  o.attn_scale = float(1.0 / std::sqrt(qpas));
  if (auto cap = r.opt_positive("final_logit_softcapping")) o.final_logit_softcap = float(*cap);
}

// Layer i's attention type from layer_types, else the architecture's pattern.
std::vector<bool> gemma_sliding_layers(const json& c, int n, int pattern) {
  std::vector<bool> sliding(n);
  if (c.contains("layer_types") && c["layer_types"].is_array() &&
      int(c["layer_types"].size()) == n) {
    for (int i = 0; i < n; ++i) {
      const json& t = c["layer_types"][i];
      if (!t.is_string()) {
        throw std::invalid_argument("[load] config.json: layer_types[" + std::to_string(i) +
                                    "] must be a string, got " + t.dump().substr(0, 40));
      }
      sliding[i] = t.get<std::string>() == "sliding_attention";
    }
  } else {
    for (int i = 0; i < n; ++i) sliding[i] = (i + 1) % pattern != 0;
  }
  return sliding;
}

std::shared_ptr<Model> make_gemma2(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  apply_gemma_common(o, c);
  o.post_attention_norm_last = true;
  if (auto cap = ConfigReader(c).opt_positive("attn_logit_softcapping"))
    o.attn_logit_softcap = float(*cap);
  int window = sliding_window_from_config(c).value_or(4096);
  auto sliding = gemma_sliding_layers(c, o.num_layers, 2);
  for (int i = 0; i < o.num_layers; ++i) {
    if (sliding[i]) o.layer_window[i] = window;
  }
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
