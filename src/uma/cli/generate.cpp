// `uma generate`: one prompt in, streamed text out.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/lm/prompt_cache.h"

namespace {

struct GenerateFlags {
  uma::cli::ModelFlags model;
  uma::cli::SamplingFlags sampling;
  uma::cli::KVFlags kv;
  std::string prompt_cache_file;
  std::string prompt, system_prompt, chat_template_config;
  bool ignore_chat_template = false, verbose = false, json = false;
};

int run_generate(GenerateFlags& f) {
  using namespace uma;
  using ojson = nlohmann::ordered_json;
  if (f.prompt == "-") {
    f.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto kv_quant = cli::kv_quantization(f.kv);
  if (!f.prompt_cache_file.empty() && !f.system_prompt.empty()) {
    throw std::invalid_argument("--system-prompt cannot be used with --prompt-cache-file: the conversation starts "
                                "with the cached prompt (as in mlx_lm.generate, which would drop it)");
  }
  auto lm = cli::load_all(f.model, f.json);
  std::optional<lm::PromptCache> cache;
  std::vector<int> held;  // the cached tokens (-1 where the file did not record them)
  if (!f.prompt_cache_file.empty()) {
    auto file = cli::load_prompt_cache_for(lm, f.prompt_cache_file, f.model, f.kv);
    int offset = file.caches[0]->offset();
    held = file.tokens ? *file.tokens : std::vector<int>(size_t(offset), -1);
    cache.emplace(*lm.model, f.model.max_kv_size);
    cache->assign(std::move(file.caches), held);
  }
  ojson messages = ojson::array();
  if (!f.system_prompt.empty()) messages.push_back({{"role", "system"}, {"content", f.system_prompt}});
  messages.push_back({{"role", "user"}, {"content", f.prompt}});
  lm::PromptOptions po;
  po.use_chat_template = !f.ignore_chat_template;
  po.template_kwargs = cli::chat_template_kwargs(f.chat_template_config);
  std::vector<int> prompt;
  if (cache) {
    // As mlx_lm.generate: the prompt continues the cached one.
    std::vector<int> more = lm::build_continuation(lm, messages, po);
    if (more.empty()) throw std::invalid_argument("the prompt adds no tokens to the cached prompt");
    prompt = held;
    prompt.insert(prompt.end(), more.begin(), more.end());
  } else {
    prompt = lm::build_prompt(lm, messages, po);
  }
  if (prompt.empty()) throw std::invalid_argument("the prompt encodes to no tokens");
  std::vector<int> fed = cache ? cache->fetch(prompt) : prompt;
  auto opts = cli::text_options(f.model, f.sampling);
  opts.gen.kv_quant = kv_quant;
  if (f.verbose && !f.json) std::fprintf(stderr, "==========\n");
  auto result = lm::stream_generate(*lm.model, lm.tokenizer, fed, opts, [&](const lm::TextResponse& r) {
    if (!f.json && !r.text.empty()) {
      std::fwrite(r.text.data(), 1, r.text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  }, cache ? &cache->caches() : nullptr);
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
  std::fflush(stdout);  // before the statistics on stderr, so a terminal shows them in order
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
  uma::cli::add_grammar_flags(app, f->sampling);
  app.add_option("-p,--prompt", f->prompt, "The prompt ('-' reads stdin)")->required();
  app.add_option("--system-prompt", f->system_prompt, "System message before the prompt");
  app.add_flag("--ignore-chat-template", f->ignore_chat_template, "Tokenize the prompt as is");
  app.add_option("--chat-template-config", f->chat_template_config,
                 "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}'");
  uma::cli::add_kv_flags(app, f->kv);
  app.add_option("--prompt-cache-file", f->prompt_cache_file,
                 "A prompt cache (uma cache-prompt, mlx_lm.cache_prompt) that the prompt continues");
  app.add_flag("--verbose", f->verbose, "Print the speed and memory statistics");
  app.add_flag("--json", f->json, "Print one JSON object with prompt_tokens, tokens, text and statistics");
  return [f]() { return run_generate(*f); };
}};

}  // namespace
