// `uma perplexity`: mlx_lm.perplexity's evaluation (lm/perplexity.h).
#include <chrono>
#include <cstdio>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/allocator.h"
#include "uma/lm/perplexity.h"

namespace {

struct PerplexityFlags {
  uma::cli::ModelFlags model;
  std::string data_path;
  int sequence_length = 512, batch_size = 8, num_samples = 256;
  uint64_t seed = 123;
  bool mask_prompt = false;
};

}  // namespace

static uma::cli::Registration reg{
    "perplexity", "Evaluate a model's perplexity on a text or chat dataset", [](CLI::App& app) {
      auto f = std::make_shared<PerplexityFlags>();
      uma::cli::add_model_flags(app, f->model);
      app.add_option("--data-path", f->data_path, "A .jsonl or .txt file, or a folder holding train.jsonl")->required();
      app.add_option("--sequence-length", f->sequence_length, "Tokens per sequence")->capture_default_str()->check(
          CLI::Range(2, 1 << 20));
      app.add_option("--batch-size", f->batch_size, "Sequences per batch")->capture_default_str()->check(
          uma::cli::positive());
      app.add_option("--num-samples", f->num_samples, "Sequences to score (-1: all the data fills)")
          ->capture_default_str();
      app.add_option("--seed", f->seed, "Seed of the document order")->capture_default_str();
      app.add_flag("--mask-prompt", f->mask_prompt,
                   "Score only what training with mask_prompt learns: chats' answers (uma's; not in mlx-lm)");
      return [f]() -> int {
        using namespace uma;
        if (f->num_samples == 0 || f->num_samples < -1) throw std::invalid_argument("--num-samples: must be > 0 or -1");
        auto lm = cli::load_all(f->model, true);
        auto data = lm::perplexity_data(lm, f->data_path, f->sequence_length, f->num_samples, f->seed, f->mask_prompt);
        std::printf("Model: %s (%.1fM parameters)\n", f->model.model.c_str(), double(lm.num_parameters) / 1e6);
        std::printf("Data: %d sequences of %d tokens from %zu documents of %s\n", data.sequences.shape(0),
                    f->sequence_length, data.documents_used, f->data_path.c_str());
        std::fflush(stdout);
        reset_peak_memory();
        auto t0 = std::chrono::steady_clock::now();
        auto r = lm::perplexity(*lm.model, data.sequences, f->batch_size, f->mask_prompt ? &data.scored : nullptr);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("Perplexity: %.3f ± %.3f\n", r.perplexity, r.standard_error);
        std::printf("Mean loss: %.4f nats over %lld tokens\n", r.mean_loss, (long long)r.tokens);
        std::printf("Evaluation time: %.2f seconds\n", s);
        std::printf("Peak memory: %.2f GB\n", double(get_peak_memory()) / 1e9);
        std::printf("Tokens per second: %.0f\n", double(r.tokens) / s);
        return 0;
      };
    }};
