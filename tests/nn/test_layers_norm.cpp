// GroupNorm (MLX's and PyTorch's grouping), BatchNorm (training steps with
// running statistics, eval, frozen statistics), InstanceNorm against PyTorch
// goldens; Dropout's training/eval behaviour; Sequential and Identity.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "core/grad_util.h"
#include "uma/nn/containers.h"
#include "uma/nn/dropout.h"
#include "uma/nn/layers.h"
#include "uma/nn/normalization.h"

using namespace uma;
using uma::test::expect_close;
using uma::test::golden;
using uma::test::golden_params;

namespace {

TEST(GroupNorm, MatchesTorchInBothGroupings) {
  nn::GroupNorm mlx_style(3, 6);
  mlx_style.load_weights(golden_params("group_norm_mlx"));
  expect_close(mlx_style(golden("group_norm_mlx.x")), golden("group_norm_mlx.y"), 1e-5, 1e-4, "mlx grouping");
  nn::GroupNorm torch_style(3, 6, 1e-5f, true, true);
  torch_style.load_weights(golden_params("group_norm_torch"));
  expect_close(torch_style(golden("group_norm_torch.x")), golden("group_norm_torch.y"), 1e-5, 1e-4, "torch");
  EXPECT_THROW(nn::GroupNorm(4, 6), std::invalid_argument);
  EXPECT_THROW(torch_style(zeros({2, 5})), std::invalid_argument);
  nn::GroupNorm plain(2, 4, 1e-5f, false);
  EXPECT_TRUE(plain.parameters().empty());
}

TEST(GroupNorm, GradientsByFiniteDifferences) {
  for (bool compat : {false, true}) {
    nn::GroupNorm g(2, 4, 1e-5f, true, compat);
    g.set_dtype(float64);
    // PyTorch's grouping goes through fast::layer_norm, which computes in
    // float32 even for float64 input: wider steps and tolerances there.
    double rtol = compat ? 2e-3 : 1e-6, h = compat ? 1e-3 : 1e-5, jtol = compat ? 1e-5 : 1e-10;
    uma::test::check_grad([&](const array& x) { return g(x); }, uma::test::randn({2, 3, 4}), rtol, h, jtol);
  }
}

TEST(BatchNorm, TrainingStepsAndEvalMatchTorch) {
  nn::BatchNorm bn(4);
  EXPECT_EQ(bn.running_mean->to_vector<float>(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(bn.running_var->to_vector<float>(), std::vector<float>(4, 1.0f));
  bn.load_weights(golden_params("batch_norm"));
  EXPECT_TRUE(bn.training());
  expect_close(bn(golden("batch_norm.x1")), golden("batch_norm.y1"), 1e-5, 1e-4, "step 1");
  expect_close(bn(golden("batch_norm.x2")), golden("batch_norm.y2"), 1e-5, 1e-4, "step 2");
  expect_close(*bn.running_mean, golden("batch_norm.running_mean"), 1e-6, 1e-5, "running_mean");
  expect_close(*bn.running_var, golden("batch_norm.running_var"), 1e-6, 1e-5, "running_var");
  bn.eval();
  expect_close(bn(golden("batch_norm.x3")), golden("batch_norm.y3"), 1e-5, 1e-4, "eval");
  // Eval leaves the statistics as they were.
  expect_close(*bn.running_mean, golden("batch_norm.running_mean"), 1e-6, 1e-5, "running_mean after eval");
}

TEST(BatchNorm, StatisticsAreFrozenParameters) {
  nn::BatchNorm bn(3);
  auto keys = [](const std::map<std::string, array>& m) {
    std::vector<std::string> out;
    for (auto& [k, _] : m) out.push_back(k);
    return out;
  };
  EXPECT_EQ(keys(bn.parameters()), (std::vector<std::string>{"bias", "running_mean", "running_var", "weight"}));
  EXPECT_EQ(keys(bn.trainable_parameters()), (std::vector<std::string>{"bias", "weight"}));
  bn.unfreeze();  // the statistics stay frozen
  EXPECT_EQ(keys(bn.trainable_parameters()), (std::vector<std::string>{"bias", "weight"}));
  bn.freeze();
  EXPECT_TRUE(bn.trainable_parameters().empty());
  nn::BatchNorm plain(3, 1e-5f, 0.1f, false, false);
  EXPECT_TRUE(plain.parameters().empty());
  expect_close(plain(golden("batch_norm_plain.x")), golden("batch_norm_plain.y"), 1e-5, 1e-4, "batch statistics");
  plain.eval();  // without running statistics eval uses the batch's too
  expect_close(plain(golden("batch_norm_plain.x")), golden("batch_norm_plain.y"), 1e-5, 1e-4, "eval, untracked");
  EXPECT_THROW(bn(zeros({1, 3})), std::invalid_argument);  // one value per channel in training
  EXPECT_THROW(bn(zeros({2, 4})), std::invalid_argument);
  EXPECT_THROW(bn(zeros({2, 2, 2, 2, 3})), std::invalid_argument);
}

TEST(BatchNorm, GradientsByFiniteDifferences) {
  nn::BatchNorm bn(3);
  bn.set_dtype(float64);
  uma::test::check_grad([&](const array& x) { return bn(x); }, uma::test::randn({4, 2, 3}));
  bn.eval();
  uma::test::check_grad([&](const array& x) { return bn(x); }, uma::test::randn({4, 2, 3}));
}

TEST(InstanceNorm, MatchesTorch) {
  nn::InstanceNorm n(4, 1e-5f, true);
  n.load_weights(golden_params("instance_norm"));
  expect_close(n(golden("instance_norm.x")), golden("instance_norm.y"), 1e-5, 1e-4);
  EXPECT_THROW(n(zeros({2, 4})), std::invalid_argument);
  EXPECT_TRUE(nn::InstanceNorm(4).parameters().empty());
}

TEST(Dropout, EvalIsIdentityTrainingZeroesAndScales) {
  random::seed(3);
  array x = add(random::uniform({200, 50}), array(1.0f));
  nn::Dropout d(0.25f);
  auto xv = x.to_vector<float>();
  auto yv = d(x).to_vector<float>();
  int zeros_seen = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    if (yv[i] == 0.0f) {
      ++zeros_seen;
    } else {
      EXPECT_NEAR(yv[i], xv[i] / 0.75f, 1e-6f);
    }
  }
  // 10000 draws of p = 0.25: the count is within 5 standard deviations (~43).
  EXPECT_NEAR(zeros_seen, 2500, 220);
  d.eval();
  EXPECT_EQ(d(x).to_vector<float>(), xv);
  EXPECT_EQ(nn::Dropout(0.0f)(x).to_vector<float>(), xv);
  EXPECT_THROW(nn::Dropout(1.0f), std::invalid_argument);
  EXPECT_THROW(nn::Dropout(-0.1f), std::invalid_argument);
}

TEST(Dropout, ChannelDropoutZeroesWholeChannels) {
  random::seed(5);
  array x = add(random::uniform({8, 3, 4, 16}), array(1.0f));
  nn::Dropout2d d(0.5f);
  array y = d(x);
  auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
  int dropped = 0;
  for (int n = 0; n < 8; ++n) {
    for (int c = 0; c < 16; ++c) {
      int zeros_seen = 0;
      for (int s = 0; s < 12; ++s) {
        size_t i = size_t(n) * 192 + size_t(s) * 16 + size_t(c);
        if (yv[i] == 0.0f) ++zeros_seen; else EXPECT_NEAR(yv[i], 2 * xv[i], 1e-6f);
      }
      EXPECT_TRUE(zeros_seen == 0 || zeros_seen == 12) << "channel " << c << " of sample " << n;
      dropped += zeros_seen == 12;
    }
  }
  EXPECT_GT(dropped, 30);  // of 128 channels, ~64 expected
  EXPECT_LT(dropped, 98);
  EXPECT_EQ(d(zeros({3, 4, 16})).shape(), (Shape{3, 4, 16}));  // unbatched
  EXPECT_THROW(d(zeros({4, 16})), std::invalid_argument);
  nn::Dropout3d d3(0.5f);
  EXPECT_THROW(d3(zeros({2, 3, 4})), std::invalid_argument);
  d3.eval();
  array z = random::uniform({2, 2, 2, 2, 3});
  EXPECT_EQ(d3(z).to_vector<float>(), z.to_vector<float>());
}

TEST(Sequential, ComposesLayersAndNamesThemByIndex) {
  auto l0 = std::make_shared<nn::Linear>(3, 4);
  auto l2 = std::make_shared<nn::Linear>(4, 2, false);
  nn::Sequential seq(l0, nn::Sequential::Fn(nn::relu), l2, std::make_shared<nn::Identity>());
  std::vector<std::string> names;
  for (auto& [k, _] : seq.parameters()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.bias", "layers.0.weight", "layers.2.weight"}));
  EXPECT_EQ(seq.size(), 4u);
  seq.update({{"layers.0.weight", uma::test::randn({4, 3}, float32)}, {"layers.2.weight", uma::test::randn({2, 4}, float32)}});
  array x = uma::test::randn({5, 3}, float32);
  expect_close(seq(x), (*l2)(nn::relu((*l0)(x))), 0, 0);
  seq.eval();
  EXPECT_FALSE(l0->training());
}

}  // namespace
