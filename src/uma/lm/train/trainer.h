// Training a causal language model from scratch (or on from a folder), as
// `uma train` runs it: tokenizer training, packed batches, AdamW with
// warm-up and cosine decay, gradient accumulation and clipping, validation,
// atomic checkpoints and resumption that reproduces the uninterrupted run.
//
// The output folder becomes a Hugging Face model folder (config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json,
// generation_config.json) that `uma generate` loads, with the run's record
// beside it: train_config.json, loss.csv, loss.png, and checkpoint/ (the
// latest state; a run started again on the same folder and config resumes
// from it).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace uma::lm::train {

struct TrainConfig {
  // config.json fields of the model to train (model_type and its shape);
  // vocab_size, bos/eos ids come from the tokenizer.
  nlohmann::ordered_json model = nlohmann::ordered_json::object();
  // A tokenizer folder (tokenizer.json, tokenizer_config.json); empty:
  // train a byte-level BPE of tokenizer_vocab_size on the training data.
  std::string tokenizer;
  int tokenizer_vocab_size = 4096;
  // For a trained tokenizer: the chat template (empty: a Llama 3 style one).
  std::string chat_template;

  // A model folder to start from instead of random weights (continued
  // pretraining, or a finished run trained on): its weights must fit
  // `model`, which defaults to the folder's config.json, and its tokenizer is
  // used unless `tokenizer` names another.
  std::string init_from;

  std::vector<std::string> train_files, valid_files;
  double valid_fraction = 0.02;  // held out of train_files when no valid_files
  bool mask_prompt = true;

  int seq_len = 256, batch_size = 16, grad_accumulation = 1;
  int64_t steps = 1000;
  float learning_rate = 1e-3f, min_learning_rate = 1e-4f;
  int64_t warmup_steps = 100;
  float weight_decay = 0.1f, beta1 = 0.9f, beta2 = 0.95f, grad_clip = 1.0f;
  float init_std = 0.02f;
  uint64_t seed = 0;

  int64_t log_every = 10, eval_every = 200, save_every = 200;
  int eval_batches = 20;
  std::string output;
  std::string save_dtype = "float32";  // of the final model's weights
};

// Parses the JSON form of a config (the YAML file, converted); unknown keys
// and wrong types are errors naming the key.
TrainConfig train_config_from_json(const nlohmann::ordered_json& j);
nlohmann::ordered_json train_config_to_json(const TrainConfig& c);

struct TrainResult {
  int64_t steps = 0;
  double final_train_loss = 0, final_valid_loss = 0;
  double tokens_per_second = 0;
  bool resumed = false;
  bool stopped = false;  // `stop` was raised: the run ended early, resumable
};

// Runs (or resumes) the training. `log` receives each progress line (the CLI
// prints them to stderr). When `stop` becomes true (the CLI raises it on
// SIGINT/SIGTERM) the run finishes its step, saves a checkpoint and the
// model as it stands, and returns with `stopped` set; the same call again
// resumes it. Throws std::invalid_argument for a bad config, unreadable data,
// or an output folder holding a different run.
TrainResult train(const TrainConfig& config, const std::function<void(const std::string&)>& log = {},
                  const std::atomic<bool>* stop = nullptr);

}  // namespace uma::lm::train
