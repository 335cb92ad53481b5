// TrainConfig <-> JSON (the YAML file, once converted by the CLI).
#include <set>
#include <stdexcept>

#include "uma/core/dtype.h"
#include "uma/lm/train/trainer.h"

namespace uma::lm::train {

namespace {

using ojson = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw std::invalid_argument("[train] config key '" + key + "': " + what);
}

template <typename T>
void read(const ojson& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  const ojson& v = j[key];
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) bad(key, "must be true or false");
    out = v.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) bad(key, "must be a string");
    out = v.get<std::string>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) bad(key, "must be a number");
    out = v.get<T>();
    if (!std::isfinite(double(out))) bad(key, "must be finite");
  } else {
    if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == double(int64_t(v.get<double>())))) {
      bad(key, "must be an integer");
    }
    auto x = v.is_number_integer() ? v.get<int64_t>() : int64_t(v.get<double>());
    if (x < 0) bad(key, "must be >= 0");
    if constexpr (std::is_same_v<T, int>) {
      if (x > INT32_MAX) bad(key, "is too large");
    }
    out = T(x);
  }
}

void read_files(const ojson& j, const char* key, std::vector<std::string>& out) {
  if (!j.contains(key)) return;
  const ojson& v = j[key];
  if (v.is_string()) {
    out = {v.get<std::string>()};
    return;
  }
  if (!v.is_array()) bad(key, "must be a file name or a list of them");
  out.clear();
  for (const auto& f : v) {
    if (!f.is_string()) bad(key, "must list file names");
    out.push_back(f.get<std::string>());
  }
}

}  // namespace

TrainConfig train_config_from_json(const ojson& j) {
  if (!j.is_object()) throw std::invalid_argument("[train] the config must be a mapping of keys to values");
  static const std::set<std::string> kKeys = {
      "model", "init_from", "tokenizer", "tokenizer_vocab_size", "chat_template", "train", "valid", "valid_fraction",
      "mask_prompt", "seq_len", "batch_size", "grad_accumulation", "steps", "learning_rate", "min_learning_rate",
      "warmup_steps", "weight_decay", "beta1", "beta2", "grad_clip", "init_std", "seed", "log_every", "eval_every",
      "save_every", "eval_batches", "output", "save_dtype"};
  for (auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) bad(k, "unknown key");
  }
  TrainConfig c;
  if (j.contains("model")) {
    if (!j["model"].is_object()) bad("model", "must be a mapping of config.json fields");
    c.model = j["model"];
  }
  read(j, "init_from", c.init_from);
  read(j, "tokenizer", c.tokenizer);
  read(j, "tokenizer_vocab_size", c.tokenizer_vocab_size);
  read(j, "chat_template", c.chat_template);
  read_files(j, "train", c.train_files);
  read_files(j, "valid", c.valid_files);
  read(j, "valid_fraction", c.valid_fraction);
  read(j, "mask_prompt", c.mask_prompt);
  read(j, "seq_len", c.seq_len);
  read(j, "batch_size", c.batch_size);
  read(j, "grad_accumulation", c.grad_accumulation);
  read(j, "steps", c.steps);
  read(j, "learning_rate", c.learning_rate);
  read(j, "min_learning_rate", c.min_learning_rate);
  read(j, "warmup_steps", c.warmup_steps);
  read(j, "weight_decay", c.weight_decay);
  read(j, "beta1", c.beta1);
  read(j, "beta2", c.beta2);
  read(j, "grad_clip", c.grad_clip);
  read(j, "init_std", c.init_std);
  read(j, "seed", c.seed);
  read(j, "log_every", c.log_every);
  read(j, "eval_every", c.eval_every);
  read(j, "save_every", c.save_every);
  read(j, "eval_batches", c.eval_batches);
  read(j, "output", c.output);
  read(j, "save_dtype", c.save_dtype);

  if (c.train_files.empty()) bad("train", "is required (a .jsonl or .txt file, or a list of them)");
  if (c.output.empty()) bad("output", "is required (the folder to write the model into)");
  if (!c.model.contains("model_type") && c.init_from.empty()) {
    bad("model", "needs model_type (e.g. llama), or give 'init_from' (a model folder)");
  }
  if (c.seq_len < 2) bad("seq_len", "must be >= 2");
  if (c.batch_size < 1) bad("batch_size", "must be >= 1");
  if (c.grad_accumulation < 1) bad("grad_accumulation", "must be >= 1");
  if (c.steps < 1) bad("steps", "must be >= 1");
  if (!(c.learning_rate > 0)) bad("learning_rate", "must be > 0");
  if (c.min_learning_rate < 0 || c.min_learning_rate > c.learning_rate) {
    bad("min_learning_rate", "must be in [0, learning_rate]");
  }
  if (c.warmup_steps > c.steps) bad("warmup_steps", "must be <= steps");
  if (!(c.beta1 >= 0 && c.beta1 < 1)) bad("beta1", "must be in [0, 1)");
  if (!(c.beta2 >= 0 && c.beta2 < 1)) bad("beta2", "must be in [0, 1)");
  if (c.weight_decay < 0) bad("weight_decay", "must be >= 0");
  if (c.grad_clip < 0) bad("grad_clip", "must be >= 0 (0: no clipping)");
  if (!(c.init_std > 0)) bad("init_std", "must be > 0");
  if (!(c.valid_fraction >= 0 && c.valid_fraction < 1)) bad("valid_fraction", "must be in [0, 1)");
  if (c.log_every < 1) bad("log_every", "must be >= 1");
  if (c.eval_every < 1) bad("eval_every", "must be >= 1");
  if (c.save_every < 1) bad("save_every", "must be >= 1");
  if (c.eval_batches < 1) bad("eval_batches", "must be >= 1");
  if (c.tokenizer.empty() && (c.tokenizer_vocab_size < 300 || c.tokenizer_vocab_size > 1 << 20)) {
    bad("tokenizer_vocab_size", "must be in [300, 1048576]");
  }
  Dtype d = float32;
  try {
    d = dtype_from_string(c.save_dtype);
  } catch (const std::exception&) {
    bad("save_dtype", "must be float32, float16 or bfloat16");
  }
  if (d != float32 && d != float16 && d != bfloat16) bad("save_dtype", "must be float32, float16 or bfloat16");
  return c;
}

ojson train_config_to_json(const TrainConfig& c) {
  ojson j;
  j["model"] = c.model;
  if (!c.init_from.empty()) j["init_from"] = c.init_from;  // absent keeps older runs' records resumable
  j["tokenizer"] = c.tokenizer;
  j["tokenizer_vocab_size"] = c.tokenizer_vocab_size;
  j["chat_template"] = c.chat_template;
  j["train"] = c.train_files;
  j["valid"] = c.valid_files;
  j["valid_fraction"] = c.valid_fraction;
  j["mask_prompt"] = c.mask_prompt;
  j["seq_len"] = c.seq_len;
  j["batch_size"] = c.batch_size;
  j["grad_accumulation"] = c.grad_accumulation;
  j["steps"] = c.steps;
  j["learning_rate"] = c.learning_rate;
  j["min_learning_rate"] = c.min_learning_rate;
  j["warmup_steps"] = c.warmup_steps;
  j["weight_decay"] = c.weight_decay;
  j["beta1"] = c.beta1;
  j["beta2"] = c.beta2;
  j["grad_clip"] = c.grad_clip;
  j["init_std"] = c.init_std;
  j["seed"] = c.seed;
  j["log_every"] = c.log_every;
  j["eval_every"] = c.eval_every;
  j["save_every"] = c.save_every;
  j["eval_batches"] = c.eval_batches;
  j["output"] = c.output;
  j["save_dtype"] = c.save_dtype;
  return j;
}

}  // namespace uma::lm::train
