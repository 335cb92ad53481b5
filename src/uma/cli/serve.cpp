// `uma serve`: the OpenAI-compatible server (serve/server.h), with mlx-lm's
// server flags: --model, --host, --port, the sampling defaults (--temp,
// --top-p, --top-k, --min-p, --max-tokens, ...) and --chat-template-args;
// --max-queue, --max-concurrency and --prompt-cache-bytes size the batching;
// --memory-limit, --request-timeout and --max-connections bound what
// requests and clients may take (docs/serve.md, "Holding up").
#include <csignal>
#include <cstdio>

#include "uma/cli/command.h"
#include "uma/cli/common.h"
#include "uma/core/allocator.h"
#include "uma/serve/server.h"

namespace {

struct ServeFlags {
  uma::cli::ModelFlags model;
  uma::cli::SamplingFlags sampling;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string chat_template_args;
  bool ignore_chat_template = false;
  std::string api_key;
  int max_queue = 64;
  int max_concurrency = 8;
  size_t prompt_cache_bytes = size_t(1) << 30;
  size_t memory_limit = 0;  // 0: the allocator's default
  int request_timeout = 30;
  int max_connections = 512;
};

uma::serve::Server* g_server = nullptr;

extern "C" void on_stop(int) {
  if (g_server) g_server->stop();
}

}  // namespace

static uma::cli::Registration reg{
    "serve",
    "Serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions)",
    [](CLI::App& app) {
      auto f = std::make_shared<ServeFlags>();
      uma::cli::add_model_flags(app, f->model);
      uma::cli::add_sampling_flags(app, f->sampling);
      app.add_option("--host", f->host, "Address to listen on")->capture_default_str();
      app.add_option("--port", f->port, "Port to listen on (0: any free one, printed at start)")
          ->capture_default_str()
          ->check(CLI::Range(0, 65535));
      app.add_option(
          "--chat-template-args", f->chat_template_args,
          "JSON object of extra chat template variables, e.g. '{\"enable_thinking\": false}'");
      app.add_option("--api-key", f->api_key,
                     "Require 'Authorization: Bearer KEY' on /v1/* (default: $UMA_API_KEY)")
          ->envname("UMA_API_KEY");
      app.add_option("--max-queue", f->max_queue,
                     "Requests generating or waiting before 503 Retry-After")
          ->capture_default_str()
          ->check(CLI::Range(1, 1 << 20));
      app.add_option("--max-concurrency", f->max_concurrency,
                     "Sequences (choices of requests) generated together in one batch; the others wait")
          ->capture_default_str()
          ->check(CLI::Range(1, 4096));
      auto* cache_bytes = app.add_option("--prompt-cache-bytes", f->prompt_cache_bytes,
                     "Bytes (or 512M, 2G) of KV cache kept for prompts that later requests start with (0: none)")
          ->capture_default_str()
          ->transform(CLI::AsSizeValue(false));
      app.add_option("--memory-limit", f->memory_limit,
                     "Bytes (or 512M, 8G) arrays may take; a request that would pass it fails with an "
                     "out-of-memory error and the others go on (default: 1.5x RAM)")
          ->transform(CLI::AsSizeValue(false));
      app.add_option("--request-timeout", f->request_timeout,
                     "Seconds a client has to send a whole request (408 beyond)")
          ->capture_default_str()
          ->check(CLI::Range(1, 86400));
      app.add_option("--max-connections", f->max_connections,
                     "Connections served at once, a thread each (at least --max-queue + 16); more wait")
          ->capture_default_str()
          ->check(CLI::Range(1, 1 << 16));
      app.add_flag("--ignore-chat-template", f->ignore_chat_template,
                   "Join chat messages as plain text instead of applying the chat template");
      return [f, cache_bytes]() -> int {
        using namespace uma;
        auto lm = cli::load_all(f->model);
        if (f->memory_limit) {
          if (get_active_memory() >= f->memory_limit) {
            throw std::invalid_argument("[serve] --memory-limit " + std::to_string(f->memory_limit) +
                                        " is below what the model already takes (" +
                                        std::to_string(get_active_memory()) + " bytes)");
          }
          set_memory_limit(f->memory_limit);
          // The prompt cache's entries count against the limit: unless told
          // otherwise, they may take a quarter of it.
          if (!cache_bytes->count()) f->prompt_cache_bytes = std::min(f->prompt_cache_bytes, f->memory_limit / 4);
        }
        serve::ServerOptions o;
        o.host = f->host;
        o.port = f->port;
        o.model_id = f->model.model;
        o.defaults = cli::text_options(f->model, f->sampling);
        o.prompt.use_chat_template = !f->ignore_chat_template;
        o.prompt.template_kwargs = cli::chat_template_kwargs(f->chat_template_args);
        o.api_key = f->api_key;
        o.max_queue = f->max_queue;
        o.max_concurrency = f->max_concurrency;
        o.prompt_cache_bytes = f->prompt_cache_bytes;
        o.request_timeout_s = f->request_timeout;
        o.max_connections = f->max_connections;
        serve::Server server(lm, o);
        int port = server.bind();
        g_server = &server;
        std::signal(SIGINT, on_stop);
        std::signal(SIGTERM, on_stop);
        std::printf(
            "uma serve: %s on http://%s:%d (GET /: a web chat; POST /v1/chat/completions, "
            "/v1/completions; GET /v1/models, /health)\n",
            o.model_id.c_str(), o.host.c_str(), port);
        std::fflush(stdout);
        server.serve();
        g_server = nullptr;
        return 0;
      };
    }};
