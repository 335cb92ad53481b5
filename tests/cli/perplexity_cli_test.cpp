// `uma perplexity` on a model whose prediction is known exactly: with every
// weight zero, a Llama's logits are all zero, so each token costs log(V)
// nats and the perplexity is the vocabulary size V with zero spread.
#include <cmath>

#include "cli/tiny_models.h"
#include "uma/core/io/safetensors.h"

using namespace uma::cli::testing;

namespace {

std::filesystem::path zero_llama() {
  auto dir = copy_model(tiny_model("tiny-llama", "llama3", "float32"), "zero_llama");
  auto [tensors, meta] = uma::load_safetensors((dir / "model.safetensors").string(), true);
  std::map<std::string, uma::array> zeros;
  for (auto& [k, v] : tensors) zeros.emplace(k, uma::zeros(v.shape(), v.dtype()));
  uma::save_safetensors((dir / "model.safetensors").string(), zeros, meta);
  return dir;
}

double number_after(const std::string& out, const std::string& label) {
  auto at = out.find(label);
  return at == std::string::npos ? NAN : std::stod(out.substr(at + label.size()));
}

}  // namespace

TEST(PerplexityCli, UniformModelScoresTheVocabularySize) {
  auto model = zero_llama();
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
