// End-to-end runs of `uma tokenize`.
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "uma/text/tokenizer/load.h"

namespace uma::cli {
namespace {

using namespace testing;
using nlohmann::json;

TEST(TokenizeCli, TextToIds) {
  ASSERT_TRUE(std::filesystem::exists(npm_model("llama2") / "tokenizer.json"))
      << "run `make npm BUILD_DIR=build` first";
  auto r = run_uma({"tokenize", "--model", npm_model("llama2").string(), "--text", "The bug starts here."});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "[1,415,10079,8383,1236,28723]\n");
  r = run_uma({"tokenize", "-m", npm_model("llama2").string(), "-t", "The bug starts here.", "--no-special"});
  EXPECT_EQ(r.out, "[415,10079,8383,1236,28723]\n");
}

TEST(TokenizeCli, TokensAndSpecialTokensInText) {
  auto r = run_uma({"tokenize", "--model", npm_model("qwen3").string(), "--text", "<|im_start|>user\nhi", "--tokens"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["id"], 151644);
  EXPECT_EQ(j[0]["token"], "<|im_start|>");
  EXPECT_EQ(j[1]["token"], "user");
  EXPECT_EQ(j[2]["token"], "\u010a");  // "\n" in byte-level form
}

TEST(TokenizeCli, JsonLinesFileInOrder) {
  auto f = write_temp("lines.jsonl", "\"The bug starts here.\"\n\n\"\\u00e9t\\u00e9 \\ud83d\\ude00\"\n\"\"\n");
  auto r = run_uma({"tokenize", "--model", npm_model("llama3").string(), "--file", f.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto tok = uma::text::tokenizer::load_tokenizer(npm_model("llama3"));
  std::string want;
  for (std::string text : {"The bug starts here.", "\u00e9t\u00e9 \U0001F600", ""}) {
    want += json(tok.tokenizer->encode(text, true)).dump() + "\n";
  }
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.out.substr(0, 25), "[791,10077,8638,1618,13]\n");
  std::filesystem::remove(f);
}

TEST(TokenizeCli, GgufModel) {
  auto path = std::filesystem::path(UMA_SHARED_DIR) / "fixtures" / "gguf" / "ggml-vocab-llama-spm.gguf";
  auto r = run_uma({"tokenize", "--model", path.string(), "--text", "Hello world"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "[1,15043,3186]\n");
}

TEST(TokenizeCli, BadInputs) {
  expect_one_line_error(run_uma({"tokenize", "--model", "/no/such/dir", "--text", "x"}), "does not exist");
  auto model = npm_model("llama2").string();
  expect_one_line_error(run_uma({"tokenize", "--model", model}), "--text or --file");
  auto bad = write_temp("bad.jsonl", "\"ok\"\n{\"not\": \n");
  expect_one_line_error(run_uma({"tokenize", "--model", model, "--file", bad.string()}), ":2: malformed JSON");
  auto num = write_temp("num.jsonl", "42\n");
  expect_one_line_error(run_uma({"tokenize", "--model", model, "--file", num.string()}), "expected a JSON string");
  expect_one_line_error(run_uma({"tokenize", "--model", model, "--file", "/no/file.jsonl"}), "cannot open");
  // A tokenizer.json with an unknown model type.
  auto dir = std::filesystem::temp_directory_path() / ("uma_cli_badmodel_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "Quantum", "vocab": {"a": 0}}})";
  expect_one_line_error(run_uma({"tokenize", "--model", dir.string(), "--text", "a"}), "'Quantum'");
  std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "BPE", "vocab": {"a": 0}, )";
  expect_one_line_error(run_uma({"tokenize", "--model", dir.string(), "--text", "a"}), "malformed JSON");
  std::filesystem::remove_all(dir);
  std::filesystem::remove(bad);
  std::filesystem::remove(num);
  // Usage errors come from the argument parser (non-zero exit).
  auto r = run_uma({"tokenize", "--text", "x"});
  EXPECT_NE(r.rc, 0);
  r = run_uma({"tokenize", "--model", model, "--text", "x", "--file", "y"});
  EXPECT_NE(r.rc, 0);
}

}  // namespace
}  // namespace uma::cli
