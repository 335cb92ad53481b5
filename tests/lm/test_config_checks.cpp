// config.json is untrusted: every field the models read is type- and
// range-checked with an error naming the key, before any shape is derived;
// a model whose logits go non-finite is an error naming the first bad layer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "uma/lm/generate.h"
#include "uma/lm/models/decoder.h"
#include "uma/lm/presets.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

json tiny(const std::string& preset) {
  json c = preset_config(preset);
  c["vocab_size"] = 96;
  return c;
}

std::string error_of(const json& c) {
  try {
    create_model(c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigChecks, PresetsPass) {
  for (const auto& name : preset_names()) {
    SCOPED_TRACE(name);
    json c = preset_config(name);
    if (c["vocab_size"] == 0) c["vocab_size"] = 96;
    EXPECT_EQ(error_of(c), "(no error)");
  }
}

TEST(ConfigChecks, BadValuesNameTheKey) {
  struct Case {
    std::string preset;
    std::function<void(json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"tiny-llama", [](json& c) { c["num_attention_heads"] = 0; },
       "[load] config.json: num_attention_heads must be a positive integer up to 1024, got 0"},
      {"tiny-llama", [](json& c) { c.erase("hidden_size"); },
       "[load] config.json: hidden_size is missing (an integer is required)"},
      {"tiny-llama", [](json& c) { c["hidden_size"] = "64"; },
       "[load] config.json: hidden_size must be a positive integer up to 131072, got \"64\""},
      {"tiny-llama", [](json& c) { c["hidden_size"] = 64.5; },
       "[load] config.json: hidden_size must be a positive integer up to 131072, got 64.5"},
      {"tiny-llama", [](json& c) { c["num_hidden_layers"] = 2000; },
       "[load] config.json: num_hidden_layers must be a positive integer up to 1024, got 2000"},
      {"tiny-llama", [](json& c) { c["vocab_size"] = 4294999296ull; },
       "[load] config.json: vocab_size must be a positive integer up to 16777216, got 4294999296"},
      {"tiny-llama", [](json& c) { c["num_key_value_heads"] = 3; },
       "[load] config.json: num_key_value_heads (3) must divide num_attention_heads (4)"},
      {"tiny-llama", [](json& c) { c["rope_theta"] = 0; },
       "[load] config.json: rope_theta must be a finite number > 0, got 0"},
      {"tiny-llama", [](json& c) { c["rms_norm_eps"] = -1e-5; },
       "[load] config.json: rms_norm_eps must be a number in [1e-30, 1], got -1e-05"},
      {"tiny-llama", [](json& c) { c["sliding_window"] = 0; },
       "[load] config.json: sliding_window must be a positive integer up to 1073741824, got 0"},
      {"tiny-llama",
       [](json& c) {
         c["rope_scaling"] = {{"rope_type", "llama3"},
                              {"factor", 8.0},
                              {"low_freq_factor", 2.0},
                              {"high_freq_factor", 2.0}};
       },
       "[load] config.json: rope_scaling.high_freq_factor must differ from low_freq_factor"},
      {"tiny-llama",
       [](json& c) {
         c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", -4}};
       },
       "[load] config.json: rope_scaling.factor must be a finite number > 0, got -4"},
      {"tiny-llama", [](json& c) { c["rope_scaling"] = 7; },
       "[load] config.json: rope_scaling must be a JSON object or null"},
      {"tiny-llama", [](json& c) { c["partial_rotary_factor"] = 0.01; },
       "[load] config.json: partial_rotary_factor times head_dim (16) leaves fewer than 2 rotated "
       "features"},
      {"tiny-gemma2", [](json& c) { c["query_pre_attn_scalar"] = -16; },
       "[load] config.json: query_pre_attn_scalar must be a finite number > 0, got -16"},
      {"tiny-gemma2", [](json& c) { c["attn_logit_softcapping"] = "big"; },
       "[load] config.json: attn_logit_softcapping must be a finite number > 0, got \"big\""},
      {"tiny-qwen3",
       [](json& c) {
         c = {{"model_type", "gemma3"}, {"text_config", c}};
         c["text_config"]["num_hidden_layers"] = -1;
       },
       "[load] config.json: text_config.num_hidden_layers must be a positive integer up to 1024, "
       "got -1"},
  };
  for (const auto& c : cases) {
    json cfg = tiny(c.preset);
    c.edit(cfg);
    SCOPED_TRACE(cfg.dump());
    EXPECT_EQ(error_of(cfg), c.message);
  }
}

// Layer 1's output projection holds NaN: the logits are NaN and the error
// names model.layers.1 (the other weights are the constructor's zeros and
// ones, all finite).
TEST(ConfigChecks, NonFiniteLogitsNameTheFirstBadLayer) {
  auto model = create_model(tiny("tiny-llama"));
  std::vector<int> prompt = {3, 5, 7};
  array ok = model->last_logits(array(prompt.data(), {1, 3}), nullptr);
  EXPECT_NO_THROW(check_finite_logits(*model, ok, prompt));
  array w = multiply(ones({64, 64}), array(NAN));
  model->load_weights({{"model.layers.1.self_attn.o_proj.weight", w}}, false);
  array bad = model->last_logits(array(prompt.data(), {1, 3}), nullptr);
  try {
    check_finite_logits(*model, bad, prompt);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "[generate] the model's logits are not finite (NaN or inf) for the prompt; the first "
              "non-finite "
              "output is model.layers.1's (check the weights and config.json)");
  }
  // generate_tokens checks the first step and stops.
  GenerateOptions g;
  g.max_tokens = 3;
  int calls = 0;
  EXPECT_THROW(
      generate_tokens(*model, prompt, g, [&](int, const StepStats&) { return ++calls < 10; }),
      std::invalid_argument);
  EXPECT_EQ(calls, 0);
}

}  // namespace

// The config.json inputs the fuzzer (fuzz/fuzz_config.cpp) crashed on before
// the checks existed: each is now a std::invalid_argument naming its key.
TEST(ConfigChecks, FuzzFindingsAreErrors) {
  namespace fs = std::filesystem;
  const std::map<std::string, std::string> key = {
      {"eps_string.json", "rms_norm_eps"},          {"float_layers.json", "num_hidden_layers"},
      {"longrope_no_long_factor.json", "factor"},  {"many_layers.json", "num_hidden_layers"},
      {"neg_layers.json", "num_hidden_layers"},     {"rope_factor_string.json", "factor"},
      {"rope_theta_string.json", "rope_theta"}};
  int seen = 0;
  for (auto& e : fs::directory_iterator(fs::path(UMA_SOURCE_DIR) / "fuzz" / "findings" / "config")) {
    SCOPED_TRACE(e.path().string());
    std::ifstream f(e.path());
    json c = json::parse(f);
    std::string err = error_of(c);
    EXPECT_NE(err, "(no error)");
    auto k = key.find(e.path().filename().string());
    ASSERT_NE(k, key.end()) << "a new finding: name the key it must report";
    EXPECT_NE(err.find(k->second), std::string::npos) << err;
    ++seen;
  }
  EXPECT_EQ(seen, int(key.size()));
}
