// `uma serve`: an OpenAI-compatible HTTP server over one loaded model, as
// mlx-lm's server: GET /health, GET /v1/models, POST /v1/chat/completions
// and /v1/completions (whole responses or server-sent events). This first
// version generates for one request at a time (others wait their turn, up
// to max_queue; beyond it 503 with Retry-After);
// continuous batching, prompt caches shared across requests, structured
// output and tool calls are still to come (docs/serve.md).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "uma/lm/load.h"
#include "uma/lm/prompt.h"
#include "uma/serve/openai.h"

namespace uma::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;           // 0: any free port (see Server::port)
  std::string model_id;      // what /v1/models and the responses name
  lm::TextOptions defaults;  // per-request options start from these
  lm::PromptOptions prompt;  // chat template use and its extra variables
  size_t max_body_bytes = 16u << 20;
  std::string api_key;  // non-empty: /v1/* requests need "Authorization: Bearer <api_key>"
  int max_queue = 64;   // requests generating or waiting; more get 503 with Retry-After
};

class Server {
 public:
  Server(lm::Loaded& model, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket (throws std::runtime_error naming host and port when it
  // cannot) and returns the port it listens on.
  int bind();
  // Serves until stop(); bind() first.
  void serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace uma::serve
