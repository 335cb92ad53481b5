// The parts of a training run around the loop (lm/train/trainer.cpp): the
// output folder (new, or the same run's to resume), the tokenizer (given or
// trained), the data, the model and its initial weights, and the final
// model folder.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "uma/lm/model.h"
#include "uma/lm/train/data.h"
#include "uma/lm/train/trainer.h"
#include "uma/text/tokenizer/load.h"

namespace uma::lm::train {

struct RunSetup {
  std::shared_ptr<Model> model;  // initialized (random, seeded) unless resuming
  nlohmann::ordered_json model_config;
  text::tokenizer::LoadedTokenizer tokenizer;
  std::unique_ptr<PackedDataset> train_data, valid_data;
  bool resume = false;  // out/checkpoint holds this run's latest state
};

// Checks `out` (absent, empty, or holding this same run; anything else is an
// error naming the folder or the config key that differs), writes the
// tokenizer files and train_config.json into it, and reads the data.
RunSetup prepare_run(const TrainConfig& c, const std::filesystem::path& out, const nlohmann::ordered_json& config_json,
                     const std::function<void(const std::string&)>& log);

// config.json, model.safetensors (in c.save_dtype), generation_config.json.
void write_final_model(const TrainConfig& c, const std::filesystem::path& out, Model& model, const RunSetup& run);

// The chat template of a trained tokenizer when the config gives none: Llama 3's layout.
const std::string& default_chat_template();

}  // namespace uma::lm::train
