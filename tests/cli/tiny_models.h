// Tiny random-weight checkpoints for the end-to-end tests, written by
// `uma init` once per test binary (on first use) into a temporary folder
// that is removed at exit.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "uma/uma.h"

namespace uma::cli::testing {

struct TinyModel {
  std::filesystem::path dir;
  Result init;  // what `uma init` said
};

class TinyModels {
 public:
  ~TinyModels() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const std::filesystem::path& root() const { return root_; }

  // `preset` with the tokenizer of npm_model(tokenizer), weights in `dtype`.
  const TinyModel& get(const std::string& preset, const std::string& tokenizer,
                       const std::string& dtype) {
    std::string name = preset + "_" + tokenizer + "_" + dtype;
    auto it = models_.find(name);
    if (it != models_.end()) return it->second;
    TinyModel m;
    m.dir = root_ / name;
    m.init = run_uma({"init", "--preset", preset, "--tokenizer", npm_model(tokenizer).string(),
                      "--out", m.dir.string(), "--dtype", dtype});
    return models_.emplace(name, std::move(m)).first->second;
  }

 private:
  std::filesystem::path root_ =
      std::filesystem::temp_directory_path() / ("uma_cli_models_" + std::to_string(::getpid()));
  std::map<std::string, TinyModel> models_;
};

inline TinyModels& tiny_models() {
  static TinyModels models;
  return models;
}

// The folder of a tiny model; a failed `uma init` fails the calling test.
inline std::filesystem::path tiny_model(const std::string& preset, const std::string& tokenizer,
                                        const std::string& dtype = "bfloat16") {
  const TinyModel& m = tiny_models().get(preset, tokenizer, dtype);
  EXPECT_EQ(m.init.rc, 0) << m.init.err;
  return m.dir;
}

// A copy of a model folder to edit, named `name` under the temporary root.
inline std::filesystem::path copy_model(const std::filesystem::path& src, const std::string& name) {
  auto dst = tiny_models().root() / name;
  std::filesystem::remove_all(dst);
  std::filesystem::copy(src, dst, std::filesystem::copy_options::recursive);
  return dst;
}

// A command's stdout as one JSON value (key order kept); a test failure and
// an empty object when it is not JSON.
inline nlohmann::ordered_json parse_json_output(const Result& r) {
  try {
    return nlohmann::ordered_json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << ": " << r.out;
    return nlohmann::ordered_json::object();
  }
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

// Parameter count of a decoder from its config.json alone: embeddings,
// attention and MLP projections, RMSNorm weights, the final norm and an
// untied head (llama, qwen3 with q/k norms, gemma2 with sandwich norms).
inline size_t expected_parameters(const nlohmann::json& c) {
  size_t H = c["hidden_size"], I = c["intermediate_size"], L = c["num_hidden_layers"];
  size_t nh = c["num_attention_heads"], nkv = c["num_key_value_heads"], V = c["vocab_size"];
  size_t hd = c.value("head_dim", H / nh);
  std::string type = c["model_type"];
  size_t attn = H * nh * hd + 2 * H * nkv * hd + nh * hd * H;
  size_t mlp = 3 * H * I;
  size_t norms = (type == "gemma2" ? 4 : 2) * H + (type == "qwen3" ? 2 * hd : 0);
  size_t head = c.value("tie_word_embeddings", false) ? 0 : V * H;
  return V * H + L * (attn + mlp + norms) + H + head;
}

// A float32 tiny-qwen3 whose weights are scaled up (std 0.02 -> 0.2), so
// that its greedy tokens depend on the context instead of repeating the
// last prompt token.
inline std::filesystem::path sharp_model() {
  static std::filesystem::path dir = [] {
    std::filesystem::path d =
        copy_model(tiny_model("tiny-qwen3", "qwen3", "float32"), "sharp-qwen3");
    std::map<std::string, array> scaled;
    for (auto& [name, a] : load_safetensors((d / "model.safetensors").string()).first) {
      scaled.emplace(name, name.find("norm") == std::string::npos ? multiply(a, array(10.0f)) : a);
    }
    save_safetensors((d / "scaled.tmp").string(), scaled);
    std::filesystem::rename(d / "scaled.tmp", d / "model.safetensors");
    return d;
  }();
  return dir;
}

// A float32 tiny Llama (llama3 vocabulary) with every weight zero: its
// logits are all zero, so each token costs exactly log(V) nats.
inline std::filesystem::path zero_llama(const std::string& name) {
  auto dir = copy_model(tiny_model("tiny-llama", "llama3", "float32"), name);
  auto [tensors, meta] = load_safetensors((dir / "model.safetensors").string(), true);
  std::map<std::string, array> zero;
  for (auto& [k, v] : tensors) zero.emplace(k, zeros(v.shape(), v.dtype()));
  save_safetensors((dir / "model.safetensors").string(), zero, meta);
  return dir;
}

// A copy of the small llama2-vocabulary model with its weights edited.
inline std::filesystem::path with_weights(const std::string& name,
                                          const std::function<void(std::map<std::string, array>&)>& edit) {
  std::filesystem::path dir = copy_model(tiny_model("tiny-llama", "llama2"), name);
  auto weights = load_safetensors((dir / "model.safetensors").string()).first;
  edit(weights);
  save_safetensors((dir / "edited.tmp").string(), weights);
  std::filesystem::rename(dir / "edited.tmp", dir / "model.safetensors");
  return dir;
}

}  // namespace uma::cli::testing
