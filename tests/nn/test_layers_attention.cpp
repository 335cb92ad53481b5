// MultiHeadAttention and Transformer (pre- and post-norm) against PyTorch
// with the weights loaded by MLX's names; the causal mask; RoPE, the
// sinusoidal encoding and ALiBi against their formulas (evaluated by
// PyTorch in float64); gradients by finite differences.
#include <gtest/gtest.h>

#include <cfloat>

#include "golden_util.h"
#include "core/grad_util.h"
#include "uma/nn/positional_encoding.h"
#include "uma/nn/transformer.h"

using namespace uma;
using uma::test::expect_close;
using uma::test::golden;
using uma::test::golden_params;

namespace {

TEST(MultiHeadAttention, MatchesTorch) {
  nn::MultiHeadAttention mha(8, 2, 0, 0, 0, 0, 0, true);
  mha.load_weights(golden_params("mha"));
  array q = golden("mha.q"), kv = golden("mha.kv");
  expect_close(mha(q, kv, kv), golden("mha.y"), 1e-5, 1e-4, "no mask");
  expect_close(mha(q, kv, kv, golden("mha.mask")), golden("mha.y_masked"), 1e-5, 1e-4, "additive mask");
  EXPECT_THROW(mha(q, kv, golden("mha.q")), std::invalid_argument);  // keys and values of different lengths
}

TEST(MultiHeadAttention, DefaultsAndNames) {
  nn::MultiHeadAttention a(8, 2);
  std::vector<std::string> names;
  for (auto& [k, _] : a.parameters()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"key_proj.weight", "out_proj.weight", "query_proj.weight",
                                             "value_proj.weight"}));  // no biases by default
  nn::MultiHeadAttention b(8, 2, 3, 5, 0, 4, 7);
  EXPECT_EQ(b.query_proj->weight.shape(), (Shape{8, 3}));
  EXPECT_EQ(b.key_proj->weight.shape(), (Shape{8, 5}));
  EXPECT_EQ(b.value_proj->weight.shape(), (Shape{4, 5}));  // value input defaults to the key input
  EXPECT_EQ(b.out_proj->weight.shape(), (Shape{7, 4}));
  EXPECT_EQ(b(zeros({1, 2, 3}), zeros({1, 4, 5}), zeros({1, 4, 5})).shape(), (Shape{1, 2, 7}));
  // MLX's Linear init: uniform in +-sqrt(1 / in).
  auto w = a.query_proj->weight.to_vector<float>();
  float mx = 0;
  for (float v : w) mx = std::max(mx, std::abs(v));
  EXPECT_LE(mx, std::sqrt(1.0f / 8));
  EXPECT_GT(mx, 0.25f);
  EXPECT_THROW(nn::MultiHeadAttention(7, 2), std::invalid_argument);
}

TEST(MultiHeadAttention, AdditiveCausalMask) {
  array m = nn::MultiHeadAttention::create_additive_causal_mask(3);
  EXPECT_EQ(m.shape(), (Shape{3, 3}));
  auto v = m.to_vector<float>();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(v[size_t(i * 3 + j)], j > i ? -FLT_MAX : 0.0f) << i << "," << j;
  }
  EXPECT_EQ(nn::MultiHeadAttention::create_additive_causal_mask(2, bfloat16).dtype(), bfloat16);
}

TEST(MultiHeadAttention, GradientsByFiniteDifferences) {
  nn::MultiHeadAttention mha(4, 2, 0, 0, 0, 0, 0, true);
  mha.set_dtype(float64);
  array kv = uma::test::randn({1, 3, 4});
  // fast::scaled_dot_product_attention computes in float32: wide steps.
  uma::test::check_grad([&](const array& q) { return mha(q, kv, kv); }, uma::test::randn({1, 2, 4}), 2e-3, 1e-3,
                        1e-5);
}

void check_transformer(const std::string& c, bool norm_first) {
  nn::Transformer t(8, 2, 2, 2, 16, 0.0f, nn::relu, norm_first);
  t.load_weights(golden_params(c));  // strict: every MLX name present, nothing else
  t.eval();
  array src = golden(c + ".src"), tgt = golden(c + ".tgt");
  expect_close((*t.encoder)(src, std::nullopt), golden(c + ".memory"), 1e-5, 1e-4, c + " encoder");
  array mask = nn::MultiHeadAttention::create_additive_causal_mask(4);
  expect_close(t(src, tgt, std::nullopt, mask, std::nullopt), golden(c + ".y"), 1e-5, 1e-4, c);
}

TEST(Transformer, PreNormMatchesTorch) { check_transformer("transformer_pre", true); }
TEST(Transformer, PostNormMatchesTorch) { check_transformer("transformer_post", false); }

TEST(Transformer, DropoutOnlyInTraining) {
  random::seed(11);
  nn::TransformerEncoder enc(1, 8, 2, 16, 0.5f);
  array x = uma::test::randn({1, 4, 8}, float32);
  auto a = enc(x, std::nullopt).to_vector<float>(), b = enc(x, std::nullopt).to_vector<float>();
  EXPECT_NE(a, b);  // fresh masks each call
  enc.eval();
  EXPECT_FALSE(enc.layers[0]->dropout1->training());
  EXPECT_EQ(enc(x, std::nullopt).to_vector<float>(), enc(x, std::nullopt).to_vector<float>());
  EXPECT_THROW(enc(zeros({4, 8}), std::nullopt), std::invalid_argument);
}

TEST(RoPE, MatchesFormula) {
  array x = golden("rope.x");
  expect_close(nn::RoPE(8)(x), golden("rope.y"), 1e-5, 1e-4, "halves");
  expect_close(nn::RoPE(6, true, 500.0f, 0.5f)(x, 3), golden("rope.y_trad_partial"), 1e-5, 1e-4, "traditional");
  EXPECT_TRUE(nn::RoPE(8).parameters().empty());
  EXPECT_THROW(nn::RoPE(5), std::invalid_argument);
  EXPECT_THROW(nn::RoPE(16)(x), std::invalid_argument);
}

TEST(SinusoidalPositionalEncoding, MatchesFormula) {
  array x = golden("sinusoidal.x");
  expect_close(nn::SinusoidalPositionalEncoding(8)(x), golden("sinusoidal.y"), 1e-6, 1e-5, "default");
  expect_close(nn::SinusoidalPositionalEncoding(6, 1e-3f, 2.0f, 1.0f, true, true)(x),
               golden("sinusoidal.y_cos_turns"), 1e-5, 1e-5, "cos first, full turns");
  EXPECT_TRUE(nn::SinusoidalPositionalEncoding(8).parameters().empty());
  EXPECT_THROW(nn::SinusoidalPositionalEncoding(7), std::invalid_argument);
}

TEST(ALiBi, MatchesFormula) {
  nn::ALiBi alibi;
  for (int h : {4, 6}) {
    std::string c = "alibi" + std::to_string(h);
    expect_close(alibi(golden(c + ".scores"), 2), golden(c + ".y"), 1e-6, 1e-5, c);
  }
  // Slopes for 8 heads: 2^-1 ... 2^-8.
  auto s = nn::ALiBi::create_alibi_slope(8).to_vector<float>();
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(s[size_t(i)], std::pow(2.0f, -float(i + 1)));
  array scores = zeros({1, 2, 2, 2});
  array mask = array({0.0f, -1.0f, -2.0f, -3.0f}, {2, 2});
  auto with = alibi(scores, 0, mask).to_vector<float>(), without = alibi(scores).to_vector<float>();
  for (size_t i = 0; i < with.size(); ++i) EXPECT_FLOAT_EQ(with[i], without[i] - float(i % 4));
  EXPECT_THROW(alibi(zeros({2, 2})), std::invalid_argument);
}

}  // namespace
