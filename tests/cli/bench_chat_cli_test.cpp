// End-to-end runs of `uma bench` and of `uma chat` with a scripted stdin.
#include <sstream>

#include "tiny_models.h"
#include "uma/lm/load.h"
#include "uma/lm/prompt.h"
#include "uma/lm/stream.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using nlohmann::json;

TEST(BenchCli, JsonReportsPositiveSpeeds) {
  fs::path dir = tiny_model("tiny-llama", "llama3");
  Result r = run_uma({"bench", "-m", dir.string(), "-p", "16", "-g", "8", "-n", "2", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_GT(j["pp_tok_s"].get<double>(), 0);
  EXPECT_GT(j["tg_tok_s"].get<double>(), 0);
  EXPECT_EQ(j["n_prompt"], 16);
  EXPECT_EQ(j["n_gen"], 8);
  EXPECT_EQ(j["runs"], 2);
  EXPECT_EQ(j["pp_runs"].size(), 2u);
  EXPECT_EQ(j["tg_runs"].size(), 2u);
  for (auto& v : j["tg_runs"]) EXPECT_GT(v.get<double>(), 0);
  EXPECT_EQ(j["dtype"], "bfloat16");
  size_t params = expected_parameters(read_json(dir / "config.json"));
  EXPECT_EQ(j["params"], params);
  EXPECT_EQ(j["size_bytes"], 2 * params);
}

TEST(BenchCli, TablePrints) {
  fs::path dir = tiny_model("tiny-llama", "llama3");
  Result r = run_uma({"bench", "-m", dir.string(), "-p", "16", "-g", "8", "-n", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("| model", 0), 0u);
  EXPECT_NE(lines[2].find("llama 8M bfloat16"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("|  pp16 |"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("|   tg8 |"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4], "(median of 2 runs)");
}

// A GGUF file is named by its file type, as llama-bench names it.
TEST(BenchCli, GgufNamedByFileType) {
  const fs::path dir = fs::path(UMA_SHARED_DIR) / "fixtures" / "gguf";
  for (auto [file, type] : {std::pair{"tiny-llama-q4_k_m.gguf", "Q4_K_M"}, {"tiny-llama-q8_0.gguf", "Q8_0"}}) {
    Result r = run_uma({"bench", "-m", (dir / file).string(), "-p", "4", "-g", "2", "-n", "1"});
    ASSERT_EQ(r.rc, 0) << r.err;
    std::istringstream in(r.out);
    std::string header, rule, pp;
    std::getline(in, header), std::getline(in, rule), std::getline(in, pp);
    EXPECT_NE(pp.find(std::string(" ") + type + " "), std::string::npos) << pp;
    EXPECT_EQ(pp.find("-bit g32"), std::string::npos) << pp;
  }
}

// `uma generate`'s greedy answer to a one-message conversation.
std::string answer(const fs::path& dir, const std::string& prompt, int max_tokens) {
  Result r = run_uma(
      {"generate", "--model", dir.string(), "-p", prompt, "-m", std::to_string(max_tokens)});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.out.size() > 1 && r.out.back() == '\n');
  return r.out.substr(0, r.out.size() - 1);
}

TEST(ChatCli, ScriptedConversationWithReset) {
  fs::path dir = sharp_model();
  Result r = run_uma({"chat", "--model", dir.string(), "-m", "6"}, "hi\n/reset\nhello\n/exit\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  // After /reset the second question is a fresh conversation: both answers
  // are what `uma generate` says to each question alone.
  std::string a1 = answer(dir, "hi", 6), a2 = answer(dir, "hello", 6);
  EXPECT_NE(a1, a2);
  EXPECT_EQ(r.out, ">> " + a1 + "\n>> [history cleared]\n>> " + a2 + "\n>> \n");
  EXPECT_NE(r.err.find("/reset clears the history"), std::string::npos) << r.err;

  // Without /reset the second answer sees the first exchange; end of input
  // leaves like /exit.
  Result kept = run_uma({"chat", "--model", dir.string(), "-m", "6"}, "hi\nhello\n");
  ASSERT_EQ(kept.rc, 0) << kept.err;
  EXPECT_EQ(kept.out.rfind(">> " + a1 + "\n>> ", 0), 0u) << kept.out;
  ASSERT_GE(kept.out.size(), 5u);
  EXPECT_EQ(kept.out.substr(kept.out.size() - 5), "\n>> \n");
}

// The second turn reuses the first's KV cache; its answer must be the one
// computed from scratch on the whole conversation.
TEST(ChatCli, SecondTurnEqualsRecomputationFromScratch) {
  fs::path dir = sharp_model();
  Result r = run_uma({"chat", "--model", dir.string(), "-m", "8"}, "hi\nhello\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string a1 = answer(dir, "hi", 8);
  ASSERT_EQ(r.out.rfind(">> " + a1 + "\n>> ", 0), 0u) << r.out;
  std::string a2 = r.out.substr(a1.size() + 7);
  ASSERT_GE(a2.size(), 5u);
  a2 = a2.substr(0, a2.size() - 5);  // "\n>> \n"

  auto lm = lm::load(dir.string());
  nlohmann::ordered_json messages = nlohmann::ordered_json::array(
      {{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", a1}},
       {{"role", "user"}, {"content", "hello"}}});
  lm::TextOptions opts;
  opts.gen.max_tokens = 8;
  auto full = lm::stream_generate(*lm.model, lm.tokenizer, lm::build_prompt(lm, messages), opts,
                                  [](const lm::TextResponse&) { return true; });
  EXPECT_EQ(a2, full.text);
}

}  // namespace
}  // namespace uma::cli
