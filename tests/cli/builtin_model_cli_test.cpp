// uma's built-in model (models/uma-dict): what generate, chat, bench and
// perplexity run when no --model is given.
#include <cstdlib>
#include <regex>

#include "cli/tiny_models.h"

using namespace uma::cli::testing;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// The shape of a dictionary answer, "WORD (part of speech): gloss", which
// every training answer has (models/uma-dict/make_data.py) and no untrained
// model produces. (The committed model is undertrained: it has the form,
// not yet the glosses; bench/RESULTS.md has its recall.)
TEST(BuiltinModel, AnswersInTheTrainedForm) {
  const std::regex form("[a-z]+ \\((noun|verb|adjective|adverb)\\): [^\\n]+");
  for (const char* word : {"garden", "friend", "tolerant"}) {
    auto r = run_uma({"generate", "--prompt", std::string("What does '") + word + "' mean?", "-m", "48",
                      "--repetition-penalty", "1.3"});
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(std::regex_match(trim(r.out), form)) << word << ": " << r.out;
  }
}

TEST(BuiltinModel, GivesAFortuneAndStopsByItself) {
  auto r = run_uma({"generate", "--prompt", "Give me a fortune.", "--temp", "0.8", "--seed", "3", "-m", "200",
                    "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto j = parse_json_output(r);
  EXPECT_EQ(j["finish_reason"], "stop") << r.out;  // the model ends its answer with <|eot_id|>
  EXPECT_GT(j["text"].get<std::string>().size(), 10u) << r.out;
}

TEST(BuiltinModel, BenchAndPerplexityUseItByDefault) {
  auto r = run_uma({"bench", "-p", "16", "-g", "8", "-n", "1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tg8"), std::string::npos) << r.out;
  auto data = write_temp("builtin_ppl.jsonl",
                         "{\"messages\": [{\"role\": \"user\", \"content\": \"Give me a fortune.\"}, "
                         "{\"role\": \"assistant\", \"content\": \"You will live a long and happy life.\"}]}\n");
  r = run_uma({"perplexity", "--data-path", data.string(), "--sequence-length", "8", "--num-samples", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Perplexity: "), std::string::npos) << r.out;
}

TEST(BuiltinModel, EnvironmentChoosesAnotherDefault) {
  ::setenv("UMA_DEFAULT_MODEL", "/nonexistent/uma-model", 1);
  auto r = run_uma({"generate", "--prompt", "hi"});
  ::unsetenv("UMA_DEFAULT_MODEL");
  expect_one_line_error(r, "/nonexistent/uma-model");
}
