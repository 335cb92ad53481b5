// nn losses against PyTorch goldens (or closed forms where mlx.nn's
// definition differs: tests/fixtures/nn_functions/make_goldens.py) for each
// reduction, in float64 and float32; MLX's documented examples; each loss's
// default reduction; gradients by finite differences and, for cross entropy,
// the closed form softmax - one_hot; bad input.
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/grad_util.h"
#include "nn/nn_golden_util.h"
#include "uma/nn/activations.h"
#include "uma/nn/losses.h"

using namespace uma;
using namespace uma::test;

namespace {

using Inputs = std::map<std::string, array>;
using LossFn = std::function<array(const Inputs&, const nlohmann::json&, const std::string&)>;

// Each golden case by name: the loss with the case's parameters.
const std::map<std::string, LossFn>& loss_cases() {
  static const std::map<std::string, LossFn> cases = {
      {"cross_entropy_indices",
       [](auto& in, auto&, auto& r) {
         return nn::cross_entropy(in.at("logits"), astype(in.at("targets"), int32), std::nullopt, -1, 0.0, r);
       }},
      {"cross_entropy_indices_smoothing",
       [](auto& in, auto& p, auto& r) {
         return nn::cross_entropy(in.at("logits"), astype(in.at("targets"), int32), std::nullopt, -1,
                                  p.at("label_smoothing").template get<double>(), r);
       }},
      {"cross_entropy_indices_weights",
       [](auto& in, auto&, auto& r) {
         return nn::cross_entropy(in.at("logits"), astype(in.at("targets"), int32), in.at("weights"), -1, 0.0, r);
       }},
      {"cross_entropy_probs_axis1",
       [](auto& in, auto& p, auto& r) {
         return nn::cross_entropy(in.at("logits"), in.at("targets"), std::nullopt, p.at("axis").template get<int>(),
                                  p.at("label_smoothing").template get<double>(), r);
       }},
      {"binary_cross_entropy_logits",
       [](auto& in, auto&, auto& r) {
         return nn::binary_cross_entropy(in.at("inputs"), in.at("targets"), in.at("weights"), true, r);
       }},
      {"binary_cross_entropy_probs",
       [](auto& in, auto&, auto& r) {
         return nn::binary_cross_entropy(in.at("inputs"), in.at("targets"), std::nullopt, false, r);
       }},
      {"l1_loss", [](auto& in, auto&, auto& r) { return nn::l1_loss(in.at("predictions"), in.at("targets"), r); }},
      {"mse_loss", [](auto& in, auto&, auto& r) { return nn::mse_loss(in.at("predictions"), in.at("targets"), r); }},
      {"smooth_l1_loss",
       [](auto& in, auto& p, auto& r) {
         return nn::smooth_l1_loss(in.at("predictions"), in.at("targets"), p.at("beta").template get<double>(), r);
       }},
      {"huber_loss",
       [](auto& in, auto& p, auto& r) {
         return nn::huber_loss(in.at("inputs"), in.at("targets"), p.at("delta").template get<double>(), r);
       }},
      {"log_cosh_loss", [](auto& in, auto&, auto& r) { return nn::log_cosh_loss(in.at("inputs"), in.at("targets"), r); }},
      {"nll_loss",
       [](auto& in, auto&, auto& r) { return nn::nll_loss(in.at("inputs"), astype(in.at("targets"), int32), -1, r); }},
      {"kl_div_loss", [](auto& in, auto&, auto& r) { return nn::kl_div_loss(in.at("inputs"), in.at("targets"), -1, r); }},
      {"gaussian_nll_loss",
       [](auto& in, auto&, auto& r) {
         return nn::gaussian_nll_loss(in.at("inputs"), in.at("targets"), in.at("vars"), false, 1e-6, r);
       }},
      {"gaussian_nll_loss_full",
       [](auto& in, auto&, auto& r) {
         return nn::gaussian_nll_loss(in.at("inputs"), in.at("targets"), in.at("vars"), true, 1e-6, r);
       }},
      {"triplet_loss",
       [](auto& in, auto&, auto& r) {
         return nn::triplet_loss(in.at("anchors"), in.at("positives"), in.at("negatives"), -1, 2, 1.0, 1e-6, r);
       }},
      {"triplet_loss_p1",
       [](auto& in, auto& p, auto& r) {
         return nn::triplet_loss(in.at("anchors"), in.at("positives"), in.at("negatives"), -1,
                                 p.at("p").template get<int>(), p.at("margin").template get<double>(), 1e-6, r);
       }},
      {"hinge_loss", [](auto& in, auto&, auto& r) { return nn::hinge_loss(in.at("inputs"), in.at("targets"), r); }},
      {"cosine_similarity_loss",
       [](auto& in, auto&, auto& r) { return nn::cosine_similarity_loss(in.at("x1"), in.at("x2"), 1, 1e-8, r); }},
      {"margin_ranking_loss",
       [](auto& in, auto& p, auto& r) {
         return nn::margin_ranking_loss(in.at("inputs1"), in.at("inputs2"), in.at("targets"),
                                        p.at("margin").template get<double>(), r);
       }},
  };
  return cases;
}

void check_goldens(Dtype dtype, double rtol, double atol) {
  auto& cases = nn_goldens().at("losses");
  ASSERT_EQ(cases.size(), loss_cases().size()) << "every golden has a loss";
  for (auto& c : cases) {
    std::string name = c.at("name");
    ASSERT_TRUE(loss_cases().count(name)) << name;
    Inputs in;
    for (auto& [k, v] : c.at("inputs").items()) in.emplace(k, golden_array(v, dtype));
    for (auto& [r, want] : c.at("expected").items()) {
      array got = loss_cases().at(name)(in, c.at("params"), r);
      EXPECT_EQ(got.dtype(), dtype) << name << " " << r;
      expect_close(got, want, rtol, atol, name + " reduction=" + r);
    }
  }
}

std::vector<float> floats(array a) { return astype(a, float32).to_vector<float>(); }

}  // namespace

TEST(Losses, PytorchGoldensFloat64) { check_goldens(float64, 1e-10, 1e-12); }

TEST(Losses, PytorchGoldensFloat32) { check_goldens(float32, 1e-5, 2e-6); }

TEST(Losses, MlxDocumentedExamples) {
  // The examples in mlx.nn.losses' docstrings.
  array logits = array({2.0f, -1.0f, -1.0f, 2.0f}, {2, 2});
  expect_close(nn::cross_entropy(logits, array({0, 1})), array({0.0485873f, 0.0485873f}), 1e-5, 0, "indices");
  expect_close(nn::cross_entropy(logits, array({0.9f, 0.1f, 0.1f, 0.9f}, {2, 2})), array({0.348587f, 0.348587f}),
               1e-5, 0, "probabilities");
  array bce_logits = array({0.105361f, 0.223144f, 1.20397f, 0.916291f});
  expect_close(nn::binary_cross_entropy(bce_logits, array({0, 0, 1, 1})), array(0.539245f), 1e-5, 0, "bce");
  expect_close(nn::binary_cross_entropy(array({0.1f, 0.1f, 0.4f, 0.4f}), array({0, 0, 1, 1}), std::nullopt, false),
               array(0.510826f), 1e-5, 0, "bce probabilities");
  expect_close(nn::margin_ranking_loss(array({-0.573409f, -0.765166f, -0.0638f}),
                                       array({0.75596f, 0.225763f, 0.256995f}), array({1.0f, 1.0f, -1.0f})),
               array({1.32937f, 0.990929f, 0.0f}), 1e-5, 1e-6, "margin ranking");
}

TEST(Losses, DefaultReductionsAreMlxs) {
  array a = array({0.5f, -1.0f, 2.0f, 0.0f}, {2, 2}), b = array({1.0f, 1.0f, -1.0f, 1.0f}, {2, 2});
  array idx = array({1, 0});
  // "mean" by default: a scalar.
  for (auto& l : {nn::binary_cross_entropy(a, b), nn::l1_loss(a, b), nn::mse_loss(a, b), nn::smooth_l1_loss(a, b),
                  nn::gaussian_nll_loss(a, b, abs(b))}) {
    EXPECT_EQ(l.ndim(), 0);
  }
  // "none" by default: one per element (per row for the distribution losses).
  EXPECT_EQ(nn::cross_entropy(a, idx).shape(), Shape{2});
  EXPECT_EQ(nn::nll_loss(a, idx).shape(), Shape{2});
  EXPECT_EQ(nn::kl_div_loss(a, b).shape(), Shape{2});
  EXPECT_EQ(nn::triplet_loss(a, b, a).shape(), Shape{2});
  EXPECT_EQ(nn::cosine_similarity_loss(a, b).shape(), Shape{2});
  for (auto& l : {nn::hinge_loss(a, b), nn::huber_loss(a, b), nn::log_cosh_loss(a, b),
                  nn::margin_ranking_loss(a, b, b)}) {
    EXPECT_EQ(l.shape(), (Shape{2, 2}));
  }
}

TEST(Losses, CrossEntropyIndicesEqualOneHotAndGradientIsSoftmaxMinusOneHot) {
  // (B, T, V) logits and int32 targets, as a language-model trainer has them.
  array logits = randn({2, 3, 7});
  array targets = array({0, 6, 3, 2, 2, 5}, {2, 3});
  array one_hot = astype(equal(expand_dims(targets, -1), arange(7)), float64);
  expect_close(nn::cross_entropy(logits, targets), nn::cross_entropy(logits, one_hot), 1e-12, 1e-12, "one-hot");
  expect_close(nn::cross_entropy(logits, targets, std::nullopt, -1, 0.3),
               nn::cross_entropy(logits, one_hot * 0.7 + 0.3 / 7), 1e-12, 1e-12, "smoothing as mixed targets");
  // Masked: d sum(w * loss) / d logits = w (softmax - one_hot).
  array mask = array({1.0, 0.0, 1.0, 1.0, 1.0, 0.0}, {2, 3});
  auto g = uma::grad([&](const array& l) { return nn::cross_entropy(l, targets, mask, -1, 0.0, "sum"); })(logits);
  expect_close(g, expand_dims(mask, -1) * (nn::softmax(logits) - one_hot), 1e-12, 1e-12, "gradient");
  // Class axis elsewhere: the same as moving it last.
  array moved = moveaxis(logits, -1, 1);
  expect_close(nn::cross_entropy(moved, targets, std::nullopt, 1), nn::cross_entropy(logits, targets), 1e-12, 1e-12,
               "axis 1");
}

TEST(Losses, GradientsByFiniteDifferences) {
  array t = randn({3, 4}), v = abs(randn({3, 4})) + 0.1, n = randn({3, 4});
  array idx = array({1, 3, 0}), signs = array({1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0}, {3, 4});
  array probs = nn::softmax(randn({3, 4}), -1), bits = astype(randn({3, 4}) > 0.0, float64);
  std::map<std::string, UnaryFn> fns = {
      {"cross_entropy", [&](auto& x) { return nn::cross_entropy(x, idx, std::nullopt, -1, 0.1); }},
      {"cross_entropy_probs", [&](auto& x) { return nn::cross_entropy(x, probs, std::nullopt, 0); }},
      {"binary_cross_entropy", [&](auto& x) { return nn::binary_cross_entropy(x, bits, std::nullopt, true, "none"); }},
      {"binary_cross_entropy_probs",
       [&](auto& x) { return nn::binary_cross_entropy(nn::sigmoid(x), bits, std::nullopt, false, "sum"); }},
      {"mse_loss", [&](auto& x) { return nn::mse_loss(x, t, "none"); }},
      {"nll_loss", [&](auto& x) { return nn::nll_loss(x, idx, -1, "mean"); }},
      {"gaussian_nll_loss", [&](auto& x) { return nn::gaussian_nll_loss(t, n, x * x + 0.1, true); }},
      {"kl_div_loss", [&](auto& x) { return nn::kl_div_loss(x, nn::log_softmax(t)); }},
      {"kl_div_loss_targets", [&](auto& x) { return nn::kl_div_loss(t, nn::log_softmax(x)); }},
      {"triplet_loss", [&](auto& x) { return nn::triplet_loss(x, t, n, -1, 2, 5.0); }},
      {"triplet_loss_p3", [&](auto& x) { return nn::triplet_loss(x, t, n, 0, 3, 5.0); }},
      {"huber_loss", [&](auto& x) { return nn::huber_loss(x, t, 0.8); }},
      {"log_cosh_loss", [&](auto& x) { return nn::log_cosh_loss(x, t); }},
      {"cosine_similarity_loss", [&](auto& x) { return nn::cosine_similarity_loss(x, t); }},
      {"margin_ranking_loss", [&](auto& x) { return nn::margin_ranking_loss(x, t, signs, 3.0); }},
      {"hinge_loss", [&](auto& x) { return nn::hinge_loss(x * 0.01, signs); }},
  };
  for (auto& [name, f] : fns) {
    SCOPED_TRACE(name);
    check_grad(f, randn({3, 4}), 1e-6);
  }
}

TEST(Losses, KinkedLossesHaveTheOneSidedGradients) {
  // l1' = sign(d) / n, smooth_l1' = d / beta inside and sign(d) outside.
  array p = array({0.2, -3.0, 1.5, -0.1}), t = zeros({4}, float64);
  auto g_l1 = uma::grad([&](const array& x) { return nn::l1_loss(x, t); })(p);
  expect_close(g_l1, array({0.25, -0.25, 0.25, -0.25}), 1e-15, 0, "l1'");
  auto g_s = uma::grad([&](const array& x) { return nn::smooth_l1_loss(x, t, 0.5, "sum"); })(p);
  expect_close(g_s, array({0.4, -1.0, 1.0, -0.2}), 1e-15, 0, "smooth_l1'");
}

TEST(Losses, LargeLogitsStayFinite) {
  array logits = array({1000.0f, -1000.0f, 0.0f, 80.0f, 90.0f, 100.0f}, {2, 3});
  auto ce = floats(nn::cross_entropy(logits, array({0, 2})));
  EXPECT_NEAR(ce[0], 0.0f, 1e-6);
  EXPECT_NEAR(ce[1], std::log1p(std::exp(-10.0) + std::exp(-20.0)), 1e-5);
  auto bce = floats(nn::binary_cross_entropy(array({200.0f, -200.0f}), array({0.0f, 0.0f}), std::nullopt, true,
                                             "none"));
  EXPECT_EQ(bce, (std::vector<float>{200.0f, 0.0f}));
  // Probabilities of exactly 0 and 1: the logs are clipped at -100.
  auto clipped = floats(nn::binary_cross_entropy(array({0.0f, 1.0f}), array({1.0f, 0.0f}), std::nullopt, false,
                                                 "none"));
  EXPECT_EQ(clipped, (std::vector<float>{100.0f, 100.0f}));
  EXPECT_NEAR(floats(nn::log_cosh_loss(array({500.0f}), array({0.0f})))[0], 500.0f - std::log(2.0f), 1e-3);
}

TEST(Losses, BadInput) {
  auto starts_with = [](const std::function<void()>& f, const std::string& prefix, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no throw for " << prefix;
    } catch (const std::invalid_argument& e) {
      std::string m = e.what();
      EXPECT_EQ(m.rfind(prefix, 0), 0u) << m;
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  array l = zeros({2, 3}), idx = array({0, 1});
  starts_with([&] { nn::cross_entropy(l, idx, std::nullopt, -1, 0.0, "avg"); }, "[cross_entropy]", "'avg'");
  starts_with([&] { nn::cross_entropy(l, array({0, 1, 2})); }, "[cross_entropy]", "(3)");
  starts_with([&] { nn::cross_entropy(l, zeros({2, 4})); }, "[cross_entropy]", "(2,4)");
  starts_with([&] { nn::cross_entropy(l, zeros({2})); }, "[cross_entropy]", "integers");
  starts_with([&] { nn::cross_entropy(l, idx, std::nullopt, -1, 1.0); }, "[cross_entropy]", "label_smoothing");
  starts_with([&] { nn::cross_entropy(l, idx, zeros({3})); }, "[cross_entropy]", "weights shape (3)");
  starts_with([&] { nn::cross_entropy(l, idx, std::nullopt, 2); }, "[cross_entropy]", "axis");
  starts_with([&] { nn::binary_cross_entropy(l, zeros({3, 2})); }, "[binary_cross_entropy]", "(3,2)");
  starts_with([&] { nn::mse_loss(l, zeros({3})); }, "[mse_loss]", "(3)");
  starts_with([&] { nn::l1_loss(l, l, "mean "); }, "[l1_loss]", "reduction");
  starts_with([&] { nn::nll_loss(l, array({0, 1, 1})); }, "[nll_loss]", "(3)");
  starts_with([&] { nn::gaussian_nll_loss(l, l, zeros({2})); }, "[gaussian_nll_loss]", "vars");
  starts_with([&] { nn::triplet_loss(l, l, l, -1, 0); }, "[triplet_loss]", "p must");
  starts_with([&] { nn::margin_ranking_loss(l, l, zeros({6})); }, "[margin_ranking_loss]", "targets");
  starts_with([&] { nn::huber_loss(l, l, 1.0, "max"); }, "[huber_loss]", "'max'");
}
