// Optimizer state: its layout (keys, dtypes), save/load through safetensors
// and a resumed run equal bit for bit to an uninterrupted one; set_state's
// checks; apply_gradients' rules (subsets, missing keys, shapes); update()
// of a Module; learning rates set and scheduled.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "optim_util.h"
#include "uma/nn/layers.h"

using namespace uma;
using namespace uma::optim;
using namespace uma::optim::test;

TEST(OptimState, KeysAndDtypesFollowParameters) {
  AdamW opt(1e-3f);
  auto params = start_params(bfloat16);
  opt.init(params);
  auto s = opt.state();
  ASSERT_EQ(s.size(), 2 + 2 * params.size());
  EXPECT_EQ(s.at("step").dtype(), int64);
  EXPECT_EQ(s.at("step").ndim(), 0u);
  EXPECT_EQ(s.at("step").item<int64_t>(), 0);
  EXPECT_FLOAT_EQ(s.at("learning_rate").item<float>(), 1e-3f);
  for (auto& [k, p] : params)
    for (auto slot : {".m", ".v"}) {
      auto& a = s.at(k + slot);
      EXPECT_EQ(a.dtype(), bfloat16) << k;
      EXPECT_EQ(a.shape(), p.shape()) << k;
    }
  EXPECT_EQ(opt.state_arrays().size(), 2 * params.size());
}

TEST(OptimState, ResumeIsBitExact) {
  expect_resume_bit_exact([] { return std::make_unique<AdamW>(cosine_decay(1e-2f, 10)); }, 3, 4);
  expect_resume_bit_exact([] { return std::make_unique<Adam>(5e-3f, std::array{0.8f, 0.99f}, 1e-8f, true); }, 2, 3);
  expect_resume_bit_exact([] { return std::make_unique<SGD>(0.05f, 0.9f, 0.01f, 0.0f, true); }, 3, 3);
}

TEST(OptimState, ResumeWithoutStateDiffers) {
  // The control for the test above: a fresh optimizer from the same point
  // does not reproduce the run, so equality there means the state carried.
  auto make = [] { return std::make_unique<Adam>(1e-2f); };
  auto a = make(), b = make();
  Params p = start_params(), q = start_params();
  for (int i = 0; i < 3; ++i) {
    p = a->apply_gradients(grads_of(p), p);
    eval_step(p, *a);
  }
  q = p;
  p = a->apply_gradients(grads_of(p), p);
  q = b->apply_gradients(grads_of(q), q);
  eval_step(p, *a);
  eval_step(q, *b);
  EXPECT_FALSE(bit_equal(p.at("model.head"), q.at("model.head")));
}

TEST(OptimState, SavedFileHoldsTheState) {
  SGD opt(0.1f, 0.9f);
  auto p = start_params();
  p = opt.apply_gradients(grads_of(p), p);
  eval_step(p, opt);
  auto path = temp_path("state.safetensors");
  opt.save_state(path);
  auto [loaded, meta] = load_safetensors(path);
  std::filesystem::remove(path);
  auto s = opt.state();
  ASSERT_EQ(loaded.size(), s.size());
  for (auto& [k, v] : s) EXPECT_TRUE(bit_equal(loaded.at(k), v)) << k;
  EXPECT_EQ(loaded.at("step").item<int64_t>(), 1);
  // One SGD step from v = 0: v = g.
  auto g = grads_of(start_params());
  EXPECT_TRUE(bit_equal(loaded.at("model.head.v"), g.at("model.head")));
}

TEST(OptimState, SetStateChecks) {
  Adam opt(1e-3f);
  auto params = start_params();
  opt.init(params);
  auto good = opt.state();
  auto without = [&](const std::string& k) {
    auto s = good;
    s.erase(k);
    return s;
  };
  auto expect_error = [&](const Params& s, const std::string& needle) {
    try {
      opt.set_state(s);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("[Adam::set_state]", 0), 0u) << e.what();
    }
  };
  expect_error(without("step"), "missing 'step'");
  auto s = good;
  s.insert_or_assign("step", array(1.5f));
  expect_error(s, "'step' must be an integer scalar");
  s = good;
  s.insert_or_assign("model.head.q", zeros({2, 3}));
  expect_error(s, "unexpected key 'model.head.q'");
  s = good;
  s.insert_or_assign("model.head.m", zeros({3, 2}));
  expect_error(s, "'model.head.m' is float32(3, 2), expected float32(2, 3)");
  s = good;
  s.insert_or_assign("model.head.m", zeros({2, 3}, float16));
  expect_error(s, "expected float32(2, 3)");
  expect_error(without("model.head.v"), "parameter 'model.head' lacks slot 'v'");
  // A failed set_state leaves the optimizer as it was.
  EXPECT_EQ(opt.state().size(), good.size());
  EXPECT_NO_THROW(opt.set_state(good));
}

TEST(OptimState, LoadedStateOfUnseenParameterIsCheckedOnFirstUse) {
  Adam opt(1e-3f);
  auto params = start_params();
  opt.set_state({{"step", array(int64_t(4))},
                 {"model.head.m", zeros({3, 3})},
                 {"model.head.v", zeros({3, 3})}});
  EXPECT_EQ(opt.step(), 4);
  Params g{{"model.head", ones({2, 3})}};
  try {
    opt.apply_gradients(g, params);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[Adam::apply_gradients] loaded state: 'model.head.m' is float32(3, 3), expected float32(2, 3)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(opt.step(), 4);  // nothing counted
  opt.set_state({{"step", array(int64_t(4))}, {"model.head.m", zeros({2, 3})}});
  EXPECT_THROW(opt.apply_gradients(g, params), std::invalid_argument);  // lacks 'v'
}

TEST(OptimState, LoadStateOfMissingFileThrows) {
  SGD opt(0.1f);
  EXPECT_THROW(opt.load_state(temp_path("does_not_exist.safetensors")), std::invalid_argument);
}

TEST(OptimApply, SubsetOfParametersAndErrors) {
  SGD opt(0.5f);
  auto params = start_params();
  Params g{{"model.head", ones({2, 3})}};
  auto out = opt.apply_gradients(g, params);
  ASSERT_EQ(out.size(), 1u);
  auto want = params.at("model.head").to_vector<float>();
  auto got = out.at("model.head").to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i] - 0.5f);
  EXPECT_EQ(opt.state().count("model.layers.0.w.v"), 0u);  // state only for what was seen

  try {
    opt.apply_gradients({{"model.tail", ones({2})}}, params);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "[SGD::apply_gradients] gradient 'model.tail' has no parameter");
  }
  try {
    opt.apply_gradients({{"model.head", ones({3, 2})}}, params);
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "[SGD::apply_gradients] gradient 'model.head' has shape (3, 2), parameter (2, 3)");
  }
  EXPECT_EQ(opt.step(), 1);
}

TEST(OptimApply, UpdatesAModule) {
  nn::Linear lin(3, 2);
  auto before = lin.parameters();
  Params grads;
  for (auto& [k, p] : before) grads.emplace(k, full_like(p, 2.0));
  SGD opt(0.25f);
  opt.update(lin, grads);
  auto after = lin.parameters();
  ASSERT_EQ(after.size(), before.size());
  for (auto& [k, p] : before) {
    auto want = p.to_vector<float>();
    auto got = after.at(k).to_vector<float>();
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i] - 0.5f) << k;
  }
}

TEST(OptimApply, LearningRateScheduleAndSetter) {
  // w' = w - lr_k g with lr_k = schedule(k), k the updates done before.
  auto sched = [](int64_t step) { return 0.5f / float(step + 1); };
  SGD opt(sched);
  Params p{{"x", array({1.0f})}};
  Params g{{"x", array({1.0f})}};
  float want = 1.0f;
  for (int k = 0; k < 4; ++k) {
    EXPECT_FLOAT_EQ(opt.learning_rate(), sched(k));
    p = opt.apply_gradients(g, p);
    want -= sched(k);
    EXPECT_FLOAT_EQ(p.at("x").to_vector<float>()[0], want);
  }
  opt.set_learning_rate(0.25f);
  EXPECT_EQ(opt.learning_rate(), 0.25f);
  p = opt.apply_gradients(g, p);
  EXPECT_FLOAT_EQ(p.at("x").to_vector<float>()[0], want - 0.25f);
  // A saved fixed rate comes back with the state.
  auto s = opt.state();
  SGD other(1.0f);
  other.set_state(s);
  EXPECT_EQ(other.learning_rate(), 0.25f);
  EXPECT_EQ(other.step(), 5);
}

TEST(OptimApply, OptimizersMoveWithTheirState) {
  static_assert(std::is_move_constructible_v<AdamW> && std::is_move_assignable_v<AdamW>);
  static_assert(!std::is_copy_constructible_v<AdamW>);
  AdamW a(1e-2f);
  auto p = start_params();
  p = a.apply_gradients(grads_of(p), p);
  eval_step(p, a);
  AdamW b = std::move(a);
  EXPECT_EQ(b.step(), 1);
  EXPECT_EQ(b.state().size(), 2 + 2 * p.size());
}

TEST(OptimApply, BadHyperParameters) {
  EXPECT_THROW(SGD(0.1f, 0.0f, 0.0f, 0.0f, true), std::invalid_argument);  // nesterov without momentum
  EXPECT_THROW(SGD(0.1f, 0.9f, 0.0f, 0.1f, true), std::invalid_argument);  // nesterov with dampening
  EXPECT_THROW(Adam(0.1f, {1.0f, 0.999f}), std::invalid_argument);
  EXPECT_THROW(AdamW(0.1f, {0.9f, -0.1f}), std::invalid_argument);
  EXPECT_THROW(Adam(0.1f, {0.9f, 0.999f}, -1.0f), std::invalid_argument);
}
