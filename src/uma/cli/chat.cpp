// `uma chat`: an interactive conversation with history and streaming.
// /reset forgets the history, /exit (or end of input) leaves; Ctrl-C stops
// the answer being written, not the program. The KV cache lives across turns:
// each turn feeds only the tokens after the longest prefix the cache already
// holds, so an answer costs the new message, not the whole conversation. A
// turn that fails (say, the conversation outgrew the context) is reported
// and dropped; the session goes on.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/lm/prompt_cache.h"

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct ChatFlags {
  uma::cli::ModelFlags model;
  uma::cli::SamplingFlags sampling;
  uma::cli::KVFlags kv;
  std::string prompt_cache_file;
  std::string system_prompt, chat_template_config;
};

int run_chat(ChatFlags& f) {
  using namespace uma;
  using ojson = nlohmann::ordered_json;
  auto kv_quant = cli::kv_quantization(f.kv);
  if (!f.prompt_cache_file.empty() && !f.system_prompt.empty()) {
    throw std::invalid_argument("--system-prompt cannot be used with --prompt-cache-file: the conversation starts "
                                "with the cached prompt");
  }
  auto lm = cli::load_all(f.model);
  if (!lm.has_chat_template()) throw std::invalid_argument("the model has no chat template; use `uma generate`");
  lm::PromptOptions po;
  po.template_kwargs = cli::chat_template_kwargs(f.chat_template_config);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);

  auto fresh = [&] {
    ojson m = ojson::array();
    if (!f.system_prompt.empty()) m.push_back({{"role", "system"}, {"content", f.system_prompt}});
    return m;
  };
  ojson messages = fresh();
  auto opts = cli::text_options(f.model, f.sampling);
  opts.gen.kv_quant = kv_quant;
  lm::PromptCache cache(*lm.model, opts.gen.max_kv_size);
  // With --prompt-cache-file every turn continues the cached tokens (held;
  // -1 where the file did not record them); the file is read again whenever
  // the caches lost them (a failed turn, a rotating cache that could not trim).
  std::vector<int> held;
  auto restore = [&] {
    auto file = cli::load_prompt_cache_for(lm, f.prompt_cache_file, f.model, f.kv);
    held = file.tokens ? *file.tokens : std::vector<int>(size_t(file.caches[0]->offset()), -1);
    cache.assign(std::move(file.caches), held);
  };
  if (!f.prompt_cache_file.empty()) restore();
  auto turn_prompt = [&] {
    if (f.prompt_cache_file.empty()) return lm::build_prompt(lm, messages, po);
    const auto& t = cache.tokens();
    bool kept = cache.offset() >= int(held.size()) && t.size() >= held.size() &&
                std::equal(held.begin(), held.end(), t.begin());
    if (!kept) restore();
    std::vector<int> p = held, more = lm::build_continuation(lm, messages, po);
    p.insert(p.end(), more.begin(), more.end());
    return p;
  };
  std::fprintf(stderr, "[uma chat] type a message; /reset clears the history, /exit quits, Ctrl-C stops an answer\n");
  std::string line;
  for (;;) {
    std::printf(">> ");
    std::fflush(stdout);
    g_interrupted = 0;
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      messages = fresh();
      std::printf("[history cleared]\n");
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    lm::TextResult result;
    try {
      std::vector<int> fresh_tokens = cache.fetch(turn_prompt());
      g_interrupted = 0;
      result = lm::stream_generate(*lm.model, lm.tokenizer, fresh_tokens, opts, [&](const lm::TextResponse& r) {
        std::fwrite(r.text.data(), 1, r.text.size(), stdout);
        std::fflush(stdout);
        return !g_interrupted;
      }, &cache.caches());
    } catch (const std::exception& e) {
      std::printf("\n");
      std::fflush(stdout);
      std::fprintf(stderr, "uma: error: %s\n", e.what());
      messages.erase(messages.end() - 1);
      cache.reset();
      continue;
    }
    if (g_interrupted) std::printf(" [stopped]");
    std::printf("\n");
    cache.record(result.tokens);
    messages.push_back({{"role", "assistant"}, {"content", result.text}});
  }
  std::printf("\n");
  return 0;
}

uma::cli::Registration reg{"chat", "Chat with a model in the terminal", [](CLI::App& app) {
  auto f = std::make_shared<ChatFlags>();
  uma::cli::add_model_flags(app, f->model);
  f->sampling.max_tokens = 1024;
  uma::cli::add_sampling_flags(app, f->sampling);
  uma::cli::add_grammar_flags(app, f->sampling);
  app.add_option("--system-prompt", f->system_prompt, "System message for the conversation");
  app.add_option("--chat-template-config", f->chat_template_config, "JSON object of extra chat template variables");
  uma::cli::add_kv_flags(app, f->kv);
  app.add_option("--prompt-cache-file", f->prompt_cache_file,
                 "A prompt cache (uma cache-prompt, mlx_lm.cache_prompt) that the conversation continues");
  return [f]() { return run_chat(*f); };
}};

}  // namespace
