// Qwen2 / Qwen2.5: the decoder with biases on q, k and v.
#include "uma/lm/models/config_reader.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_qwen2(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  ConfigReader r(c);
  o.norm_eps = float(r.number("rms_norm_eps", 1e-30, 1.0, 1e-6));
  o.qkv_bias = true;
  // Sliding window only where use_sliding_window and beyond max_window_layers.
  auto window = sliding_window_from_config(c);
  if (r.boolean("use_sliding_window", false) && window) {
    int from = int(r.integer("max_window_layers", 0, ConfigLimits::kMaxPositions, o.num_layers));
    for (int i = from; i < o.num_layers; ++i) o.layer_window[i] = *window;
  }
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
