// `uma generate`: one prompt in, streamed text out.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "uma/cli/command.h"
#include "uma/cli/common.h"

namespace {

struct GenerateFlags {
  uma::cli::ModelFlags model;
  uma::cli::SamplingFlags sampling;
  std::string prompt, system_prompt, chat_template_config;
  bool ignore_chat_template = false, verbose = false, json = false;
};

int run_generate(GenerateFlags& f) {
  using namespace uma;
  using ojson = nlohmann::ordered_json;
  if (f.prompt == "-") {
    f.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto lm = cli::load_all(f.model, f.json);
  ojson messages = ojson::array();
  if (!f.system_prompt.empty()) messages.push_back({{"role", "system"}, {"content", f.system_prompt}});
  messages.push_back({{"role", "user"}, {"content", f.prompt}});
  lm::PromptOptions po;
  po.use_chat_template = !f.ignore_chat_template;
  po.template_kwargs = cli::chat_template_kwargs(f.chat_template_config);
  std::vector<int> prompt = lm::build_prompt(lm, messages, po);
  if (prompt.empty()) throw std::invalid_argument("the prompt encodes to no tokens");
  auto opts = cli::text_options(f.model, f.sampling);
  if (f.verbose && !f.json) std::fprintf(stderr, "==========\n");
  auto result = lm::stream_generate(*lm.model, lm.tokenizer, prompt, opts, [&](const lm::TextResponse& r) {
    if (!f.json && !r.text.empty()) {
      std::fwrite(r.text.data(), 1, r.text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  auto& s = result.stats;
  if (f.json) {
    ojson j = {{"prompt_tokens", prompt},
               {"tokens", result.tokens},
               {"text", result.text},
               {"finish_reason", result.finish_reason},
               {"prompt_tps", s.prompt_tps()},
               {"generation_tps", s.generation_tps()},
               {"peak_memory_gb", double(result.peak_memory) / 1e9}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("\n");
  if (f.verbose) {
    std::fprintf(stderr, "==========\n");
    std::fprintf(stderr, "Prompt: %d tokens, %.3f tokens-per-sec\n", s.prompt_tokens, s.prompt_tps());
    std::fprintf(stderr, "Generation: %d tokens, %.3f tokens-per-sec\n", s.generated, s.generation_tps());
    std::fprintf(stderr, "Peak memory: %.3f GB\n", double(result.peak_memory) / 1e9);
  }
  return 0;
}

uma::cli::Registration reg{"generate", "Generate text from a prompt", [](CLI::App& app) {
  auto f = std::make_shared<GenerateFlags>();
  uma::cli::add_model_flags(app, f->model);
  uma::cli::add_sampling_flags(app, f->sampling);
  app.add_option("-p,--prompt", f->prompt, "The prompt ('-' reads stdin)")->required();
  app.add_option("--system-prompt", f->system_prompt, "System message before the prompt");
  app.add_flag("--ignore-chat-template", f->ignore_chat_template, "Tokenize the prompt as is");
  app.add_option("--chat-template-config", f->chat_template_config,
                 "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}'");
  app.add_flag("--verbose", f->verbose, "Print the speed and memory statistics");
  app.add_flag("--json", f->json, "Print one JSON object with prompt_tokens, tokens, text and statistics");
  return [f]() { return run_generate(*f); };
}};

}  // namespace
