// Phi-3 / Phi-3.5 / Phi-4-mini: fused qkv_proj and gate_up_proj, longrope
// scaling, partial rotary dims.
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_phi3(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  o.fused_qkv = true;
  o.fused_gate_up = true;
  if (auto w = sliding_window_from_config(c)) o.layer_window.assign(o.num_layers, *w);
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
