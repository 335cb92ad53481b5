// MLX-quantized model folders, read as mlx-lm's load_model reads them:
// config.json's `quantization` (or, written the same way, its
// `quantization_config`) holds the default {group_size, bits, mode} and, keyed
// by module path, per-layer settings ({group_size, bits[, mode]}) or `false`
// (left in floating point). Before the weights are loaded, every layer is
// replaced by its quantized version where its path has an entry (true or
// settings), or, without an entry, where it is a Linear or Embedding and the
// checkpoint holds `<path>.scales`; the checkpoint then supplies `weight`
// (packed uint32 codes), `scales` and (affine mode) `biases` under the strict
// name match. Modes: affine, mxfp4, nvfp4, mxfp8.
//
//   auto q = lm::quantization_config(config);   // nullopt: not quantized
//   if (q) lm::quantize_for_checkpoint(*model, *q, weights);
#pragma once

#include <map>
#include <optional>
#include <string>

#include "uma/lm/model.h"
#include "uma/nn/quantized.h"

namespace uma::lm {

struct QuantizationConfig {
  std::string key;                 // "quantization" or "quantization_config", for messages
  nn::QuantizeSpec defaults;
  std::map<std::string, nn::QuantizePredicateResult> layers;  // per-layer entries by module path
};

// The folder's quantization, or nullopt when config.json declares none.
// Throws std::invalid_argument ("[load] config.json: quantization.bits must
// be one of 2, 3, 4, 5, 6, 8, got 7") for settings uma cannot load: group
// sizes other than 32, 64, 128; bits other than 2, 3, 4, 5, 6, 8; an unknown
// mode (named in the message) or an fp mode with other settings than its
// own (mxfp4 32/4, nvfp4 16/4, mxfp8 32/8); a quantization_config of another
// tool (GPTQ, AWQ, ...: one with a quant_method and no `quantization`).
// Settings lacking group_size or bits (or null) take the mode's defaults
// (affine: 64 and 4), as MLX's to_quantized does.
std::optional<QuantizationConfig> quantization_config(const json& config);

// Quantizes, in place, the layers of `model` that the checkpoint (its
// sanitized tensor names) and `q` say are quantized.
void quantize_for_checkpoint(Model& model, const QuantizationConfig& q, const std::map<std::string, array>& weights);

// Gives the GGUF block layers of `model` (mode gguf, which have no scales to
// take a float dtype from) the model's float dtype: without it a float16
// model would compute in float32 from its embedding on, and cast every
// affine layer's scales at every step.
void set_block_layers_dtype(Model& model, Dtype dtype);

// The model's parameter count with each quantized weight counted as the
// float matrix it packs (codes * 32 / bits) and scales and biases left out, as
// mlx-lm counts; equal to num_parameters() for a float model.
size_t logical_parameters(nn::Module& model);

}  // namespace uma::lm
