// RNN (tanh, relu), GRU and LSTM against PyTorch with the weights loaded by
// MLX's names (Wxh/Whh/bias, Wx/Wh/b/bhn, Wx/Wh/bias), with and without an
// initial state, batched and not; gradients by finite differences.
#include <gtest/gtest.h>

#include "golden_util.h"
#include "core/grad_util.h"
#include "uma/nn/layers.h"
#include "uma/nn/recurrent.h"

using namespace uma;
using uma::test::expect_close;
using uma::test::golden;
using uma::test::golden_params;

namespace {

TEST(RNN, MatchesTorch) {
  array x = golden("rnn_in.x"), h0 = golden("rnn_in.h0");
  nn::RNN a(3, 4);
  a.load_weights(golden_params("rnn_tanh"));
  expect_close(a(x), golden("rnn_tanh.y"), 1e-5, 1e-4, "tanh");
  expect_close(a(x, h0), golden("rnn_tanh.y_h0"), 1e-5, 1e-4, "tanh, h0");
  nn::RNN b(3, 4, true, nn::relu);
  b.load_weights(golden_params("rnn_relu"));
  expect_close(b(x), golden("rnn_relu.y"), 1e-5, 1e-4, "relu");
  expect_close(b(x, h0), golden("rnn_relu.y_h0"), 1e-5, 1e-4, "relu, h0");
  EXPECT_THROW(a(zeros({2, 5, 4})), std::invalid_argument);
  EXPECT_THROW(a(x, zeros({2, 3})), std::invalid_argument);
}

TEST(GRU, MatchesTorch) {
  array x = golden("rnn_in.x");
  nn::GRU g(3, 4);
  g.load_weights(golden_params("gru"));
  expect_close(g(x), golden("gru.y"), 1e-5, 1e-4, "no state");
  expect_close(g(x, golden("rnn_in.h0")), golden("gru.y_h0"), 1e-5, 1e-4, "h0");
  expect_close(g(take(x, 0, 0)), golden("gru.y_unbatched"), 1e-5, 1e-4, "unbatched");
}

TEST(LSTM, MatchesTorch) {
  array x = golden("rnn_in.x");
  nn::LSTM l(3, 4);
  l.load_weights(golden_params("lstm"));
  auto [h, c] = l(x);
  expect_close(h, golden("lstm.y"), 1e-5, 1e-4, "hidden");
  expect_close(c, golden("lstm.c"), 1e-5, 1e-4, "cell");
  auto [hs, cs] = l(x, golden("rnn_in.h0"), golden("rnn_in.c0"));
  expect_close(hs, golden("lstm.y_state"), 1e-5, 1e-4, "hidden from a state");
  expect_close(cs, golden("lstm.c_state"), 1e-5, 1e-4, "cell from a state");
}

TEST(Recurrent, NamesShapesAndInit) {
  auto names = [](const nn::Module& m) {
    std::vector<std::string> out;
    for (auto& [k, _] : m.parameters()) out.push_back(k);
    return out;
  };
  EXPECT_EQ(names(nn::RNN(3, 4)), (std::vector<std::string>{"Whh", "Wxh", "bias"}));
  EXPECT_EQ(names(nn::GRU(3, 4)), (std::vector<std::string>{"Wh", "Wx", "b", "bhn"}));
  EXPECT_EQ(names(nn::LSTM(3, 4)), (std::vector<std::string>{"Wh", "Wx", "bias"}));
  EXPECT_EQ(names(nn::GRU(3, 4, false)), (std::vector<std::string>{"Wh", "Wx"}));
  nn::LSTM l(3, 16);
  EXPECT_EQ(l.Wx.shape(), (Shape{64, 3}));
  auto w = l.Wh.to_vector<float>();
  float mx = 0;
  for (float v : w) mx = std::max(mx, std::abs(v));
  EXPECT_LE(mx, 0.25f);  // 1 / sqrt(16)
  EXPECT_GT(mx, 0.2f);
}

TEST(Recurrent, GradientsByFiniteDifferences) {
  array h0 = uma::test::randn({2, 3});
  nn::GRU g(2, 3);
  g.set_dtype(float64);
  uma::test::check_grad([&](const array& x) { return g(x, h0); }, uma::test::randn({2, 4, 2}));
  nn::LSTM l(2, 3, false);
  l.set_dtype(float64);
  array x = uma::test::randn({2, 3, 2});
  uma::test::check_grad(
      [&](const array& w) {
        l.update({{"Wh", w}});
        return l(x, h0).second;
      },
      uma::test::randn({12, 3}));
  nn::RNN r(2, 3);
  r.set_dtype(float64);
  uma::test::check_grad([&](const array& h) { return r(x, h); }, uma::test::randn({2, 3}));
}

}  // namespace
