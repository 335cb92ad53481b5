// Loading a model's tokenizer with its configuration: special tokens, the
// ids that end generation, chat templates and add_bos_token — from a Hugging
// Face folder (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// chat_template.jinja) or a .gguf file. The model's own files (config.json,
// generation_config.json) are not read here: whoever reads them (lm::load)
// passes their EOS ids in.
//
//   auto t = uma::text::tokenizer::load_tokenizer("models/Qwen3-0.6B");
//   auto ids = t.tokenizer->encode(prompt, /*add_special_tokens=*/true);
//   bool done = t.is_eos(next_id);
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uma/text/tokenizer/tokenizer.h"

namespace uma::text::tokenizer {

struct SpecialToken {
  std::string text;
  std::optional<int32_t> id;  // empty when the text is not in the vocabulary
};

struct ChatTemplateSource {
  std::string name;  // "default", "tool_use", ...
  std::string source;
};

struct LoadedTokenizer {
  std::shared_ptr<const Tokenizer> tokenizer;
  std::optional<SpecialToken> bos, eos, unk, pad;
  // Every id that ends generation: eos (GGUF: eos, eot, eom), then the
  // extra_eos_ids given to load_tokenizer, without duplicates.
  std::vector<int32_t> eos_ids;
  // Whether encode(text, add_special_tokens=true) starts with bos / ends
  // with eos (transformers' add_bos_token / add_eos_token).
  bool add_bos_token = false;
  bool add_eos_token = false;
  std::vector<ChatTemplateSource> chat_templates;
  nlohmann::json config = nlohmann::json::object();  // tokenizer_config.json (HF folders)
  std::filesystem::path source;

  bool is_eos(int32_t id) const;
  // The special tokens transformers passes to a chat template, those that
  // are set: {"bos_token": ..., "eos_token": ..., "unk_token": ...,
  // "pad_token": ...}.
  nlohmann::ordered_json template_variables() const;
  // The template called `name`, nullptr if absent. With an empty name:
  // "tool_use" when `with_tools` and it exists, else "default", else the
  // only template.
  const ChatTemplateSource* chat_template(std::string_view name = {}, bool with_tools = false) const;
};

// `path` is a model folder, its tokenizer.json, or a .gguf file. Throws
// std::invalid_argument with the path and problem (missing folder or file,
// malformed JSON, unsupported tokenizer type).
//
// Like transformers (v5), an explicit add_bos_token / add_eos_token in
// tokenizer_config.json (or a missing post-processor) replaces the
// tokenizer.json post-processor by "[bos] $A [eos]" as the flags say.
//
// `extra_eos_ids` join eos_ids (as mlx-lm passes config.json's
// eos_token_id to its TokenizerWrapper); negative ids are ignored.
LoadedTokenizer load_tokenizer(const std::filesystem::path& path,
                               const std::vector<int32_t>& extra_eos_ids = {});

}  // namespace uma::text::tokenizer
