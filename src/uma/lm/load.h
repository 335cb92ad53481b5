// Loading a Hugging Face model folder: config.json, model.safetensors or
// shards (model.safetensors.index.json), generation_config.json. Weights are
// memory-mapped and kept in their stored dtype unless a dtype is asked for.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uma/lm/model.h"

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
  Dtype dtype = float32;   // dtype of the (first) floating point weight
  size_t weight_bytes = 0;
};

// Throws std::invalid_argument naming the missing file, unknown architecture,
// or mismatched/missing/unexpected tensors.
LoadedModel load_model(const std::string& path, const LoadOptions& opts = {});

json read_json_file(const std::string& path);

// Every EOS id: config.json's and generation_config.json's eos_token_id
// (an int or a list).
std::vector<int> eos_token_ids(const LoadedModel& m);

}  // namespace uma::lm
