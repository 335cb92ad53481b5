// Qwen3 (dense): RMSNorm over each query and key head before rope.
#include "uma/lm/models/config_reader.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/models/registry.h"

namespace uma::lm {

std::shared_ptr<Model> make_qwen3(const json& c) {
  DecoderOptions o = decoder_options_from_config(c);
  ConfigReader r(c);
  o.norm_eps = float(r.number("rms_norm_eps", 1e-30, 1.0, 1e-6));
  o.qkv_bias = r.boolean("attention_bias", false);
  o.o_bias = o.qkv_bias;
  o.qk_norm = true;
  return std::make_shared<DecoderModel>(o, c);
}

}  // namespace uma::lm
