// Qwen2 / Qwen2.5: the decoder with biases on q, k and v.
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_qwen2(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  o.norm_eps = c.value("rms_norm_eps", 1e-6f);
  o.qkv_bias = true;
  // Sliding window only where use_sliding_window and beyond max_window_layers.
  if (c.value("use_sliding_window", false) && c.contains("sliding_window") && c["sliding_window"].is_number()) {
    int from = c.value("max_window_layers", o.num_layers);
    for (int i = from; i < o.num_layers; ++i) o.layer_window[i] = c["sliding_window"].get<int>();
  }
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
