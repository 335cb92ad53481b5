// `uma cache-prompt`: feed a prompt once and save the KV caches to a file
// that `uma generate/chat --prompt-cache-file` (and mlx_lm.generate)
// continue from, as mlx_lm.cache_prompt: the prompt is the start of a user
// message (chat template with continue_final_message) or plain text.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/allocator.h"

namespace {

struct CachePromptFlags {
  uma::cli::ModelFlags model;
  uma::cli::KVFlags kv;
  std::string prompt, prompt_cache_file, chat_template_config;
  bool ignore_chat_template = false;
};

int run_cache_prompt(CachePromptFlags& f) {
  using namespace uma;
  using ojson = nlohmann::ordered_json;
  auto kv_quant = cli::kv_quantization(f.kv);
  std::string out = f.prompt_cache_file;
  // As MLX's save_safetensors, which mlx-lm's loader relies on.
  if (out.size() < 12 || out.substr(out.size() - 12) != ".safetensors") out += ".safetensors";
  if (f.prompt == "-") {
    f.prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto lm = cli::load_all(f.model);
  lm::PromptOptions po;
  po.use_chat_template = !f.ignore_chat_template;
  po.template_kwargs = cli::chat_template_kwargs(f.chat_template_config);
  po.add_generation_prompt = false;
  po.continue_final_message = true;
  ojson messages = ojson::array({{{"role", "user"}, {"content", f.prompt}}});
  std::vector<int> tokens = lm::build_prompt(lm, messages, po);
  if (tokens.empty()) throw std::invalid_argument("the prompt encodes to no tokens");

  lm::GenerateOptions g;
  g.max_tokens = 0;  // prefill only
  g.max_kv_size = f.model.max_kv_size;
  g.prefill_step_size = f.model.prefill_step_size;
  g.kv_quant = kv_quant;
  lm::CacheList caches = lm.model->make_cache(f.model.max_kv_size);
  auto t0 = std::chrono::steady_clock::now();
  lm::TokenGenerator gen(*lm.model, tokens, g, &caches);
  gen.next();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "Processed %zu tokens (%.2f tok/s)\n", tokens.size(), s > 0 ? double(tokens.size()) / s : 0.0);
  std::fprintf(stderr, "Peak memory: %.3f GB\n", double(get_peak_memory()) / 1e9);
  lm::save_prompt_cache(out, caches, lm::prompt_cache_metadata(*lm.model, f.model.model, tokens));
  std::fprintf(stderr, "Saved %s\n", out.c_str());
  return 0;
}

uma::cli::Registration reg{"cache-prompt", "Save the KV cache of a prompt to a file, as mlx_lm.cache_prompt",
                           [](CLI::App& app) {
  auto f = std::make_shared<CachePromptFlags>();
  uma::cli::add_model_flags(app, f->model);
  uma::cli::add_kv_flags(app, f->kv);
  app.add_option("--prompt", f->prompt, "The prompt to cache ('-' reads stdin)")->required();
  app.add_option("--prompt-cache-file", f->prompt_cache_file,
                 "The .safetensors file to write (the extension is added when missing)")
      ->required();
  app.add_flag("--ignore-chat-template", f->ignore_chat_template, "Tokenize the prompt as is");
  app.add_option("--chat-template-config", f->chat_template_config, "JSON object of extra chat template variables");
  return [f]() { return run_cache_prompt(*f); };
}};

}  // namespace
