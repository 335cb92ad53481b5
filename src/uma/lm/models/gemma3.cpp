// Gemma 3 (text): Gemma 2's layout plus q/k norms, five local
// (sliding-window, local rope base) layers per global one, no soft-capping.
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_gemma3(const json& config) {
  // Multimodal checkpoints nest the text model's config.
  const json& c = config.contains("text_config") ? config["text_config"] : config;
  DecoderOptions o = decoder_options_from_config(c);
  apply_gemma_common(o, c);
  o.qk_norm = true;
  int window = c.value("sliding_window", 4096);
  auto sliding = gemma_sliding_layers(c, o.num_layers, c.value("sliding_window_pattern", 6));
  // Local layers: plain rope at rope_local_base_freq; global: rope_theta with
  // its scaling.
  RopeSpec local = rope_spec_from_config(c, o.head_dim, "sliding_attention");
  RopeSpec global = rope_spec_from_config(c, o.head_dim, "full_attention");
  if (!c.contains("rope_parameters")) {
    local = RopeSpec{};
    local.dims = o.head_dim;
    local.theta = c.value("rope_local_base_freq", 10000.0f);
  }
  for (int i = 0; i < o.num_layers; ++i) {
    if (sliding[i]) o.layer_window[i] = window;
    o.layer_rope[i] = sliding[i] ? local : global;
  }
  return std::make_shared<DecoderModel>(o, config);
}

}  // namespace uma::lm
