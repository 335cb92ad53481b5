// config.json -> model construction: the public create_model entry with
// untrusted JSON, and the MLX quantization settings (`quantization`, with
// per-layer entries) applied to the model as a quantized checkpoint's load
// does. std::invalid_argument is the expected rejection; anything else
// (another exception, a sanitizer report, a hang) is a finding. Small models
// also run one forward step, which checks that the shapes the config implies
// agree with each other.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "fuzz_util.h"
#include "uma/lm/model.h"
#include "uma/lm/quantized_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto config = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return 0;
  try {
    auto quant = uma::lm::quantization_config(config);
    auto model = uma::lm::create_model(config);
    if (model->num_parameters() > 1'000'000 || model->num_layers() > 8) return 0;
    // No checkpoint tensors: only the layers the per-layer entries name are
    // quantized (with the settings the fuzzer chose).
    if (quant) uma::lm::quantize_for_checkpoint(*model, *quant, {});
    auto cache = model->make_cache();
    uma::array logits = model->last_logits(uma::array({0, 0}, {1, 2}), &cache);
    logits.eval();
    uma::fuzz::require(logits.ndim() == 2 && logits.shape(1) == model->vocab_size());
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
