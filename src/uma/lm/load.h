// Loading a Hugging Face model folder: config.json, model.safetensors or
// shards (model.safetensors.index.json), generation_config.json, and with
// lm::load the tokenizer and its chat template. Every file is read once and
// each fact has one owner: the EOS ids of config.json and
// generation_config.json are read here and handed to the tokenizer loader,
// the chat template is parsed here and reused for every prompt. Weights are
// kept in their stored dtype unless a dtype is asked for.
//
//   auto lm = uma::lm::load("models/Qwen3-0.6B");
//   auto prompt = uma::lm::build_prompt(lm, messages);       // lm/prompt.h
//   uma::lm::stream_generate(*lm.model, lm.tokenizer, prompt, opts, on_text);
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uma/lm/model.h"
#include "uma/nn/quantized.h"
#include "uma/text/chat_template.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm {

struct LoadOptions {
  std::optional<Dtype> dtype;  // cast floating point weights to this dtype
  // Map the weight files instead of reading them into memory. Reading (the
  // default) puts the weights on huge pages, where decoding streams them
  // markedly faster than from 4 KiB page-cache pages; mapping starts
  // sooner and shares the page cache (`uma info` maps). A cast (`dtype`)
  // always maps: the cast writes fresh buffers anyway.
  bool mmap = false;
  // Called with (bytes done, bytes total) while mapping shards.
  std::function<void(size_t, size_t)> progress;
};

struct LoadedModel {
  std::shared_ptr<Model> model;
  json config;
  json generation_config;  // {} when the folder has none
  std::string path;
  Dtype dtype = float32;   // dtype of the (first) floating point weight (a quantized model's scales)
  size_t weight_bytes = 0;  // bytes of all parameters as stored (packed codes, scales, biases included)
  // Parameters with quantized weights counted unpacked (lm/quantized_load.h).
  size_t num_parameters = 0;
  // config.json's default quantization (lm/quantized_load.h); unset for a float model.
  std::optional<nn::QuantizeSpec> quantization;
};

// The sampling defaults a checkpoint ships in generation_config.json, as
// transformers' GenerationConfig names them: each is set only where the file
// has it with the right JSON type. uma (like mlx-lm's generate) does not
// apply them on its own: a caller that wants them copies them into its
// options.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k, max_new_tokens;
};

// A model folder ready to generate from.
struct Loaded : LoadedModel {
  // With eos_ids = the tokenizer's eos, then eos_token_ids(*this).
  text::tokenizer::LoadedTokenizer tokenizer;
  // The tokenizer's default chat template, parsed once here; null when the
  // folder has none, or when it does not parse: then chat_template_error
  // holds the parser's error, thrown by build_prompt when the template is
  // needed (so --ignore-chat-template still works with a broken template).
  std::shared_ptr<const text::ChatTemplate> chat_template;
  std::optional<text::TemplateError> chat_template_error;
  GenerationDefaults generation;

  bool has_chat_template() const { return chat_template || chat_template_error; }
};

// The weights alone (uma info, uma bench): config.json and
// generation_config.json are read once, here. Throws std::invalid_argument
// naming the missing file, unknown architecture, or mismatched/missing/
// unexpected tensors.
LoadedModel load_model(const std::string& path, const LoadOptions& opts = {});

// load_model, then the tokenizer of the same folder (given eos_token_ids),
// the parsed chat template and the generation defaults. No file is read
// twice. Throws std::invalid_argument naming the file and problem ("[load]
// ..." or "[tokenizer] ...").
Loaded load(const std::string& path, const LoadOptions& opts = {});

// A JSON file (regular and size-capped); throws "[load] PATH is not valid
// JSON: ..." otherwise.
json read_json_file(const std::string& path);

// The EOS ids the model's own files declare: generation_config.json's
// eos_token_id, then config.json's (each an int or a list), without
// duplicates; ids outside [0, 2^31) are ignored. The one reader of these
// fields: load passes them to the tokenizer loader.
std::vector<int32_t> eos_token_ids(const LoadedModel& m);

// generation_config.json's sampling fields (see GenerationDefaults).
GenerationDefaults generation_defaults(const json& generation_config);

}  // namespace uma::lm
