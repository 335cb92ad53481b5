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
