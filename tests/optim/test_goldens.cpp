// Each optimizer's first three steps against float64 references
// (tests/fixtures/optim/make_optim_goldens.py): torch.optim where PyTorch
// computes MLX's update (SGD without dampening, Adam/AdamW with bias
// correction, RMSprop, Adagrad, Adadelta), MLX's documented formula written
// in numpy otherwise (MLX's defaults without bias correction, dampened SGD,
// Adamax, Lion, Adafactor, Muon).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "optim_util.h"

using namespace uma;
using namespace uma::optim;
using namespace uma::optim::test;
using json = nlohmann::json;

namespace {

json load_goldens() {
  std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/optim/optim_goldens.json");
  EXPECT_TRUE(f.good());
  return json::parse(f);
}

std::array<float, 2> betas_or(const json& a, std::array<float, 2> d) {
  if (!a.contains("betas")) return d;
  return {a["betas"][0].get<float>(), a["betas"][1].get<float>()};
}

// The optimizer a case names, with MLX's defaults for what it leaves out.
std::unique_ptr<Optimizer> make(const std::string& name, const json& a) {
  auto f = [&](const char* k, float d) { return a.contains(k) ? a[k].get<float>() : d; };
  auto b = [&](const char* k, bool d) { return a.contains(k) ? a[k].get<bool>() : d; };
  if (name == "SGD")
    return std::make_unique<SGD>(f("lr", 0), f("momentum", 0), f("weight_decay", 0), f("dampening", 0),
                                 b("nesterov", false));
  if (name == "Adam")
    return std::make_unique<Adam>(f("lr", 0), betas_or(a, {0.9f, 0.999f}), f("eps", 1e-8f),
                                  b("bias_correction", false));
  if (name == "AdamW")
    return std::make_unique<AdamW>(f("lr", 0), betas_or(a, {0.9f, 0.999f}), f("eps", 1e-8f),
                                   f("weight_decay", 0.01f), b("bias_correction", false));
  if (name == "RMSprop") return std::make_unique<RMSprop>(f("lr", 0), f("alpha", 0.99f), f("eps", 1e-8f));
  if (name == "Adagrad") return std::make_unique<Adagrad>(f("lr", 0), f("eps", 1e-8f));
  if (name == "AdaDelta") return std::make_unique<AdaDelta>(f("lr", 0), f("rho", 0.9f), f("eps", 1e-6f));
  if (name == "Adamax") return std::make_unique<Adamax>(f("lr", 0), betas_or(a, {0.9f, 0.999f}), f("eps", 1e-8f));
  if (name == "Lion") return std::make_unique<Lion>(f("lr", 0), betas_or(a, {0.9f, 0.99f}), f("weight_decay", 0));
  if (name == "Adafactor") {
    std::optional<LearningRate> lr;
    if (a.contains("lr")) lr = a["lr"].get<float>();
    std::optional<float> beta_1;
    if (a.contains("beta_1")) beta_1 = a["beta_1"].get<float>();
    return std::make_unique<Adafactor>(lr, std::array{1e-30f, 1e-3f}, 1.0f, -0.8f, beta_1, f("weight_decay", 0),
                                       b("scale_parameter", true), b("relative_step", true), b("warmup_init", false));
  }
  if (name == "Muon")
    return std::make_unique<Muon>(f("lr", 0), f("momentum", 0.95f), f("weight_decay", 0.01f), b("nesterov", true),
                                  a.contains("ns_steps") ? a["ns_steps"].get<int>() : 5);
  ADD_FAILURE() << "unknown optimizer " << name;
  return nullptr;
}

}  // namespace

TEST(OptimGoldens, FirstStepsMatchReference) {
  auto doc = load_goldens();
  Params params;
  for (auto& [k, shape] : doc["shapes"].items())
    params.emplace(k, array(doc["params"][k].get<std::vector<float>>(), shape.get<Shape>()));
  std::vector<Params> grads;
  for (auto& g : doc["grads"]) {
    Params step;
    for (auto& [k, p] : params) step.emplace(k, array(g[k].get<std::vector<float>>(), p.shape()));
    grads.push_back(step);
  }
  int ran = 0;
  for (auto& c : doc["cases"]) {
    std::string name = c["name"];
    auto opt = make(c["optimizer"], c["args"]);
    if (!opt) continue;
    ++ran;
    // A few float32 roundings of parameters of magnitude ~1 (Adafactor's
    // warm-up steps, ~1e-6 each, are checked more closely in test_rules.cpp).
    double rel = c["optimizer"] == "Muon" ? 2e-6 : 5e-7;
    Params p = params;
    for (size_t t = 0; t < grads.size(); ++t) {
      p = opt->apply_gradients(grads[t], p);
      eval_step(p, *opt);
      for (auto& [k, v] : p) {
        ASSERT_EQ(v.dtype(), float32) << name;
        auto got = v.to_vector<float>();
        auto want = c["expected"][t][k].get<std::vector<double>>();
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 2e-7 + rel * std::abs(want[i]))
              << name << " (" << c["reference"] << ") step " << t + 1 << " " << k << "[" << i << "]";
      }
    }
    EXPECT_EQ(opt->step(), int64_t(grads.size()));
  }
  EXPECT_EQ(ran, int(doc["cases"].size()));
  EXPECT_GE(ran, 18);
}
