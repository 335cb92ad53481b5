// GGUF-embedded tokenizers against llama.cpp's vocabulary goldens (Hugging
// Face ids, add_special=false) and the tiny-llama files.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "uma/core/io/gguf.h"
#include "uma/text/tokenizer/gguf_tokenizer.h"

namespace uma::text::tokenizer {
namespace {

// Reads llama.cpp's .inp/.out pair: inputs separated by
// "\n__ggml_vocab_test__\n", one line of ids per input.
std::vector<std::pair<std::string, std::vector<int32_t>>> read_vocab_tests(const std::string& base) {
  std::string raw = testing::read_text(base + ".inp");
  std::vector<std::string> inputs;
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(raw.substr(pos));
      break;
    }
    inputs.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream out(testing::read_text(base + ".out"));
  std::vector<std::pair<std::string, std::vector<int32_t>>> tests;
  std::string line;
  size_t i = 0;
  while (std::getline(out, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ls >> id) ids.push_back(id);
    if (i < inputs.size()) tests.emplace_back(inputs[i], ids);
    ++i;
  }
  EXPECT_EQ(i, inputs.size()) << base;
  return tests;
}

class GgufVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVocab, MatchesHuggingFaceIds) {
  std::string base = (testing::shared_fixtures() / "gguf" / GetParam()).string();
  auto file = io::gguf::File::open(base);
  Tokenizer tok = tokenizer_from_gguf(file);
  auto tests = read_vocab_tests(base);
  ASSERT_GT(tests.size(), 40u);
  int bad = 0;
  for (const auto& [text, want] : tests) {
    EncodeOptions opt;
    opt.add_special_tokens = false;
    std::vector<int32_t> got;
    tok.encode(text, got, opt);
    if (got != want) {
      ++bad;
      std::string g, w;
      for (auto x : got) g.append(" ").append(std::to_string(x));
      for (auto x : want) w.append(" ").append(std::to_string(x));
      ADD_FAILURE() << GetParam() << " " << nlohmann::json(text).dump() << "\n  want" << w << "\n  got " << g;
    }
  }
  EXPECT_EQ(bad, 0);
}

INSTANTIATE_TEST_SUITE_P(Files, GgufVocab,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"));

}  // namespace
}  // namespace uma::text::tokenizer
