// `uma chat`: an interactive conversation with history and streaming.
// /reset forgets the history, /exit (or end of input) leaves; Ctrl-C stops
// the answer being written, not the program.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "uma/cli/command.h"
#include "uma/cli/common.h"

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct ChatFlags {
  uma::cli::ModelFlags model;
  uma::cli::SamplingFlags sampling;
  std::string system_prompt, chat_template_config;
};

int run_chat(ChatFlags& f) {
  using namespace uma;
  using ojson = nlohmann::ordered_json;
  auto all = cli::load_all(f.model);
  auto& tok = all.tokenizer;
  if (!tok.chat_template()) throw std::invalid_argument("the model has no chat template; use `uma generate`");
  ojson kwargs = cli::chat_template_kwargs(f.chat_template_config);
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
    auto prompt = lm::apply_chat_template(tok, messages, kwargs);
    g_interrupted = 0;
    auto result = lm::stream_generate(*all.model.model, tok, prompt, opts, [&](const lm::TextResponse& r) {
      std::fwrite(r.text.data(), 1, r.text.size(), stdout);
      std::fflush(stdout);
      return !g_interrupted;
    });
    if (g_interrupted) std::printf(" [stopped]");
    std::printf("\n");
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
  app.add_option("--system-prompt", f->system_prompt, "System message for the conversation");
  app.add_option("--chat-template-config", f->chat_template_config, "JSON object of extra chat template variables");
  return [f]() { return run_chat(*f); };
}};

}  // namespace
