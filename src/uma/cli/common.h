// Shared pieces of the model-running subcommands: loading with progress, the
// sampling flags, the prompt's tokens.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

#include "uma/lm/load.h"
#include "uma/lm/prompt_cache_file.h"
#include "uma/lm/prompt.h"
#include "uma/lm/stream.h"
#include "uma/text/tokenizer/load.h"

namespace uma::cli {

struct ModelFlags {
  std::string model;
  std::string gguf_file;  // with a repo id: fetch only this .gguf
  std::string dtype;
  bool mmap = false;
  std::optional<int> max_kv_size;
  int prefill_step_size = 2048;
  // cpu, gpu or auto (the GPU when the build and machine have one). The CPU
  // stays the default until the GPU runs the quantized kernels itself.
  std::string device = "cpu";
};

// Makes the device --device names the default one (a clear error for a GPU
// this build or machine lacks).
void use_device(const std::string& device);

struct SamplingFlags {
  int max_tokens = 256;
  float temp = 0.0f, top_p = 1.0f, min_p = 0.0f;
  int top_k = 0;
  std::optional<uint64_t> seed;
  float repetition_penalty = 1.0f;
  int repetition_context_size = 20;
  float presence_penalty = 0.0f, frequency_penalty = 0.0f;
  float xtc_probability = 0.0f, xtc_threshold = 0.0f;
  std::vector<std::string> stop;
  std::string logit_bias;  // JSON object {"id": bias}
  // Structured output (uma generate and chat): GBNF or a JSON schema, each
  // given as a file or as text.
  std::string grammar, json_schema;
};

// --kv-bits, --kv-group-size, --quantized-kv-start (mlx-lm's flags and defaults).
struct KVFlags {
  std::optional<int> kv_bits;
  int kv_group_size = 64;
  int quantized_kv_start = 5000;
};

// Number checks that read "--temp: must be >= 0, got -1" (CLI11's
// NonNegativeNumber and PositiveNumber print a range up to DBL_MAX).
CLI::Validator non_negative();
CLI::Validator positive();

void add_model_flags(CLI::App& app, ModelFlags& f);
void add_sampling_flags(CLI::App& app, SamplingFlags& f);
// --grammar and --json-schema (llama.cpp's): for the commands that print one
// answer per prompt (serve takes response_format per request instead).
void add_grammar_flags(CLI::App& app, SamplingFlags& f);
void add_kv_flags(CLI::App& app, KVFlags& f);
// The KV quantization the flags ask for (none without --kv-bits); throws
// std::invalid_argument naming the flag for a bad value.
std::optional<lm::KVQuantization> kv_quantization(const KVFlags& f);

// A --prompt-cache-file for `lm`: loaded, checked against the model, its
// dtype and --max-kv-size (lm::check_prompt_cache) and, where it holds
// quantized caches, against --kv-bits and --kv-group-size as mlx_lm.generate
// checks them.
lm::PromptCacheFile load_prompt_cache_for(const lm::Loaded& lm, const std::string& path, const ModelFlags& m,
                                          const KVFlags& kv);

// text::tokenizer::load_tokenizer, with a file whose ids or sizes cannot fit in
// memory (an id of 2^31-1, say) reported as an error naming the path instead
// of std::bad_alloc or std::length_error.
text::tokenizer::LoadedTokenizer load_tokenizer(const std::string& path);

// The folder of uma's built-in model (models/uma-dict): $UMA_DEFAULT_MODEL,
// else <bin>/../share/uma/models/uma-dict, else the source tree's copy;
// empty when none holds a config.json. --model defaults to it.
std::string builtin_model_dir();

// --model's value as a local path: a path that exists wins; a Hugging Face
// repo id (org/name[@revision][:QUANT]) is found in the hub cache, or
// downloaded into it with progress on stderr (hub::resolve_model). `gguf_file`
// picks one .gguf of the repo; weights = false fetches the tokenizer only.
std::string resolve_model(const std::string& model, const std::string& gguf_file = "", bool weights = true);

// lm::load: model, tokenizer and chat template, each file read once; shows
// progress on stderr for large models.
lm::Loaded load_all(const ModelFlags& f, bool quiet = false);
// The generation options the flags ask for; --grammar / --json-schema are
// compiled here (std::invalid_argument naming the flag when they are bad).
lm::TextOptions text_options(const ModelFlags& m, const SamplingFlags& s);
// The --chat-template-config value: a JSON object ({} when empty).
nlohmann::ordered_json chat_template_kwargs(const std::string& text);

}  // namespace uma::cli
