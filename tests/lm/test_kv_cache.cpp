// KV caches against what they must hold: keys carry their position as value.
#include <gtest/gtest.h>

#include "uma/lm/kv_cache.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {
// (1, 1, n, 1) keys whose values are positions first .. first + n - 1.
array positions(int first, int n) { return reshape(astype(arange(first, first + n), float32), {1, 1, n, 1}); }

std::vector<int> held(array k) {
  auto v = k.to_vector<float>();
  return std::vector<int>(v.begin(), v.end());
}
}  // namespace

TEST(KVCache, StandardGrowsAndReturnsEverything) {
  StandardKVCache c(4);
  auto [k1, v1] = c.update_and_fetch(positions(0, 3), positions(0, 3));
  EXPECT_EQ(held(k1), (std::vector<int>{0, 1, 2}));
  for (int p = 3; p < 10; ++p) {
    auto [k, v] = c.update_and_fetch(positions(p, 1), positions(p, 1));
    std::vector<int> want(p + 1);
    for (int i = 0; i <= p; ++i) want[i] = i;
    EXPECT_EQ(held(k), want);
    EXPECT_EQ(held(v), want);
  }
  EXPECT_EQ(c.offset(), 10);
  EXPECT_EQ(c.trim(3), 3);
  auto [k, v] = c.update_and_fetch(positions(7, 1), positions(7, 1));
  EXPECT_EQ(held(k), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(KVCache, RotatingKeepsSinksAndTheLastTokens) {
  // max 6 with 2 sink tokens: after the window fills, the cache holds
  // positions {0, 1} and the 4 most recent (in ring order).
  RotatingKVCache c(6, 2, 4);
  c.update_and_fetch(positions(0, 3), positions(0, 3));
  for (int p = 3; p < 14; ++p) {
    auto [k, v] = c.update_and_fetch(positions(p, 1), positions(p, 1));
    auto got = held(k);
    std::sort(got.begin(), got.end());
    std::vector<int> want;
    if (p < 6) {
      for (int i = 0; i <= p; ++i) want.push_back(i);
    } else {
      want = {0, 1, p - 3, p - 2, p - 1, p};
    }
    EXPECT_EQ(got, want) << "at position " << p;
  }
  EXPECT_EQ(c.offset(), 14);
}

TEST(KVCache, RotatingPrefillConcatenatesInTemporalOrder) {
  RotatingKVCache c(4, 0, 4);
  c.update_and_fetch(positions(0, 3), positions(0, 3));
  for (int p = 3; p < 7; ++p) c.update_and_fetch(positions(p, 1), positions(p, 1));
  // A chunk of 3 after the ring wrapped: the last max_size - 1 = 3 tokens in
  // order, then the chunk.
  auto [k, v] = c.update_and_fetch(positions(7, 3), positions(7, 3));
  EXPECT_EQ(held(k), (std::vector<int>{4, 5, 6, 7, 8, 9}));
  // The mask lets each new token see at most 4 tokens, itself included.
  RotatingKVCache d(4, 0, 4);
  d.update_and_fetch(positions(0, 7), positions(0, 7));
  AttentionMask m = d.make_mask(3, std::nullopt);
  ASSERT_TRUE(m.mask.has_value());
  EXPECT_EQ(m.mask->shape(), (Shape{3, 6}));
  auto mv = m.mask->to_vector<bool>();
  // query 0 (position 7) over keys 4..9: sees 4,5,6,7
  EXPECT_EQ(std::vector<bool>(mv.begin(), mv.begin() + 6), (std::vector<bool>{1, 1, 1, 1, 0, 0}));
}

TEST(KVCache, CausalMaskWithWindow) {
  auto m = create_causal_mask(2, 3, 2).to_vector<bool>();
  // positions 3 and 4 over keys 0..4, window 2
  EXPECT_EQ(m, (std::vector<bool>{0, 0, 1, 1, 0, 0, 0, 0, 1, 1}));
}

namespace {
// Positions held, in the order the cache returns them.
std::vector<int> update(RotatingKVCache& c, int first, int n) {
  return held(c.update_and_fetch(positions(first, n), positions(first, n)).first);
}
std::vector<int> range(int a, int b) {  // [a, b)
  std::vector<int> v;
  for (int i = a; i < b; ++i) v.push_back(i);
  return v;
}
std::vector<int> cat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::vector<bool> mask_values(AttentionMask m) {
  return m.mask ? m.mask->to_vector<bool>() : std::vector<bool>{};
}
}  // namespace

// --max-kv-size caches: keep = 4 sinks, as mlx-lm's make_prompt_cache.
TEST(KVCache, RotatingKeepFourOneTokenAtATime) {
  RotatingKVCache c(8, 4, 3);  // step 3: grows in pieces before it fills
  for (int p = 0; p < 30; ++p) {
    auto got = update(c, p, 1);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, p < 8 ? range(0, p + 1) : cat(range(0, 4), range(p - 3, p + 1)))
        << "at position " << p;
    EXPECT_EQ(c.offset(), p + 1);
    EXPECT_FALSE(
        c.make_mask(1, std::nullopt).mask.has_value());  // a single query sees the whole cache
  }
}

// mlx-lm's _update_concat: a chunk into an empty cache is stored whole (the
// mask makes it a sliding window); later chunks go after the sinks and the
// last max_size - 1 - keep tokens in temporal order.
TEST(KVCache, RotatingKeepFourChunksLongerThanTheWindow) {
  RotatingKVCache c(8, 4, 256);
  AttentionMask m0 = c.make_mask(13, std::nullopt);
  ASSERT_TRUE(m0.mask.has_value());
  auto m0v = mask_values(m0);
  ASSERT_EQ(m0v.size(), 13u * 13u);
  for (int i = 0; i < 13; ++i)
    for (int j = 0; j < 13; ++j) EXPECT_EQ(m0v[i * 13 + j], j <= i && i - j < 8) << i << "," << j;
  EXPECT_EQ(update(c, 0, 13), range(0, 13));

  // One token: trimmed to the sinks and the last 4, the oldest overwritten.
  EXPECT_EQ(update(c, 13, 1), (std::vector<int>{0, 1, 2, 3, 13, 10, 11, 12}));
  EXPECT_EQ(update(c, 14, 1), (std::vector<int>{0, 1, 2, 3, 13, 14, 11, 12}));

  // A chunk of 3 after the ring wrapped: sinks, the last 3, then the chunk.
  AttentionMask m1 = c.make_mask(3, std::nullopt);
  EXPECT_EQ(update(c, 15, 3), (std::vector<int>{0, 1, 2, 3, 12, 13, 14, 15, 16, 17}));
  // Query q of the chunk sees cache indices q .. 7 + q (a window of 8 over
  // indices, so sink q-1 drops out for q >= 1, as in mlx-lm).
  auto m1v = mask_values(m1);
  ASSERT_EQ(m1v.size(), 3u * 10u);
  for (int q = 0; q < 3; ++q)
    for (int k = 0; k < 10; ++k) EXPECT_EQ(m1v[q * 10 + k], k >= q && k <= 7 + q) << q << "," << k;

  // A chunk of 11 (> max_size) after that.
  EXPECT_EQ(update(c, 18, 11), cat(range(0, 4), range(15, 29)));
  // Back to one token at a time: sinks and the last 4 again.
  auto got = update(c, 29, 1);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, cat(range(0, 4), range(26, 30)));
  EXPECT_EQ(c.offset(), 30);
}

// Chunks that fill the cache without a wrap keep everything until the
// window is exceeded.
TEST(KVCache, RotatingKeepFourGrowingChunks) {
  RotatingKVCache c(8, 4, 256);
  EXPECT_EQ(update(c, 0, 3), range(0, 3));
  EXPECT_EQ(update(c, 3, 3), range(0, 6));
  EXPECT_EQ(update(c, 6, 3), range(0, 9));  // up to max_size - 1 + chunk
  EXPECT_EQ(update(c, 9, 3), cat(range(0, 4), range(6, 12)));
  auto got = update(c, 12, 1);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, cat(range(0, 4), range(9, 13)));
}
