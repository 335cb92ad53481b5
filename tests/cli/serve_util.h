// The `uma serve` child process and the helpers of the serve suites: the
// answer `uma generate` gives a prompt, chat bodies, /health, server-sent events.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_util.h"

namespace uma::cli::testing {

using json = nlohmann::json;

inline const std::string kModel = std::string(UMA_SOURCE_DIR) + "/models/uma-dict";

// A `uma serve --port 0` child; its first stdout line names the port.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> extra = {}, const std::string& model = kModel) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::vector<std::string> args = {
          uma_binary().string(), "serve", "--model", model, "--port", "0"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[4096] = {0};
    if (f && std::fgets(line, sizeof line, f)) {
      std::string s = line;
      auto at = s.find("127.0.0.1:");
      if (at != std::string::npos) port_ = std::atoi(s.c_str() + at + 10);
    }
    if (f) std::fclose(f);
  }
  ~ServeProcess() { terminate(); }
  // SIGTERM, then the exit status (-1 once gone).
  int terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(600, 0);  // generous: CI runs test binaries side by side
    return c;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// `uma generate --json` on the same prompt: {tokens, text, prompt_tokens, finish_reason}.
inline json generate(const std::string& prompt, int max_tokens, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {
      "generate", "--model", kModel, "--prompt", prompt, "-m", std::to_string(max_tokens),
      "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  Result r = run_uma(args);
  EXPECT_EQ(r.rc, 0) << r.err;
  return json::parse(r.out);
}

inline json chat_body(const std::string& content, int max_tokens) {
  return {{"model", "uma-dict"},
          {"messages", {{{"role", "user"}, {"content", content}}}},
          {"max_tokens", max_tokens}};
}

// GET /health's answer ({} when it does not answer 200).
inline json health(const ServeProcess& serve) {
  auto h = serve.client().Get("/health");
  return h && h->status == 200 ? json::parse(h->body) : json::object();
}

// Polls /health until pred holds (or `seconds` pass); returns the last answer.
template <class P>
json health_until(const ServeProcess& serve, P pred, double seconds = 10) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  json h;
  do {
    h = health(serve);
    if (!h.empty() && pred(h)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < until);
  return h;
}

// A server with nothing generating or waiting (within `seconds`).
inline bool settles(const ServeProcess& serve, double seconds = 60) {
  json h = health_until(
      serve, [](const json& h) { return h["queued"] == 0 && h["active"] == 0 && h["waiting"] == 0; }, seconds);
  return !h.empty() && h["queued"] == 0 && h["active"] == 0 && h["waiting"] == 0;
}

// The server-sent events of a streamed response: each "data:" payload.
inline std::vector<std::string> events(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    size_t end = body.find("\n\n", at);
    out.push_back(body.substr(at + 6, end - at - 6));
    at = end;
  }
  return out;
}

// A dictionary entry: the schema of the structured-output tests, and the
// check, written by hand, that an answer satisfies it.
inline const char* kDictSchema = R"({"type": "object",
  "properties": {"word": {"type": "string", "minLength": 1, "maxLength": 16},
                 "pos": {"enum": ["noun", "verb", "adjective"]},
                 "senses": {"type": "integer", "minimum": 1, "maximum": 9},
                 "examples": {"type": "array", "items": {"type": "string", "maxLength": 24}, "maxItems": 2}},
  "required": ["word", "pos", "senses", "examples"], "additionalProperties": false})";

inline void expect_dict_entry(const std::string& content) {
  json v;
  ASSERT_NO_THROW(v = json::parse(content)) << content;
  ASSERT_TRUE(v.is_object()) << content;
  EXPECT_EQ(v.size(), 4u) << content;
  ASSERT_TRUE(v["word"].is_string());
  EXPECT_FALSE(v["word"].get<std::string>().empty());
  EXPECT_TRUE(v["pos"] == "noun" || v["pos"] == "verb" || v["pos"] == "adjective") << content;
  ASSERT_TRUE(v["senses"].is_number_integer());
  EXPECT_GE(v["senses"].get<int>(), 1);
  EXPECT_LE(v["senses"].get<int>(), 9);
  ASSERT_TRUE(v["examples"].is_array());
  EXPECT_LE(v["examples"].size(), 2u);
  for (auto& e : v["examples"]) EXPECT_TRUE(e.is_string()) << content;
}

}  // namespace uma::cli::testing
