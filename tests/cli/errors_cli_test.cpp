// Bad inputs to the model commands: each is one line "uma: error: ..." on
// stderr, exit status 1, naming what is wrong.
#include <functional>

#include "tiny_models.h"
#include "uma/text/tokenizer/load.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;


void expect_error_from_all(const fs::path& dir, const std::string& needle) {
  expect_one_line_error(run_uma({"info", "--model", dir.string()}), needle);
  expect_one_line_error(run_uma({"generate", "--model", dir.string(), "-p", "hi"}), needle);
  expect_one_line_error(run_uma({"bench", "-m", dir.string(), "-p", "4", "-g", "2", "-n", "1"}),
                        needle);
  expect_one_line_error(run_uma({"chat", "--model", dir.string()}, "hi\n"), needle);
}

TEST(CliErrors, ModelFolders) {
  expect_error_from_all("/no/such/model", "model folder or .gguf file not found: /no/such/model");
  fs::path empty = tiny_models().root() / "empty";
  fs::create_directories(empty);
  expect_error_from_all(empty, "missing config.json in " + empty.string());

  fs::path arch = copy_model(tiny_model("tiny-llama", "llama2"), "arch");
  auto cfg = read_json(arch / "config.json");
  cfg["model_type"] = "mamba9";
  std::ofstream(arch / "config.json") << cfg.dump(2);
  expect_error_from_all(arch, "unsupported model_type 'mamba9'");
  std::ofstream(arch / "config.json") << "{\"model_type\": ";
  expect_error_from_all(arch, "config.json is not valid JSON");

  fs::path missing =
      with_weights("missing", [](auto& w) { w.erase("model.layers.1.mlp.up_proj.weight"); });
  expect_error_from_all(missing, "1 missing (model.layers.1.mlp.up_proj.weight)");
  fs::path shape = with_weights(
      "shape", [](auto& w) { w.insert_or_assign("model.norm.weight", ones({32}, bfloat16)); });
  expect_error_from_all(shape, "model.norm.weight expects (64), got (32)");
  fs::path extra = with_weights(
      "extra", [](auto& w) { w.emplace("model.layers.2.mlp.up_proj.weight", ones({2})); });
  expect_error_from_all(extra, "1 unexpected (model.layers.2.mlp.up_proj.weight)");
}

// Flags of generate and chat, and what the error must say.
const std::vector<std::pair<std::vector<std::string>, std::string>> kBadFlags = {
    {{"--temp", "-1"}, "--temp: must be >= 0, got -1"},
    {{"--temp", "warm"}, "--temp: 'warm' is not a number"},
    {{"--top-p", "1.5"}, "--top-p: Value 1.5 not in range"},
    {{"--min-p", "-0.5"}, "--min-p"},
    {{"--top-k", "-3"}, "--top-k: must be >= 0, got -3"},
    {{"-m", "-1"}, "--max-tokens: must be >= 0, got -1"},
    {{"--repetition-penalty", "0"}, "--repetition-penalty: must be > 0, got 0"},
    {{"--xtc-threshold", "0.7"}, "--xtc-threshold"},
    {{"--logit-bias", "{\"x\": 1}"}, "--logit-bias: 'x' is not a token id"},
    {{"--chat-template-config", "[1"}, "--chat-template-config is not valid JSON"},
    {{"--dtype", "float8"}, "unknown dtype 'float8'"},
    {{"--dtype", "int32"}, "dtype must be a floating point type, got int32"},
    {{"--bogus"}, "--bogus"},
};

TEST(CliErrors, SamplingFlags) {
  std::string m = tiny_model("tiny-llama", "llama3").string();  // chat needs a template
  for (const char* cmd : {"generate", "chat"}) {
    SCOPED_TRACE(cmd);
    auto run = [&](std::vector<std::string> flags) {
      std::vector<std::string> args = {cmd, "--model", m};
      if (std::string(cmd) == "generate") args.insert(args.end(), {"-p", "hi"});
      args.insert(args.end(), flags.begin(), flags.end());
      return run_uma(args, "hi\n");
    };
    for (auto& [flags, needle] : kBadFlags) expect_one_line_error(run(flags), needle);
  }
  // Chat finds this only at the first answer, after its ">> " prompt.
  expect_one_line_error(
      run_uma({"generate", "--model", m, "-p", "hi", "--logit-bias", "{\"200000\": 1}"}),
      "token id 200000 is outside the vocabulary");
}

TEST(CliErrors, CommandsAndPrompts) {
  fs::path dir = tiny_model("tiny-llama", "llama2");
  std::string tok = npm_model("llama2").string(), out = (tiny_models().root() / "never").string();
  expect_one_line_error(
      run_uma({"init", "--preset", "tiny-mamba", "--tokenizer", tok, "--out", out}),
      "unknown preset 'tiny-mamba' (known: ");
  expect_one_line_error(
      run_uma({"init", "--preset", "tiny-llama", "--tokenizer", "/no/tok", "--out", out}),
      "no tokenizer.json in /no/tok");
  expect_one_line_error(run_uma({"init", "--preset", "tiny-llama", "--tokenizer", tok, "--out", out,
                                 "--dtype", "int8"}),
                        "--dtype must be a float type, got int8");
  EXPECT_FALSE(fs::exists(out));
  expect_one_line_error(run_uma({"init", "--preset", "tiny-llama"}), "--tokenizer is required");
  expect_one_line_error(run_uma({"frobnicate", "--model", "x"}), "unknown command 'frobnicate' (commands: ");
  expect_one_line_error(run_uma({}), "A subcommand is required");
  expect_one_line_error(run_uma({"bench", "-m", dir.string(), "-p", "0"}),
                        "-p, -g and -n must be >= 1");
  expect_one_line_error(run_uma({"bench", "-m", dir.string(), "--dtype", "int32"}),
                        "floating point type");
  // A model without a chat template cannot chat.
  expect_one_line_error(run_uma({"chat", "--model", dir.string()}, "hi\n"), "no chat template");
  // The context is max_position_embeddings (512 in the tiny presets).
  std::string words;
  for (int i = 0; i < 600; ++i) words += "hello ";
  size_t n = text::tokenizer::load_tokenizer(dir).tokenizer->encode(words, true).size();
  ASSERT_GT(n, 512u);
  std::string too_long = "the prompt (" + std::to_string(n) +
                         " tokens) does not fit the model's context of 512 tokens";
  expect_one_line_error(run_uma({"generate", "--model", dir.string(), "-p", words}), too_long);
  expect_one_line_error(run_uma({"generate", "--model", dir.string(), "-p", "-"}, words), too_long);
  // --help still prints usage and succeeds.
  Result help = run_uma({"generate", "--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("--max-tokens"), std::string::npos);
}

}  // namespace
}  // namespace uma::cli
