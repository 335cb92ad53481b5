// MLX-quantized model folders (lm/quantized_load.h): a fixture model is
// quantized here with uma's own quantize op and written as mlx-lm writes
// such a folder (config.json `quantization`, packed `weight`, `scales`,
// `biases`); lm::load_model must build quantized layers for exactly the
// quantized tensors and compute what the float model with the dequantized
// weights computes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "core/quantized_util.h"
#include "lm/model_util.h"
#include "uma/core/utils.h"
#include "uma/lm/load.h"
#include "uma/lm/quantized_load.h"
#include "uma/uma.h"

using namespace uma;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Folders {
  fs::path quantized, reference;  // packed checkpoint; float checkpoint of dequantize(quantize(w))
  ~Folders() {
    fs::remove_all(quantized);
    fs::remove_all(reference);
  }
};

// Per-layer settings: a spec, or nullopt for "kept float" (config entry false).
using Plan = std::function<std::optional<nn::QuantizeSpec>(const std::string& layer)>;

// Quantizes every Linear/Embedding weight of fixture `arch` as `plan` says and
// writes both folders. `quantization` is the config.json object written.
std::unique_ptr<Folders> make_folders(const std::string& arch, const Plan& plan, const json& quantization) {
  auto f = std::make_unique<Folders>();
  std::string tag = std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  f->quantized = fs::temp_directory_path() / ("uma_qload_q_" + tag);
  f->reference = fs::temp_directory_path() / ("uma_qload_r_" + tag);
  fs::path src = test::model_fixture(arch);
  json config = lm::read_json_file((src / "config.json").string());
  // The layers that can be quantized, by the float model's own structure.
  auto model = lm::load_model(src.string()).model;
  std::set<std::string> layers;
  model->visit_modules([&](const std::string& p, nn::Module& m) {
    if (dynamic_cast<nn::Linear*>(&m) || dynamic_cast<nn::Embedding*>(&m)) layers.insert(p.substr(0, p.size() - 1));
  });
  auto [weights, meta] = load_safetensors((src / "model.safetensors").string());
  std::map<std::string, array> packed, dequantized;
  for (auto& [name, w] : weights) {
    std::string layer = name.substr(0, name.rfind('.'));
    auto spec = name.ends_with(".weight") && layers.count(layer) ? plan(layer) : std::nullopt;
    if (!spec) {
      packed.insert_or_assign(name, w);
      dequantized.insert_or_assign(name, w);
      continue;
    }
    auto q = quantize(w, spec->group_size, spec->bits);
    packed.insert_or_assign(name, q[0]);
    packed.insert_or_assign(layer + ".scales", q[1]);
    packed.insert_or_assign(layer + ".biases", q[2]);
    dequantized.insert_or_assign(name, dequantize(q[0], q[1], q[2], spec->group_size, spec->bits));
  }
  for (auto& [dir, tensors, cfg] :
       {std::tuple{f->quantized, &packed, json(config)}, std::tuple{f->reference, &dequantized, json(config)}}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    json c = cfg;
    if (dir == f->quantized) c["quantization"] = quantization;
    std::ofstream(dir / "config.json") << c.dump(2);
    save_safetensors((dir / "model.safetensors").string(), *tensors);
  }
  return f;
}

nn::Module* find_module(nn::Module& root, const std::string& path) {
  nn::Module* found = nullptr;
  root.visit_modules([&](const std::string& p, nn::Module& m) {
    if (p == path + ".") found = &m;
  });
  return found;
}

array tokens() { return array({1, 17, 42, 256, 3, 99, 7, 500, 64, 12}, {1, 10}); }

// Greedy continuation of tokens() by argmax of the last logits (no cache).
std::vector<int> greedy(lm::Model& model, int n) {
  std::vector<int> ids = tokens().to_vector<int>();
  const size_t prompt = ids.size();
  for (int i = 0; i < n; ++i) {
    array logits = model.last_logits(array(ids.data(), {1, int(ids.size())}), nullptr);
    ids.push_back(astype(argmax(logits, -1), int32).item<int>());
  }
  return {ids.begin() + prompt, ids.end()};
}

// The quantized model against the float model of the dequantized weights.
// Embedding rows are dequantized by the same op on both sides (bit-equal);
// quantized_matmul accumulates in float32 like matmul but in another order,
// so each projection differs by a few float32 roundings of its K <= 128
// products (relative ~K * 2^-24 ~ 1e-5 at worst); through two layers,
// norms and the head that stays well under 1e-4 of the largest logit. A
// quantization error (what the dequantized reference removes) is of order
// 2^-bits, over 1e-2 for 4 bits: the bound tells the two apart.
constexpr double kTol = 1e-4;

void expect_same_model(const Folders& f, int n_quantized) {
  test::Float32QmmScope exact;  // the int8 default: Int8ActivationsStayClose
  auto q = lm::load_model(f.quantized.string());
  auto r = lm::load_model(f.reference.string());
  int count = 0;
  q.model->visit_modules([&](const std::string&, nn::Module& m) {
    count += dynamic_cast<nn::QuantizedLinear*>(&m) || dynamic_cast<nn::QuantizedEmbedding*>(&m);
  });
  EXPECT_EQ(count, n_quantized);
  EXPECT_EQ(q.num_parameters, r.model->num_parameters());  // counted unpacked
  EXPECT_LT(q.weight_bytes, r.weight_bytes);
  EXPECT_EQ(q.dtype, float32);  // the scales' dtype
  array lq = (*q.model)(tokens(), nullptr), lr = (*r.model)(tokens(), nullptr);
  double err = test::rel_err(lq, lr);
  EXPECT_LT(err, kTol);
  std::printf("  [%s] rel err vs dequantized float model: %.3g\n", q.model->model_type().c_str(), err);
  // And the quantization is real: against the original float model it is far off.
  auto orig = lm::load_model(test::model_fixture(q.model->model_type()));
  EXPECT_GT(test::rel_err(lq, (*orig.model)(tokens(), nullptr)), 10 * kTol);
  EXPECT_EQ(greedy(*q.model, 8), greedy(*r.model, 8));
}

}  // namespace

// Every Linear and the untied head at 4 bits in groups of 64, as mlx-lm's
// default; one layer left float (false) and one at 8 bits in groups of 32.
TEST(QuantizedLoad, LlamaWithPerLayerOverrides) {
  const std::string kept = "model.layers.0.mlp.down_proj", eight = "model.layers.1.self_attn.q_proj";
  json quantization = {{"group_size", 64}, {"bits", 4}, {"mode", "affine"}, {kept, false},
                       {eight, {{"group_size", 32}, {"bits", 8}}}};
  auto f = make_folders(
      "llama",
      [&](const std::string& layer) -> std::optional<nn::QuantizeSpec> {
        if (layer == kept) return std::nullopt;
        if (layer == eight) return nn::QuantizeSpec{32, 8};
        return nn::QuantizeSpec{64, 4};
      },
      quantization);
  // 2 layers x 7 projections, embed_tokens and lm_head, less the one kept.
  expect_same_model(*f, 2 * 7 + 2 - 1);
  auto q = lm::load_model(f->quantized.string());
  auto* k = find_module(*q.model, kept);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(dynamic_cast<nn::QuantizedLinear*>(k), nullptr);
  EXPECT_NE(dynamic_cast<nn::Linear*>(k), nullptr);
  auto* e = dynamic_cast<nn::QuantizedLinear*>(find_module(*q.model, eight));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->spec().bits, 8);
  EXPECT_EQ(e->spec().group_size, 32);
  auto* head = dynamic_cast<nn::QuantizedLinear*>(find_module(*q.model, "lm_head"));
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->spec().bits, 4);
  ASSERT_TRUE(q.quantization.has_value());
  EXPECT_EQ(q.quantization->bits, 4);
}

// Tied embeddings: the quantized embedding is also the head (as_linear).
// The settings come from quantization_config, mlx-lm's copy of them.
TEST(QuantizedLoad, Qwen3TiedEmbeddingAt8Bits) {
  auto f = make_folders(
      "qwen3", [](const std::string&) { return std::optional<nn::QuantizeSpec>(nn::QuantizeSpec{32, 8}); },
      {{"group_size", 32}, {"bits", 8}});
  // Rename the key: quantization_config alone.
  json c = lm::read_json_file((f->quantized / "config.json").string());
  c["quantization_config"] = c["quantization"];
  c.erase("quantization");
  std::ofstream(f->quantized / "config.json") << c.dump();
  expect_same_model(*f, 2 * 7 + 1);
  auto q = lm::load_model(f->quantized.string());
  EXPECT_NE(dynamic_cast<nn::QuantizedEmbedding*>(find_module(*q.model, "model.embed_tokens")), nullptr);
  EXPECT_EQ(find_module(*q.model, "lm_head"), nullptr);
}

TEST(QuantizedLoad, BadSettingsAreErrorsNamingThem) {
  json base = {{"group_size", 64}, {"bits", 4}};
  auto f = make_folders("llama", [](const std::string&) { return std::optional<nn::QuantizeSpec>(nn::QuantizeSpec{}); },
                        base);
  auto with = [&](const std::function<void(json&)>& edit) {
    json c = lm::read_json_file((f->quantized / "config.json").string());
    edit(c);
    std::ofstream(f->quantized / "config.json", std::ios::trunc) << c.dump();
    return test::error_of([&] { lm::load_model(f->quantized.string()); });
  };
  EXPECT_EQ(with([](json& c) { c["quantization"]["bits"] = 7; }),
            "[load] config.json: quantization.bits must be one of 2, 3, 4, 5, 6, 8, got 7");
  EXPECT_EQ(with([](json& c) { c["quantization"]["bits"] = 4, c["quantization"]["group_size"] = 48; }),
            "[load] config.json: quantization.group_size must be one of 32, 64, 128, got 48");
  EXPECT_EQ(with([](json& c) { c["quantization"]["group_size"] = 64, c["quantization"]["mode"] = "mxfp4"; }),
            "[load] config.json: quantization.group_size must be 32 for mode mxfp4, got 64");
  EXPECT_EQ(with([](json& c) { c["quantization"]["group_size"] = 16, c["quantization"]["mode"] = "nvfp4", c["quantization"]["bits"] = 8; }),
            "[load] config.json: quantization.bits must be 4 for mode nvfp4, got 8");
  EXPECT_EQ(with([](json& c) {
              c["quantization"]["group_size"] = 64, c["quantization"]["bits"] = 4, c["quantization"]["mode"] = "int4";
            }),
            "[load] config.json: quantization.mode 'int4' is not one of affine, mxfp4, nvfp4, mxfp8");
  EXPECT_EQ(with([](json& c) {
              c["quantization"].erase("mode");
              c["quantization"]["lm_head"] = {{"bits", 9}};
            }),
            "[load] config.json: quantization[\"lm_head\"].bits must be one of 2, 3, 4, 5, 6, 8, got 9");
  EXPECT_EQ(with([](json& c) {
              c["quantization"].erase("lm_head");
              c["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}};
              c["quantization"] = nullptr;
            }),
            "[load] config.json: quantization_config has quant_method \"gptq\", which uma does not load (it "
            "loads MLX-quantized folders)");
  // A quantized checkpoint without the config's quantization: mlx-lm's strict
  // load refuses it (unexpected scales); uma says why.
  std::string e = with([](json& c) {
    c.erase("quantization");
    c.erase("quantization_config");
  });
  EXPECT_NE(e.find("has dtype uint32; the checkpoint is quantized (it has "), std::string::npos) << e;
  EXPECT_NE(e.find("but config.json has no quantization"), std::string::npos) << e;
  // The config's bits disagreeing with the packed codes: the strict load
  // names the tensor and both shapes (q_proj is 64 x 64: 8-bit codes take 16 words a row, 4-bit 8).
  e = with([](json& c) { c["quantization"] = {{"group_size", 64}, {"bits", 8}}; });
  std::string want = "model.layers.0.self_attn.q_proj.weight expects " + shape_str({64, 16}) + ", got " + shape_str({64, 8});
  EXPECT_NE(e.find(want), std::string::npos) << e;
  // Valid again: it loads.
  EXPECT_EQ(with([](json& c) { c["quantization"] = {{"group_size", 64}, {"bits", 4}}; }), "(no error)");
}

// A packed weight of the wrong shape for its layer.
TEST(QuantizedLoad, WrongPackedShapeIsAnError) {
  auto f = make_folders("llama", [](const std::string&) { return std::optional<nn::QuantizeSpec>(nn::QuantizeSpec{}); },
                        {{"group_size", 64}, {"bits", 4}});
  auto [w, meta] = load_safetensors((f->quantized / "model.safetensors").string());
  std::map<std::string, array> tensors(w.begin(), w.end());
  array& up = tensors.at("model.layers.1.mlp.up_proj.weight");
  up = slice(up, {0, 0}, {up.shape(0) - 1, up.shape(1)});
  save_safetensors((f->quantized / "model.safetensors").string(), tensors);
  std::string e = test::error_of([&] { lm::load_model(f->quantized.string()); });
  EXPECT_NE(e.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("wrong shape"), std::string::npos) << e;
}

// The int8 default against MLX's arithmetic on the same quantized model.
// Rounding x to int8 per group adds at most max|x_g| / 254 per element to each
// projection's input (core/ops/quantized.h); through the layers that must
// stay well below what quantizing the weights itself costs, the error of the
// quantized model against the original float model.
TEST(QuantizedLoad, Int8ActivationsStayClose) {
  for (auto [type, bits, gs] : {std::tuple{"llama", 4, 64}, std::tuple{"qwen3", 8, 32}}) {
    SCOPED_TRACE(type);
    auto f = make_folders(
        type, [&](const std::string&) { return std::optional<nn::QuantizeSpec>(nn::QuantizeSpec{gs, bits}); },
        {{"group_size", gs}, {"bits", bits}});
    auto q = lm::load_model(f->quantized.string());
    auto orig = lm::load_model(test::model_fixture(type));
    array fast = (*q.model)(tokens(), nullptr);
    eval({fast});
    array exact = [&] {
      test::Float32QmmScope e;  // the setting applies when the product is evaluated
      array y = (*q.model)(tokens(), nullptr);
      eval({y});
      return y;
    }();
    double activation = test::rel_err(fast, exact);
    double weights = test::rel_err(exact, (*orig.model)(tokens(), nullptr));
    std::printf("  [%s %d-bit] int8 vs float32 x: %.3g; quantized vs float model: %.3g\n", type, bits, activation,
                weights);
    EXPECT_GT(activation, 0.0);  // the int8 path did run
    EXPECT_LT(activation, weights / 4);
  }
}
