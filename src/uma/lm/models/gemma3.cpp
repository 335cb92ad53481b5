// Gemma 3 (text): Gemma 2's layout plus q/k norms, five local
// (sliding-window, local rope base) layers per global one, no soft-capping.
#include "uma/lm/models/config_reader.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_gemma3(const json& config) {
  // Multimodal checkpoints nest the text model's config.
  bool nested = config.contains("text_config");
  const json& c = nested ? config["text_config"] : config;
  std::string where = nested ? "text_config." : "";
  DecoderOptions o = decoder_options_from_config(c, where);
  apply_gemma_common(o, c, where);
  ConfigReader r(c, where);
  o.qk_norm = true;
  int window = sliding_window_from_config(c, where).value_or(4096);
  auto sliding =
      gemma_sliding_layers(c, o.num_layers, int(r.integer("sliding_window_pattern", 1, 1024, 6)));
  // Local layers: plain rope at rope_local_base_freq; global: rope_theta with
  // its scaling.
  RopeSpec local = rope_spec_from_config(c, o.head_dim, "sliding_attention", where);
  RopeSpec global = rope_spec_from_config(c, o.head_dim, "full_attention", where);
  if (!c.contains("rope_parameters")) {
    local = RopeSpec{};
    local.dims = o.head_dim;
    local.theta = float(r.positive("rope_local_base_freq", 10000.0));
  }
  for (int i = 0; i < o.num_layers; ++i) {
    if (sliding[i]) o.layer_window[i] = window;
    o.layer_rope[i] = sliding[i] ? local : global;
  }
  return std::make_shared<DecoderModel>(o, config);
}

}  // namespace uma::lm
