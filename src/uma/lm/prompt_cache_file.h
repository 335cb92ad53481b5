// Prompt caches as files, in mlx-lm's layout (models/cache.py
// save_prompt_cache / load_prompt_cache), so that files written by
// `uma cache-prompt` load in mlx_lm.generate and those of
// mlx_lm.cache_prompt load here:
//
//   tensors   tree_flatten([c.state for c in cache]): layer i's keys and
//             values are "i.0" and "i.1"; a QuantizedKVCache's state is two
//             (packed, scales, biases) triples: "i.0.0", "i.0.1", "i.0.2",
//             "i.1.0", "i.1.1", "i.1.2". Trimmed to what the cache holds.
//   metadata  tree_flatten([meta_states, metadata, class_names]):
//             "0.i" = "" for a KVCache (its meta_state is ""),
//             "0.i.0".."0.i.2" = offset, group_size, bits (QuantizedKVCache),
//             "0.i.0".."0.i.3" = keep, max_size, offset, idx (RotatingKVCache);
//             "1.<key>" = the user metadata; "2.i" = the class name of layer i.
//
// mlx_lm.cache_prompt writes the user metadata "model" (the --model given)
// and "tokenizer_config" (JSON), and mlx_lm.generate reads both; uma writes
// them too, plus "uma_tokens" (a JSON list of the token ids the caches hold,
// which mlx-lm does not record) and "uma_model" (a fingerprint of the model:
// architecture, shapes and a sample of the weights).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "uma/lm/kv_cache.h"
#include "uma/lm/model.h"

namespace uma::lm {

struct PromptCacheFile {
  CacheList caches;
  std::map<std::string, std::string> metadata;  // the user metadata ("1.<key>" as <key>)
  std::optional<std::vector<int>> tokens;        // from "uma_tokens"; absent in mlx-lm's files
};

// Writes the caches (each non-empty) and metadata atomically (a temporary
// file renamed into place: an existing file is replaced only by a complete
// one). Throws std::invalid_argument "[save_prompt_cache] ..." for empty
// caches or metadata keys that mlx-lm could not read back (empty, or with a
// '.').
void save_prompt_cache(const std::string& path, const CacheList& caches,
                       const std::map<std::string, std::string>& metadata = {});

// Reads a file written by save_prompt_cache or mlx-lm. The file is untrusted:
// a malformed safetensors file, missing or extra tensors, an unknown cache
// class, meta states that are not integers or contradict the arrays throw
// std::invalid_argument "[load_prompt_cache] <path>: ...".
PromptCacheFile load_prompt_cache(const std::string& path);

// The user metadata uma writes for caches of `model` holding `tokens`:
// "model" (model_path), "tokenizer_config" ("{\"trust_remote_code\": false}",
// as mlx_lm.cache_prompt writes by default), "uma_tokens", "uma_model".
std::map<std::string, std::string> prompt_cache_metadata(const Model& model, const std::string& model_path,
                                                         const std::vector<int>& tokens);

// The fingerprint stored as "uma_model".
std::string model_fingerprint(const Model& model);

// Throws std::invalid_argument "[prompt_cache] <path> ..." naming what differs
// when the file's caches cannot continue `model` computing in `dtype` with
// caches bounded by max_kv_size: the number of layers, each layer's cache
// type (a quantized cache stands for a standard one; a rotating one must
// have the same size), batch 1, KV heads, head dim, dtype, the fingerprint
// (when both sides have one) and the token count (when known).
void check_prompt_cache(const PromptCacheFile& file, const Model& model, Dtype dtype,
                        std::optional<int> max_kv_size, const std::string& path);

}  // namespace uma::lm
