// The quantized KV cache (--kv-bits): the cache holds exactly what
// quantize() makes of the keys and values; attention over it equals
// dequantize-then-attention; maybe_quantize_kv_cache converts at
// quantized_kv_start as mlx-lm's does; and generation stays within stated
// bounds of the float cache.
#include <gtest/gtest.h>

#include "core/quantized_util.h"
#include "lm/kv_test_util.h"
#include "lm/model_util.h"
#include "uma/core/fast.h"
#include "uma/lm/attention.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"

using namespace uma;
using namespace uma::lm;
using uma::test::feed;
using uma::test::rel_err;
using uma::test::token_ids;

namespace {

array rnd(const Shape& s, uint64_t seed) { return random::normal(s, float32, 0.0f, 1.0f, random::key(seed)); }

void expect_equal_bits(const array& a, const array& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_TRUE(array_equal(a, b).item<bool>()) << what;
}

// Attention over dequantized keys/values with the ops-composed reference.
array reference_attention(const array& q, const QuantizedKVCache::Triple& k, const QuantizedKVCache::Triple& v,
                          float scale, const AttentionMask& m, int group, int bits) {
  array kd = dequantize(k[0], k[1], k[2], group, bits), vd = dequantize(v[0], v[1], v[2], group, bits);
  return fast::scaled_dot_product_attention_reference(q, kd, vd, scale, m.mode, m.mask);
}

}  // namespace

// Quantized attention (quantized_matmul on the packed cache) against
// attention on the dequantized cache: both float32, so they differ only by
// summation order (bound 1e-5 relative).
TEST(QuantizedAttention, EqualsDequantizeThenAttention) {
  test::Float32QmmScope exact;  // structure; the int8 default's error is the bound tests' below
  struct Case {
    int L, S, group, bits;
    AttentionMask mask;
  };
  std::vector<Case> cases = {
      {1, 9, 64, 8, AttentionMask::none()},
      {5, 9, 64, 4, AttentionMask::causal()},
      {5, 5, 32, 3, AttentionMask::causal()},
      {3, 7, 128, 6, {"", create_causal_mask(3, 4, 5)}},  // a sliding-window mask
      {1, 6, 64, 2, {"", greater_equal(arange(0, 6), array(2))}},  // a rotating cache's 1-d mask
  };
  for (auto& c : cases) {
    SCOPED_TRACE("L=" + std::to_string(c.L) + " S=" + std::to_string(c.S) + " bits=" + std::to_string(c.bits));
    int D = 128;
    array q = rnd({1, 4, c.L, D}, 1), k = rnd({1, 2, c.S, D}, 2), v = rnd({1, 2, c.S, D}, 3);
    auto qk = quantize(k, c.group, c.bits), qv = quantize(v, c.group, c.bits);
    float scale = 1.0f / std::sqrt(float(D));
    array got = quantized_attention(q, qk, qv, scale, c.mask, c.group, c.bits);
    array want = reference_attention(q, qk, qv, scale, c.mask, c.group, c.bits);
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_LE(rel_err(got, want), 1e-5);
  }
}

// Gemma 2's soft-capped scores on the quantized path against the float
// soft-capped attention on the dequantized cache.
TEST(QuantizedAttention, SoftcapEqualsDequantizedSoftcap) {
  test::Float32QmmScope exact;  // structure; the int8 default's error is the bound tests' below
  array q = rnd({1, 4, 4, 64}, 4), k = rnd({1, 2, 6, 64}, 5), v = rnd({1, 2, 6, 64}, 6);
  auto qk = quantize(k, 64, 8), qv = quantize(v, 64, 8);
  array got = quantized_attention(q, qk, qv, 0.5f, AttentionMask::causal(), 64, 8, 5.0f);
  array want = softcapped_attention(q, dequantize(qk[0], qk[1], qk[2], 64, 8), dequantize(qv[0], qv[1], qv[2], 64, 8),
                                    0.5f, 5.0f, AttentionMask::causal());
  EXPECT_LE(rel_err(got, want), 1e-5);
}

// Chunks of 3, 1 and 300 tokens: the cache holds quantize() of all of them
// bit for bit, grows as mlx-lm's (256 positions; then the 4 held plus
// ceil(300 / 256) * 256 = 512 new ones: 516) and trims.
TEST(QuantizedKVCache, HoldsQuantizeOfEverythingFed) {
  QuantizedKVCache c(32, 4);
  std::vector<array> ks, vs;
  std::vector<int> capacity;
  int seed = 10;
  for (int n : {3, 1, 300}) {
    array k = rnd({1, 2, n, 64}, seed++), v = rnd({1, 2, n, 64}, seed++);
    ks.push_back(k);
    vs.push_back(v);
    c.update_and_fetch_quantized(k, v);
    capacity.push_back(c.state()[0].shape(2));
  }
  EXPECT_EQ(capacity, (std::vector<int>{256, 256, 516}));
  EXPECT_EQ(c.offset(), 304);
  auto want_k = quantize(concatenate(ks, 2), 32, 4), want_v = quantize(concatenate(vs, 2), 32, 4);
  auto [hk, hv] = c.held();
  for (int i = 0; i < 3; ++i) {
    expect_equal_bits(hk[i], want_k[i], "keys " + std::to_string(i));
    expect_equal_bits(hv[i], want_v[i], "values " + std::to_string(i));
  }
  // The dequantizing fallback returns exactly dequantize() of that.
  EXPECT_EQ(c.trim(4), 4);
  auto [dk, dv] = c.update_and_fetch(ks[1], vs[1]);
  EXPECT_EQ(c.offset(), 301);
  array want = dequantize(want_k[0], want_k[1], want_k[2], 32, 4);
  Shape stop = want.shape();
  stop[2] = 300;
  array head = slice(dk, {0, 0, 0, 0}, stop);
  EXPECT_TRUE(array_equal(head, slice(want, {0, 0, 0, 0}, stop)).item<bool>());
  EXPECT_THROW(QuantizedKVCache(48, 8), std::invalid_argument);
  EXPECT_THROW(QuantizedKVCache(64, 7), std::invalid_argument);
}

// mlx-lm's rule: a standard cache converts once offset >= quantized_kv_start;
// rotating and already quantized caches do not; the quantized copy holds
// quantize() of the float buffer.
TEST(QuantizedKVCache, ConvertsAtQuantizedKvStart) {
  CacheList caches;
  caches.push_back(std::make_unique<StandardKVCache>());
  caches.push_back(std::make_unique<RotatingKVCache>(64, 4));
  array k = rnd({1, 2, 9, 64}, 20), v = rnd({1, 2, 9, 64}, 21);
  for (auto& c : caches) c->update_and_fetch(k, v);
  KVQuantization q{8, 64, 10};
  EXPECT_EQ(maybe_quantize_kv_cache(caches, q), 0);  // offset 9 < 10
  EXPECT_EQ(caches[0]->class_name(), "KVCache");
  array k1 = rnd({1, 2, 1, 64}, 22), v1 = rnd({1, 2, 1, 64}, 23);
  for (auto& c : caches) c->update_and_fetch(k1, v1);
  EXPECT_EQ(maybe_quantize_kv_cache(caches, q), 1);  // offset 10 >= 10
  EXPECT_EQ(caches[0]->class_name(), "QuantizedKVCache");
  EXPECT_EQ(caches[1]->class_name(), "RotatingKVCache");
  EXPECT_EQ(caches[0]->offset(), 10);
  auto [hk, hv] = dynamic_cast<QuantizedKVCache&>(*caches[0]).held();
  auto want = quantize(concatenate({k, k1}, 2), 64, 8);
  for (int i = 0; i < 3; ++i) expect_equal_bits(hk[i], want[i], "keys " + std::to_string(i));
  EXPECT_EQ(maybe_quantize_kv_cache(caches, q), 0);  // nothing left to convert
}

// Through generation: after a 5-token prompt and 2 tokens the caches hold 6
// (< start 8) and stay float; after 6 tokens they hold 10 and are quantized.
TEST(QuantizedKVCache, GenerationConvertsOnceStartIsReached) {
  auto m = test::random_llama();
  for (auto [n, want] : std::vector<std::pair<int, std::string>>{{2, "KVCache"}, {6, "QuantizedKVCache"}}) {
    GenerateOptions g;
    g.max_tokens = n;
    g.kv_quant = KVQuantization{8, 64, 8};
    CacheList caches;
    generate_tokens(*m, token_ids(5, 200, 1), g, [](int, const StepStats&) { return true; }, &caches);
    for (auto& c : caches) EXPECT_EQ(c->class_name(), want) << n << " tokens";
  }
}

// Teacher-forced logits over 40 steps (a 12-token prompt, then one token per
// step) with the cache quantized from the start, against the float cache.
// Measured max relative error on the random head_dim-64 Llama: 8-bit
// 6.5e-3, 4-bit 1.1e-1; the bounds are 1.5e-2 and 2e-1.
TEST(QuantizedKVCache, LogitsWithinBoundOfFloatCache) {
  auto m = test::random_llama();
  std::vector<int> tokens = token_ids(52, 200, 3);
  for (auto [bits, bound] : std::vector<std::pair<int, double>>{{8, 1.5e-2}, {4, 2e-1}}) {
    CacheList fc = m->make_cache(), qc = m->make_cache();
    KVQuantization q{bits, 64, 0};
    std::vector<int> prompt(tokens.begin(), tokens.begin() + 12);
    feed(*m, fc, prompt);
    feed(*m, qc, prompt);
    maybe_quantize_kv_cache(qc, q);
    double worst = 0;
    for (int i = 12; i < 52; ++i) {
      array a = feed(*m, fc, {tokens[i]}), b = feed(*m, qc, {tokens[i]});
      worst = std::max(worst, rel_err(b, a));
    }
    ASSERT_EQ(qc[0]->class_name(), "QuantizedKVCache");
    std::printf("  [%d bits] max rel err of the logits vs the float cache over 40 steps: %.2e\n", bits, worst);
    EXPECT_LE(worst, bound) << bits << " bits";
    EXPECT_GT(worst, 0.0) << bits << " bits: the quantized path was not taken";
  }
}

// Greedy tokens are equal at 8 bits for 24 tokens on the random Llama and on
// the qwen3 fixture (head_dim 32, group 32), quantized from the start.
TEST(QuantizedKVCache, GreedyTokensEqualAt8Bits) {
  auto run = [](Model& m, std::vector<int> prompt, std::optional<KVQuantization> q) {
    GenerateOptions g;
    g.max_tokens = 24;
    g.kv_quant = q;
    std::vector<int> out;
    generate_tokens(m, prompt, g, [&](int t, const StepStats&) {
      out.push_back(t);
      return true;
    });
    return out;
  };
  auto llama = test::random_llama();
  EXPECT_EQ(run(*llama, token_ids(7, 200, 5), KVQuantization{8, 64, 0}), run(*llama, token_ids(7, 200, 5), {}));
  auto qwen3 = load_model(test::model_fixture("qwen3")).model;
  int vocab = qwen3->vocab_size();
  EXPECT_EQ(run(*qwen3, token_ids(7, vocab, 5), KVQuantization{8, 32, 0}), run(*qwen3, token_ids(7, vocab, 5), {}));
}

// Settings that cannot work are refused before any work, naming the flag.
TEST(QuantizedKVCache, BadSettingsAreClearErrors) {
  auto m = test::random_llama();
  auto message = [&](KVQuantization q, std::optional<int> max_kv = std::nullopt) {
    GenerateOptions g;
    g.max_tokens = 1;
    g.kv_quant = q;
    g.max_kv_size = max_kv;
    try {
      TokenGenerator gen(*m, {1, 2}, g);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({7, 64, 0}), "--kv-bits must be 2, 3, 4, 5, 6 or 8, got 7");
  EXPECT_EQ(message({8, 48, 0}), "--kv-group-size must be 32, 64 or 128, got 48");
  EXPECT_EQ(message({8, 64, -1}), "--quantized-kv-start must be >= 0, got -1");
  EXPECT_EQ(message({8, 128, 0}),
            "[generate] --kv-group-size 128 does not divide the model's head_dim 64; choose 32, 64 or 128 dividing it");
  EXPECT_NE(message({8, 64, 0}, 100).find("all of this model's KV caches are rotating"), std::string::npos);
}
