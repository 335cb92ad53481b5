// `uma perplexity` on a model whose prediction is known exactly: with every
// weight zero, a Llama's logits are all zero, so each token costs log(V)
// nats and the perplexity is the vocabulary size V with zero spread.
#include <cmath>

#include "cli/tiny_models.h"

using namespace uma::cli::testing;

namespace {

double number_after(const std::string& out, const std::string& label) {
  auto at = out.find(label);
  return at == std::string::npos ? NAN : std::stod(out.substr(at + label.size()));
}

}  // namespace

TEST(PerplexityCli, UniformModelScoresTheVocabularySize) {
  auto model = zero_llama("zero_llama");
  int vocab = read_json(model / "config.json")["vocab_size"];
  std::string docs;
  for (int i = 0; i < 40; ++i) docs += "{\"text\": \"Document " + std::to_string(i) + " says something plain.\"}\n";
  auto data = write_temp("ppl.jsonl", docs);
  auto r = run_uma({"perplexity", "--model", model.string(), "--data-path", data.string(), "--sequence-length", "16",
                    "--num-samples", "5", "--batch-size", "2"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NEAR(number_after(r.out, "Perplexity: "), double(vocab), 1e-3 * vocab) << r.out;
  EXPECT_NEAR(number_after(r.out, "± "), 0.0, 1e-2) << r.out;
  EXPECT_NEAR(number_after(r.out, "Mean loss: "), std::log(double(vocab)), 1e-4) << r.out;
  EXPECT_EQ(number_after(r.out, "over "), 5 * 15) << r.out;  // each sequence scores all but its first token
  EXPECT_EQ(number_after(r.out, "Data: "), 5) << r.out;

  // All the data: as many whole sequences as the tokens fill.
  r = run_uma({"perplexity", "--model", model.string(), "--data-path", data.string(), "--sequence-length", "16",
               "--num-samples", "-1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_GT(number_after(r.out, "Data: "), 5) << r.out;

  expect_one_line_error(run_uma({"perplexity", "--model", model.string(), "--data-path", data.string(),
                                 "--sequence-length", "100000", "--num-samples", "2"}),
                        "fewer than one sequence");
  expect_one_line_error(run_uma({"perplexity", "--model", model.string(), "--data-path", data.string(),
                                 "--num-samples", "0"}),
                        "--num-samples");
  expect_one_line_error(run_uma({"perplexity", "--model", model.string(), "--data-path", "/nonexistent.jsonl"}),
                        "/nonexistent.jsonl");
}

// --mask-prompt scores only the answers of chats: fewer tokens than the whole
// rendered chats, each still at log(V) under the uniform model; the same
// answers behind twice the prompt leave the scored count unchanged.
TEST(PerplexityCli, MaskPromptScoresOnlyTheAnswers) {
  auto model = zero_llama("zero_llama");
  int vocab = read_json(model / "config.json")["vocab_size"];
  auto chats = [](const std::string& prompt) {
    std::string docs;
    for (int i = 0; i < 30; ++i) {
      docs += "{\"messages\": [{\"role\": \"user\", \"content\": \"" + prompt + " " + std::to_string(i) +
              "?\"}, {\"role\": \"assistant\", \"content\": \"Answer " + std::to_string(i) + ".\"}]}\n";
    }
    return docs;
  };
  auto short_prompts = write_temp("ppl_chat_a.jsonl", chats("Question"));
  auto long_prompts = write_temp("ppl_chat_b.jsonl", chats("Question with a much longer wording than the other one"));
  auto run = [&](const std::filesystem::path& data, bool mask) {
    std::vector<std::string> args = {"perplexity", "--model", model.string(), "--data-path", data.string(),
                                     "--sequence-length", "8", "--num-samples", "-1"};
    if (mask) args.push_back("--mask-prompt");
    auto r = run_uma(args);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_NEAR(number_after(r.out, "Perplexity: "), double(vocab), 1e-3 * vocab) << r.out;
    return number_after(r.out, "over ");
  };
  double all_a = run(short_prompts, false), answers_a = run(short_prompts, true);
  double all_b = run(long_prompts, false), answers_b = run(long_prompts, true);
  EXPECT_GT(answers_a, 0);
  EXPECT_LT(answers_a, all_a / 2);
  EXPECT_GT(all_b, all_a);
  // Sequences of 8 cut the same stream in both; the cut drops a partial tail
  // and each sequence's first token, so the counts agree within those.
  EXPECT_NEAR(answers_b, answers_a, 0.25 * answers_a);
}
