// Exact match with Hugging Face `tokenizers` 0.23.2 on the shared goldens:
// 303 strings x {ids, ids_with_special, decoded} for llama3, qwen3, llama2.
#include <gtest/gtest.h>

#include <thread>

#include "test_util.h"

namespace uma::text::tokenizer {
namespace {

using testing::npm_tokenizer;

std::string ids_str(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

class Goldens : public ::testing::TestWithParam<std::string> {};

TEST_P(Goldens, ExactMatch) {
  const std::string name = GetParam();
  auto goldens = testing::read_json(testing::shared_fixtures() / "tokenizer_goldens.json");
  ASSERT_TRUE(goldens.contains(name));
  const auto& entries = goldens[name];
  ASSERT_EQ(entries.size(), 303u);
  const Tokenizer& tok = npm_tokenizer(name);
  int bad_ids = 0, bad_special = 0, bad_decoded = 0, n = 0;
  size_t total_ids = 0;
  for (const auto& e : entries) {
    ++n;
    std::string text = e["text"].get<std::string>();
    auto want = e["ids"].get<std::vector<int32_t>>();
    auto want_special = e["ids_with_special"].get<std::vector<int32_t>>();
    auto got = tok.encode(text, false);
    auto got_special = tok.encode(text, true);
    std::string decoded = tok.decode(want, false);
    total_ids += got.size();
    if (got != want && ++bad_ids <= 5) {
      ADD_FAILURE() << name << " ids of " << nlohmann::json(text).dump() << "\n  want " << ids_str(want)
                    << "\n  got  " << ids_str(got);
    }
    if (got_special != want_special && ++bad_special <= 5) {
      ADD_FAILURE() << name << " ids_with_special of " << nlohmann::json(text).dump() << "\n  want "
                    << ids_str(want_special) << "\n  got  " << ids_str(got_special);
    }
    if (decoded != e["decoded"].get<std::string>() && ++bad_decoded <= 5) {
      ADD_FAILURE() << name << " decoded of " << nlohmann::json(text).dump() << "\n  want "
                    << e["decoded"].dump() << "\n  got  " << nlohmann::json(decoded).dump();
    }
  }
  EXPECT_GT(total_ids, 5000u);
  EXPECT_EQ(bad_ids, 0) << "of " << n;
  EXPECT_EQ(bad_special, 0) << "of " << n;
  EXPECT_EQ(bad_decoded, 0) << "of " << n;
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Goldens, ::testing::Values("llama3", "qwen3", "llama2"));

}  // namespace
}  // namespace uma::text::tokenizer

namespace uma::text::tokenizer {
namespace {

// One Tokenizer shared by several threads gives the golden ids in each.
TEST(GoldensThreads, ConcurrentEncodeIsExact) {
  auto goldens = testing::read_json(testing::shared_fixtures() / "tokenizer_goldens.json");
  for (std::string name : {"llama3", "qwen3"}) {
    const Tokenizer& tok = npm_tokenizer(name);
    const auto& entries = goldens[name];
    std::vector<std::thread> threads;
    std::vector<int> bad(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int rep = 0; rep < 3; ++rep) {
          for (size_t i = t; i < entries.size() + t; ++i) {
            const auto& e = entries[i % entries.size()];
            bad[t] += tok.encode(e["text"].get<std::string>(), true) !=
                      e["ids_with_special"].get<std::vector<int32_t>>();
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[t], 0) << name << " thread " << t;
  }
}

}  // namespace
}  // namespace uma::text::tokenizer
