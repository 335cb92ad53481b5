#include <gtest/gtest.h>

#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/ops/threefry.h"
#include "uma/uma.h"

using namespace uma;

// Random123's known-answer vectors for threefry2x32_20 (kat_vectors):
// counter, key -> output.
TEST(Threefry, Random123KnownAnswers) {
  using detail::threefry2x32;
  EXPECT_EQ(threefry2x32({0u, 0u}, {0u, 0u}), std::make_pair(0x6b200159u, 0x99ba4efeu));
  EXPECT_EQ(threefry2x32({0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            std::make_pair(0x1cb996fcu, 0xbb002be7u));
  EXPECT_EQ(threefry2x32({0x13198a2eu, 0x03707344u}, {0x243f6a88u, 0x85a308d3u}),
            std::make_pair(0xc4923a9cu, 0x483df7a0u));
}

// The values of MLX's tests/random_tests.cpp (which MLX took from JAX's
// threefry_prng_impl.random_bits): uma draws MLX's bits.
TEST(RandomBits, MatchMlxAndJax) {
  EXPECT_EQ(random::key(0).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(random::key(1).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(random::key((uint64_t(1) << 32) + 1).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 1}));

  auto [k, sub] = random::split(random::key(0));
  EXPECT_EQ(k.to_vector<uint32_t>(), (std::vector<uint32_t>{4146024105u, 967050713u}));
  EXPECT_EQ(sub.to_vector<uint32_t>(), (std::vector<uint32_t>{2718843009u, 1272950319u}));
  array keys = random::split(random::key(0), 3);
  EXPECT_EQ(keys.shape(), (Shape{3, 2}));
  EXPECT_EQ(keys.to_vector<uint32_t>(),
            (std::vector<uint32_t>{2467461003u, 428148500u, 3186719485u, 3840466878u, 2562233961u, 1946702221u}));

  array k0 = random::key(0), k1 = random::key(1);
  array x = random::bits({}, k0);
  EXPECT_EQ(x.dtype(), uint32);
  EXPECT_EQ(x.item<uint32_t>(), 1797259609u);
  EXPECT_EQ(random::bits({}, 2, k0).item<uint16_t>(), 345);
  EXPECT_EQ(random::bits({}, 1, k0).item<uint8_t>(), 89);
  EXPECT_EQ(random::bits({}, k1).item<uint32_t>(), 507451445u);
  EXPECT_EQ(random::bits({}, 2, k1).item<uint16_t>(), 6197);
  EXPECT_EQ(random::bits({}, 1, k1).item<uint8_t>(), 53);
  EXPECT_EQ(random::bits({3, 1}, k0).to_vector<uint32_t>(),
            (std::vector<uint32_t>{4146024105u, 1351547692u, 2718843009u}));
  EXPECT_EQ(random::bits({5}, 2, k0).to_vector<int>(), (std::vector<int>{20137, 63263, 64300, 20622, 16513}));
  EXPECT_EQ(random::bits({6}, 2, k0).to_vector<int>(), (std::vector<int>{20137, 63263, 64300, 20622, 16513, 41486}));
  EXPECT_EQ(random::bits({7}, 2, k0).to_vector<int>(),
            (std::vector<int>{20137, 63263, 1497, 14756, 16513, 41486, 44591}));
  EXPECT_EQ(random::bits({8}, 2, k0).to_vector<int>(),
            (std::vector<int>{20137, 63263, 1497, 14756, 16513, 41486, 44591, 19423}));
}

TEST(RandomBits, SameKeySameBitsAndShapes) {
  array k = random::key(42);
  array a = random::bits({4, 5}, k), b = random::bits({4, 5}, k);
  EXPECT_EQ(a.shape(), (Shape{4, 5}));
  EXPECT_EQ(a.to_vector<uint32_t>(), b.to_vector<uint32_t>());
  EXPECT_NE(a.to_vector<uint32_t>(), random::bits({4, 5}, random::key(43)).to_vector<uint32_t>());
  EXPECT_EQ(random::bits({0}, k).size(), 0u);
  EXPECT_EQ(random::bits({3, 0, 2}, 1, k).shape(), (Shape{3, 0, 2}));
  EXPECT_EQ(random::bits({3}, 1, k).dtype(), uint8);
  // A key given as a view (a row of split's output) works like a fresh one.
  array keys = random::split(k, 4);
  array row = reshape(slice(keys, {2, 0}, {3, 2}), {2});
  array copy_of_row(row.to_vector<uint32_t>(), {2});
  EXPECT_EQ(random::bits({9}, row).to_vector<uint32_t>(), random::bits({9}, copy_of_row).to_vector<uint32_t>());
}

TEST(RandomBits, IndependentOfThreadCount) {
  int before = cpu::num_threads();
  std::vector<std::vector<uint32_t>> runs;
  for (int threads : {1, 2, 3}) {
    cpu::set_num_threads(threads);
    runs.push_back(random::bits({1000003}, random::key(7)).to_vector<uint32_t>());
    // Odd byte counts: partial trailing words.
    auto small = random::bits({100001}, 1, random::key(7)).to_vector<uint32_t>();
    runs.back().insert(runs.back().end(), small.begin(), small.end());
  }
  cpu::set_num_threads(before);
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(RandomBits, DefaultKeySequenceFollowsSeed) {
  random::seed(4);
  uint32_t x = random::bits({}).item<uint32_t>(), y = random::bits({}).item<uint32_t>();
  random::seed(4);
  uint32_t a = random::bits({}).item<uint32_t>(), b = random::bits({}).item<uint32_t>();
  EXPECT_EQ(x, a);
  EXPECT_EQ(y, b);
  EXPECT_NE(x, y);
  // MLX's KeySequence: next() hands out the second half of split(current).
  random::seed(0);
  auto [next_key, handed] = random::split(random::key(0));
  EXPECT_EQ(random::bits({3}).to_vector<uint32_t>(), random::bits({3}, handed).to_vector<uint32_t>());
  EXPECT_EQ(random::bits({3}).to_vector<uint32_t>(), random::bits({3}, random::split(next_key).second).to_vector<uint32_t>());
}

TEST(RandomBits, BadKeysShapesAndWidths) {
  auto expect_msg = [](auto f, const std::string& frag) {
    try {
      f();
      ADD_FAILURE() << "no exception for " << frag;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
    }
  };
  expect_msg([] { random::bits({2}, array({0, 0})); }, "[bits] a key is a uint32 array of shape (2)");
  expect_msg([] { random::bits({2}, array({0u, 0u}, {1, 2})); }, "(1,2)");
  expect_msg([] { random::bits({2}, array({0u, 0u, 0u})); }, "(3)");
  expect_msg([] { random::bits({2}, array({0u, 0u}, {2, 1})); }, "(2,1)");
  expect_msg([] { random::split(array({0, 0})); }, "[split]");
  for (int w : {0, 3, 5, -1}) expect_msg([w] { random::bits({2}, w, random::key(0)); }, "[bits] width");
  expect_msg([] { random::bits({2, -3}, random::key(0)); }, "negative dimension");
  expect_msg([] { random::split(random::key(0), -1); }, "[split]");
}
