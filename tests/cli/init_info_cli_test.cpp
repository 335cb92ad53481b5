// End-to-end runs of `uma init` and `uma info` on tiny presets with each npm
// tokenizer: the files written, the config, and what info reports against
// counts computed here from config.json and the safetensors header.
#include <sstream>

#include "tiny_models.h"
#include "uma/core/io/safetensors.h"
#include "uma/text/tokenizer/tokenizer.h"
#include "uma/uma.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using nlohmann::json;

// "key:   value" lines of `uma info`.
std::map<std::string, std::string> info_fields(const std::string& out) {
  std::map<std::string, std::string> f;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    f[line.substr(0, colon)] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  return f;
}

struct Case {
  std::string preset, tokenizer, model_type, architecture;
  std::optional<int> bos, eos;
  bool chat_template;
};

const std::vector<Case> kCases = {
    {"tiny-llama", "llama3", "llama", "LlamaForCausalLM", 128000, 128001, true},
    {"tiny-llama", "qwen3", "llama", "LlamaForCausalLM", std::nullopt, 151645, true},
    {"tiny-llama", "llama2", "llama", "LlamaForCausalLM", 1, 2, false},
    {"tiny-qwen3", "qwen3", "qwen3", "Qwen3ForCausalLM", std::nullopt, 151645, true},
    {"tiny-gemma2", "llama2", "gemma2", "Gemma2ForCausalLM", 1, 2, false},
};

TEST(InitCli, WritesACheckpointThatInfoDescribes) {
  ASSERT_TRUE(fs::exists(npm_model("llama3") / "tokenizer.json"))
      << "run `make npm BUILD_DIR=build` first";
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.preset + " + " + c.tokenizer);
    fs::path dir = tiny_model(c.preset, c.tokenizer);
    const Result& init = tiny_models().get(c.preset, c.tokenizer, "bfloat16").init;
    EXPECT_EQ(std::count(init.out.begin(), init.out.end(), '\n'), 1) << init.out;
    EXPECT_NE(init.out.find(c.preset + " with random weights"), std::string::npos) << init.out;
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors",
                          "tokenizer.json", "tokenizer_config.json"}) {
      EXPECT_TRUE(fs::exists(dir / f)) << f;
    }
    EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));  // one shard

    json cfg = read_json(dir / "config.json");
    EXPECT_EQ(cfg["model_type"], c.model_type);
    EXPECT_EQ(cfg["torch_dtype"], "bfloat16");
    // vocab_size: the tokenizer's id range rounded up to a multiple of 64.
    int limit =
        text::tokenizer::Tokenizer::from_file(npm_model(c.tokenizer) / "tokenizer.json").id_limit();
    int vocab = cfg["vocab_size"];
    EXPECT_EQ(vocab % 64, 0);
    EXPECT_TRUE(vocab >= limit && vocab < limit + 64) << vocab << " for ids below " << limit;
    EXPECT_EQ(cfg.contains("bos_token_id") ? std::optional<int>(cfg["bos_token_id"]) : std::nullopt,
              c.bos);
    EXPECT_EQ(cfg.contains("eos_token_id") ? std::optional<int>(cfg["eos_token_id"]) : std::nullopt,
              c.eos);
    EXPECT_EQ(read_json(dir / "generation_config.json")["do_sample"], false);

    // The safetensors holds exactly the expected number of bf16 values.
    size_t want = expected_parameters(cfg), stored = 0;
    for (auto& [name, a] : load_safetensors((dir / "model.safetensors").string()).first) {
      EXPECT_EQ(a.dtype(), bfloat16) << name;
      stored += a.size();
    }
    EXPECT_EQ(stored, want);

    Result info = run_uma({"info", "--model", dir.string()});
    ASSERT_EQ(info.rc, 0) << info.err;
    auto f = info_fields(info.out);
    EXPECT_EQ(f["architecture"], c.architecture + " (model_type " + c.model_type + ")");
    char params[64];
    std::snprintf(params, sizeof params, "%.3fB (%zu)", double(want) / 1e9, want);
    EXPECT_EQ(f["parameters"], params);
    EXPECT_EQ(f["dtype"], "bfloat16");
    EXPECT_EQ(f["layers"], std::to_string(int(cfg["num_hidden_layers"])));
    EXPECT_EQ(f["vocabulary"], std::to_string(vocab));
    EXPECT_EQ(f["context length"], std::to_string(int(cfg["max_position_embeddings"])));
    EXPECT_EQ(f["chat template"], c.chat_template ? "yes" : "no");
  }
}

TEST(InitCli, Float32AndSeeds) {
  fs::path dir = tiny_model("tiny-llama", "llama2", "float32");
  json cfg = read_json(dir / "config.json");
  EXPECT_EQ(cfg["torch_dtype"], "float32");
  auto f = info_fields(run_uma({"info", "--model", dir.string()}).out);
  EXPECT_EQ(f["dtype"], "float32");
  char size[32];
  std::snprintf(size, sizeof size, "%.2f GB", 4.0 * double(expected_parameters(cfg)) / 1e9);
  EXPECT_EQ(f["size"], size);
  // The same seed writes the same weights; another seed, others.
  auto weights = [](const fs::path& d) {
    return load_safetensors((d / "model.safetensors").string())
        .first.at("model.layers.0.mlp.up_proj.weight");
  };
  auto again = tiny_models().root() / "seed0";
  auto other = tiny_models().root() / "seed5";
  for (auto [out, seed] : {std::pair{again, "0"}, std::pair{other, "5"}}) {
    Result r =
        run_uma({"init", "--preset", "tiny-llama", "--tokenizer", npm_model("llama2").string(),
                 "--out", out.string(), "--dtype", "float32", "--seed", seed});
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  EXPECT_TRUE(array_equal(weights(dir), weights(again)).item<bool>());
  EXPECT_FALSE(array_equal(weights(dir), weights(other)).item<bool>());
}

}  // namespace
}  // namespace uma::cli
