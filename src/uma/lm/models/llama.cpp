// Llama 2/3.x (llama3 rope scaling) and Mistral: the plain decoder.
#include "uma/lm/models/config_reader.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_llama(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  ConfigReader r(c);
  o.qkv_bias = r.boolean("attention_bias", false);
  o.o_bias = o.qkv_bias;
  o.mlp_bias = r.boolean("mlp_bias", false);
  // Mistral v0.1 attends within a sliding window.
  if (auto w = sliding_window_from_config(c)) o.layer_window.assign(o.num_layers, *w);
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
