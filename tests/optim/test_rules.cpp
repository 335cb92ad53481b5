// The optimizers beyond SGD and Adam, rule by rule: Adafactor's slots and its
// warm-up step in closed form, Muon on a parameter of more than 2 dims,
// MultiOptimizer's routing and state, bit-exact resume of each, and the
// arguments each constructor refuses.
#include <gtest/gtest.h>

#include <cmath>

#include "optim_util.h"

using namespace uma;
using namespace uma::optim;
using namespace uma::optim::test;

TEST(OptimAdafactor, FactoredSlotsFollowTheLastTwoAxes) {
  Adafactor opt(std::nullopt, {1e-30f, 1e-3f}, 1.0f, -0.8f, 0.9f);
  opt.init({{"m", zeros({2, 3, 4}, bfloat16)}, {"v", zeros({5})}});
  auto s = opt.state();
  EXPECT_EQ(s.count("learning_rate"), 0u);  // relative step: no rate of its own
  EXPECT_EQ(s.at("m.exp_avg_sq_row").shape(), (Shape{2, 3}));
  EXPECT_EQ(s.at("m.exp_avg_sq_col").shape(), (Shape{2, 4}));
  EXPECT_EQ(s.at("m.exp_avg_sq_row").dtype(), bfloat16);
  EXPECT_EQ(s.at("m.exp_avg").shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(s.at("v.exp_avg_sq").shape(), (Shape{5}));
  EXPECT_EQ(s.at("v.exp_avg").shape(), (Shape{5}));
  EXPECT_EQ(s.count("m.exp_avg_sq"), 0u);
  EXPECT_EQ(s.size(), 6u);  // step + five slots
  Adafactor no_momentum;
  no_momentum.init({{"v", zeros({5})}});
  EXPECT_EQ(no_momentum.state().count("v.exp_avg"), 0u);
}

TEST(OptimAdafactor, WarmupStepsInClosedForm) {
  // From w = 0 without parameter scaling the rate is 1e-6 t. Step 1: beta2 =
  // 1 - 1^-0.8 = 0, so v = g^2 + eps1 and the update is g / |g| (RMS 1, no
  // clipping). Step 2: beta2 = 1 - 2^-0.8, v mixes, the update is clipped to
  // RMS 1 and applied at rate 2e-6.
  Adafactor opt(std::nullopt, {1e-30f, 1e-3f}, 1.0f, -0.8f, std::nullopt, 0.0f, false, true, true);
  std::vector<float> g1{0.5f, -2.0f, 1.5f}, g2{1.0f, 1.0f, -0.25f};
  Params p{{"w", zeros({3})}};
  p = opt.apply_gradients({{"w", array(g1.data(), {3})}}, p);
  auto w1 = p.at("w").to_vector<float>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(w1[i], -1e-6 * (g1[i] > 0 ? 1 : -1), 1e-12) << i;
  p = opt.apply_gradients({{"w", array(g2.data(), {3})}}, p);
  auto w2 = p.at("w").to_vector<float>();
  double beta2 = 1 - std::pow(2.0, -0.8), u[3], sq = 0;
  for (int i = 0; i < 3; ++i) {
    double v = beta2 * (double(g1[i]) * g1[i]) + (1 - beta2) * (double(g2[i]) * g2[i]);
    u[i] = g2[i] / std::sqrt(v);
    sq += u[i] * u[i];
  }
  double clip = std::max(1.0, std::sqrt(sq / 3));
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(w2[i], w1[i] - 2e-6 * u[i] / clip, 1e-11) << i;
}

TEST(OptimMuon, HigherDimsReshapeToRowsAndScaleByTheLastTwo) {
  // A (2, 3, 2) parameter is orthogonalized as (2, 6) and its rate scaled by
  // sqrt(max(1, 3 / 2)).
  Muon opt(0.1f, 0.5f, 0.0f, false, 5);
  auto w = random_array({2, 3, 2}, 5), g = random_array({2, 3, 2}, 6);
  auto out = opt.apply_gradients({{"w", g}}, {{"w", w}}).at("w");
  auto want = w - 0.1 * std::sqrt(1.5) * reshape(newton_schulz5(reshape(0.5 * g, {2, 6}), 5), {2, 3, 2});
  EXPECT_TRUE(allclose(out, want, 1e-6, 1e-7).item<bool>());
  // 1-d parameters take the momentum step unchanged.
  Muon plain(0.1f, 0.5f, 0.0f, false);
  auto b = random_array({4}, 7), gb = random_array({4}, 8);
  auto ob = plain.apply_gradients({{"b", gb}}, {{"b", b}}).at("b");
  EXPECT_TRUE(allclose(ob, b - 0.1 * (0.5 * gb), 1e-6, 1e-7).item<bool>());
  EXPECT_THROW(newton_schulz5(zeros({2, 2, 2}), 5), std::invalid_argument);
}

TEST(OptimMulti, RoutesByFilterAndMatchesSeparateOptimizers) {
  auto is_matrix = [](const std::string& k, const array& g) { return g.ndim() == 2 && k != "model.head"; };
  auto muon = std::make_shared<Muon>(0.02f);
  auto adamw = std::make_shared<AdamW>(1e-2f);
  MultiOptimizer multi({muon, adamw}, {is_matrix});
  Muon muon_alone(0.02f);
  AdamW adamw_alone(1e-2f);

  Params p = start_params(), q = start_params();
  for (int i = 0; i < 3; ++i) {
    p = multi.apply_gradients(grads_of(p), p);
    eval_step(p, multi);
    auto g = grads_of(q);
    Params qm = muon_alone.apply_gradients({{"model.layers.0.w", g.at("model.layers.0.w")}}, q);
    Params qa = adamw_alone.apply_gradients({{"model.layers.0.b", g.at("model.layers.0.b")},
                                             {"model.head", g.at("model.head")}}, q);
    q = qa;
    q.merge(qm);
    eval_step(q, adamw_alone);
  }
  for (auto& [k, v] : q) EXPECT_TRUE(bit_equal(p.at(k), v)) << k;

  auto s = multi.state();
  EXPECT_EQ(s.at("states.0.step").item<int64_t>(), 3);
  EXPECT_EQ(s.count("states.0.model.layers.0.w.v"), 1u);
  EXPECT_EQ(s.count("states.1.model.head.m"), 1u);
  EXPECT_EQ(s.count("states.1.model.layers.0.w.m"), 0u);
  EXPECT_EQ(multi.step(), 3);

  // Every part counts the call, with or without gradients of its own.
  multi.apply_gradients({{"model.head", ones({2, 3})}}, p);
  EXPECT_EQ(muon->step(), 4);
  EXPECT_EQ(adamw->step(), 4);

  multi.set_learning_rate(0.5f);
  EXPECT_EQ(muon->learning_rate(), 0.5f);
  EXPECT_EQ(adamw->learning_rate(), 0.5f);
}

TEST(OptimMulti, StateChecks) {
  MultiOptimizer multi({std::make_shared<SGD>(0.1f, 0.9f), std::make_shared<Adam>(0.1f)},
                       {[](const std::string& k, const array&) { return k == "a"; }});
  Params params{{"a", zeros({2})}, {"b", zeros({3})}};
  multi.init(params);
  auto good = multi.state();
  auto bad = good;
  bad.insert_or_assign("states.2.step", array(int64_t(0)));
  EXPECT_THROW(multi.set_state(bad), std::invalid_argument);
  bad = good;
  bad.insert_or_assign("states.1.b.m", zeros({4}));
  bad.insert_or_assign("states.0.step", array(int64_t(7)));
  try {
    multi.set_state(bad);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[MultiOptimizer::set_state] states.1: [Adam::set_state] 'b.m'", 0), 0u)
        << e.what();
  }
  EXPECT_EQ(multi.step(), 0);  // the first part's step was put back
  EXPECT_NO_THROW(multi.set_state(good));
  EXPECT_THROW(MultiOptimizer({std::make_shared<SGD>(0.1f)}, {[](const std::string&, const array&) { return true; }}),
               std::invalid_argument);
  EXPECT_THROW(MultiOptimizer({}), std::invalid_argument);
}

TEST(OptimRules, ResumeIsBitExact) {
  expect_resume_bit_exact([] { return std::make_unique<RMSprop>(1e-2f); }, 2, 3);
  expect_resume_bit_exact([] { return std::make_unique<Adagrad>(1e-1f); }, 2, 3);
  expect_resume_bit_exact([] { return std::make_unique<AdaDelta>(1.0f); }, 2, 3);
  expect_resume_bit_exact([] { return std::make_unique<Adamax>(1e-2f); }, 2, 3);
  expect_resume_bit_exact([] { return std::make_unique<Lion>(1e-3f, std::array{0.9f, 0.99f}, 0.1f); }, 2, 3);
  expect_resume_bit_exact(
      [] { return std::make_unique<Adafactor>(std::nullopt, std::array{1e-30f, 1e-3f}, 1.0f, -0.8f, 0.9f, 0.01f); },
      2, 3);
  expect_resume_bit_exact([] { return std::make_unique<Muon>(0.02f); }, 2, 3);
  expect_resume_bit_exact(
      [] {
        auto filter = [](const std::string&, const array& g) { return g.ndim() == 2; };
        return std::make_unique<MultiOptimizer>(
            std::vector<std::shared_ptr<Optimizer>>{std::make_shared<Muon>(0.02f),
                                                    std::make_shared<AdamW>(cosine_decay(1e-2f, 10))},
            std::vector<Filter>{filter});
      },
      3, 2);
}

TEST(OptimRules, BadHyperParameters) {
  EXPECT_THROW(RMSprop(0.1f, -0.5f), std::invalid_argument);
  EXPECT_THROW(RMSprop(0.1f, 0.9f, 0.0f), std::invalid_argument);
  EXPECT_THROW(Adagrad(0.1f, 0.0f), std::invalid_argument);
  EXPECT_THROW(AdaDelta(0.1f, -0.1f), std::invalid_argument);
  EXPECT_THROW(AdaDelta(0.1f, 0.9f, 0.0f), std::invalid_argument);
  EXPECT_THROW(Adamax(0.1f, {0.9f, 1.0f}), std::invalid_argument);
  EXPECT_THROW(Lion(0.1f, {1.5f, 0.99f}), std::invalid_argument);
  EXPECT_THROW(Muon(0.1f, 0.95f, 0.0f, true, -1), std::invalid_argument);
  EXPECT_THROW(Adafactor(std::nullopt, {1e-30f, 1e-3f}, 1.0f, -0.8f, std::nullopt, 0.0f, true, false),
               std::invalid_argument);
  EXPECT_THROW(Adafactor(std::nullopt, {1e-30f, 1e-3f}, 0.0f), std::invalid_argument);
  try {
    Adafactor no_rate;
    no_rate.learning_rate();
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "[Adafactor::learning_rate] this optimizer has no learning rate");
  }
}
