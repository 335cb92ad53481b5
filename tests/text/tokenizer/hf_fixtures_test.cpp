// Goldens from tests/fixtures/tokenizers/make_tokenizer_goldens.py: small
// tokenizers built with Hugging Face `tokenizers` (WordPiece/BERT, Unigram
// with byte fallback, BPE with end-of-word suffix, WordLevel, byte-level BPE
// with added-token flags, Metaspace "first" with Split behaviours).
#include <gtest/gtest.h>

#include "test_util.h"

namespace uma::text::tokenizer {
namespace {

std::filesystem::path dir() { return std::filesystem::path(UMA_SOURCE_DIR) / "tests" / "fixtures" / "tokenizers"; }

TEST(HfFixtures, ExactMatch) {
  auto path = dir() / "goldens.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << "missing " << path;
  auto goldens = testing::read_json(path);
  int checked = 0;
  for (auto it = goldens.begin(); it != goldens.end(); ++it) {
    if (!it.value().is_array()) continue;
    SCOPED_TRACE(it.key());
    Tokenizer tok = Tokenizer::from_file(dir() / it.key() / "tokenizer.json");
    int bad = 0;
    for (const auto& e : it.value()) {
      std::string text = e["text"].get<std::string>();
      auto with_special = e["ids_with_special"].get<std::vector<int32_t>>();
      bool ok = tok.encode(text, false) == e["ids"].get<std::vector<int32_t>>() &&
                tok.encode(text, true) == with_special &&
                tok.decode(with_special, false) == e["decoded"].get<std::string>() &&
                tok.decode(with_special, true) == e["decoded_skip"].get<std::string>();
      if (!ok && ++bad <= 3) ADD_FAILURE() << it.key() << ": " << nlohmann::json(text).dump();
      ++checked;
    }
    EXPECT_EQ(bad, 0);
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace uma::text::tokenizer
