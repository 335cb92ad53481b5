// `uma train --config run.yaml`: trains a language model from scratch
// (lm/train/trainer.h). The YAML file holds TrainConfig's keys; run again on
// the same output folder, it resumes from the last checkpoint.
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <regex>

#include "uma/cli/command.h"
#include "uma/core/io/file.h"
#include "uma/lm/train/trainer.h"

namespace {

using ojson = nlohmann::ordered_json;

// YAML 1.2 core schema scalars: null, booleans, integers, floats; anything
// quoted or else is a string.
ojson scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted
  static const std::regex kInt("[-+]?[0-9]+"), kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return std::stod(s);
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

ojson yaml_to_json(const YAML::Node& n, int depth = 0) {
  if (depth > 64) throw std::invalid_argument("[train] the config nests too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(n);
    case YAML::NodeType::Sequence: {
      ojson a = ojson::array();
      for (const auto& x : n) a.push_back(yaml_to_json(x, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      ojson o = ojson::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second, depth + 1);
      return o;
    }
  }
  return nullptr;
}

// SIGINT/SIGTERM ask the run to stop after its current step (it saves a
// checkpoint and the model so far); a second SIGINT stops at once.
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  if (g_stop.exchange(true) && sig == SIGINT) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
  g_signal = sig;
}

struct TrainOptions {
  std::string config, output;
  std::optional<int64_t> steps;
};

}  // namespace

static uma::cli::Registration reg{
    "train", "Train a language model (and its tokenizer) from text or chat data", [](CLI::App& app) {
      auto o = std::make_shared<TrainOptions>();
      app.add_option("-c,--config", o->config, "YAML file of the run (docs/training.md lists its keys)")->required();
      app.add_option("-o,--output", o->output, "Output folder (overrides the config's 'output')");
      app.add_option("--steps", o->steps, "Number of optimizer steps (overrides the config's 'steps')");
      return [o]() -> int {
        std::string text = uma::io::read_small_file(o->config, "train");
        YAML::Node root;
        try {
          root = YAML::Load(text);
        } catch (const YAML::Exception& e) {
          throw std::invalid_argument("[train] " + o->config + ": " + e.what());
        }
        ojson j = yaml_to_json(root);
        if (!j.is_object()) throw std::invalid_argument("[train] " + o->config + " must be a mapping of keys");
        // Data paths are relative to the config file, as a recipe beside its data expects.
        auto base = std::filesystem::absolute(o->config).parent_path();
        auto rebase = [&](const char* key) {
          if (!j.contains(key)) return;
          auto fix = [&](ojson& v) {
            if (v.is_string() && !v.get<std::string>().empty() && std::filesystem::path(v.get<std::string>()).is_relative()) {
              v = (base / v.get<std::string>()).lexically_normal().string();
            }
          };
          if (j[key].is_array()) {
            for (auto& v : j[key]) fix(v);
          } else {
            fix(j[key]);
          }
        };
        for (const char* k : {"train", "valid", "tokenizer", "init_from", "output"}) rebase(k);
        if (!o->output.empty()) j["output"] = std::filesystem::absolute(o->output).lexically_normal().string();
        if (o->steps) j["steps"] = *o->steps;
        auto config = uma::lm::train::train_config_from_json(j);
        std::signal(SIGINT, on_stop_signal);
        std::signal(SIGTERM, on_stop_signal);
        auto r = uma::lm::train::train(
            config, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }, &g_stop);
        if (r.stopped) {
          std::printf("stopped after %lld of %lld steps: train loss %.4f -> %s (run again to resume)\n",
                      (long long)r.steps, (long long)config.steps, r.final_train_loss, config.output.c_str());
          return 128 + g_signal.load();
        }
        std::printf("trained %lld steps%s: train loss %.4f, validation loss %.4f, %.0f tokens/s -> %s\n",
                    (long long)r.steps, r.resumed ? " (resumed)" : "", r.final_train_loss, r.final_valid_loss,
                    r.tokens_per_second, config.output.c_str());
        return 0;
      };
    }};
