// Converting a Hugging Face model folder to an MLX one, as mlx-lm's
// `mlx_lm.convert` does: optionally cast the floating point weights,
// quantize (uniformly or by a mixed-bits recipe) or dequantize, then write
// the weights in shards of at most 5 GiB with model.safetensors.index.json,
// config.json (keys sorted, `quantization` and `quantization_config`), the
// source's tokenizer files, generation_config.json and a model card.
//
//   lm::ConvertOptions o;
//   o.hf_path = "Llama-3.2-1B-Instruct";
//   o.mlx_path = "Llama-3.2-1B-Instruct-4bit";
//   o.quantize = true;                       // affine, 4 bits, groups of 64
//   lm::convert(o);
//
// Everything is written into a temporary folder beside mlx_path that is
// renamed into place only when complete: an interrupted conversion leaves no
// folder that looks like a model.
//
// With gguf_path set, the folder becomes one GGUF file that llama.cpp loads
// instead (lm/convert_gguf.cpp): llama.cpp's tensor names and metadata for
// llama (and mistral), qwen2, qwen3, phi3, gemma2 and gemma3, the weights in
// gguf_type (1-D tensors and norms stay F32; a quantized type takes the 2-D
// weights whose rows are whole blocks, F16 the others), the tokenizer as
// tokenizer.ggml.* (text/tokenizer/gguf_vocab.h) when the folder has
// tokenizer.json (Gemma 3: the embedding trimmed to the tokenizer's rows, as
// llama.cpp does). An MLX-quantized folder is dequantized first.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uma/lm/model.h"
#include "uma/nn/quantized.h"

namespace uma::lm {

struct ConvertProgress {
  size_t tensors_done = 0, tensors_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;  // bytes of the tensors written
};

struct ConvertOptions {
  std::string hf_path;                 // a local model folder
  std::string mlx_path = "mlx_model";  // must not exist yet
  bool quantize = false;
  std::optional<int> q_group_size, q_bits;  // default: the mode's (affine: 64, 4)
  std::string q_mode = "affine";            // affine, mxfp4, nvfp4, mxfp8
  std::string quant_predicate;              // "" or a mixed recipe (quant_recipes())
  // float16, bfloat16 or float32; "" takes config.json's torch_dtype (or
  // text_config.dtype) when it is one of those, else keeps the stored dtypes.
  std::string dtype;
  bool dequantize = false;
  std::string gguf_path;           // write GGUF here instead of an MLX folder (must not exist)
  std::string gguf_type = "f16";   // f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1
  // mlx-lm's MAX_FILE_SIZE_GB << 30; smaller values are for tests.
  uint64_t max_shard_bytes = uint64_t(5) << 30;
  std::function<void(const std::string&)> log;  // mlx-lm's "[INFO] ..." lines
  std::function<void(const ConvertProgress&)> progress;
};

struct ConvertResult {
  std::vector<std::string> shards;  // file names, in order
  uint64_t total_size = 0;          // bytes of all tensors
  uint64_t total_parameters = 0;    // quantized weights counted unpacked
};

// Converts o.hf_path into o.mlx_path. Throws std::invalid_argument naming
// the flag, file or tensor at fault ("[convert] Cannot save to the path X as
// it already exists. ..."); nothing is left at mlx_path on failure.
ConvertResult convert(const ConvertOptions& o);

// The GGUF conversion convert() does when o.gguf_path is set.
ConvertResult convert_gguf(const ConvertOptions& o);

// The --gguf-type names: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1.
const std::vector<std::string>& gguf_types();

// mlx-lm's dequantize_model: every quantized layer back to a float one, the
// weight in the scales' dtype.
void dequantize_layers(nn::Module& parent);

// mixed_2_6, mixed_3_4, mixed_3_6, mixed_4_6.
const std::vector<std::string>& quant_recipes();

// mlx-lm's mixed_quant_predicate_builder: every layer gets low bits except
// v_proj/v_a_proj/v_b_proj and down_proj of the first and last eighth of the
// layers and of every third layer in between ((i - n/8) % 3 == 2), and
// lm_head, which get high bits (6, or 4 for mixed_3_4). Paths are matched by
// substring, as mlx-lm does (Phi-3's qkv_proj contains "v_proj").
nn::QuantizePredicate mixed_quant_predicate(const std::string& recipe, Model& model, int group_size);

// mlx-lm's make_shards: consecutive runs of tensors (name, bytes), a new
// shard starting where the next tensor would push the current one past
// max_bytes. A tensor larger than max_bytes gets a shard of its own.
std::vector<std::vector<std::string>> make_shards(const std::vector<std::pair<std::string, uint64_t>>& tensors,
                                                  uint64_t max_bytes);

// JSON text as Python's json.dump(obj, f, indent=indent) writes it:
// ensure_ascii escapes, "," and ": " separators, floats as repr() prints them
// (1e-05, 500000.0, 1e+16), keys in the object's own order.
std::string python_json_dump(const nlohmann::ordered_json& j, int indent = 4);

}  // namespace uma::lm
