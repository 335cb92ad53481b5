// `uma serve` batching requests (serve/scheduler.h) on the built-in model:
// six requests at once with --max-concurrency 4 each get what `uma generate`
// gives them alone, and the server's steps did carry several sequences; a
// prompt that starts like an earlier one prefills only its new tokens
// (counted by /health); a client that hangs up, streamed or not, frees its
// place at once; a request that fails leaves the others running.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <future>
#include <thread>

#include "cli/serve_util.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;

// Sends a POST of `body` to `path` and reads until `bytes` of the answer
// came or a second passed, then closes the connection: a client that gives up.
void hang_up(int port, const std::string& path, const std::string& body, size_t bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t got = 0;
  char buf[4096];
  while (got < bytes) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
}

// A request that would run for long: the end-of-text ids 1 and 4 banned.
json endless(int max_tokens) {
  return {{"prompt", "The garden"}, {"max_tokens", max_tokens}, {"logit_bias", {{"1", -100}, {"4", -100}}}};
}

TEST(ServeBatchCli, SixRequestsAtOnceEachGetWhatGenerateSays) {
  ServeProcess serve({"--max-concurrency", "4"});
  ASSERT_GT(serve.port(), 0);
  const std::vector<std::string> questions = {"What does 'garden' mean?", "Give me a fortune.",
                                              "What does 'river' mean?", "Hi",
                                              "What does 'stone' mean?", "Tell me about the sea."};
  const int max_tokens[] = {24, 40, 12, 30, 18, 36};
  std::vector<json> want;
  for (size_t i = 0; i < questions.size(); ++i) want.push_back(generate(questions[i], max_tokens[i]));
  std::vector<std::future<std::string>> got;
  for (size_t i = 0; i < questions.size(); ++i) {
    got.push_back(std::async(std::launch::async, [&, i] {
      json body = chat_body(questions[i], max_tokens[i]);
      const bool stream = i % 2 == 1;
      if (stream) body["stream"] = true;
      auto res = serve.client().Post("/v1/chat/completions", body.dump(), "application/json");
      if (!res || res->status != 200) return std::string("(failed)");
      if (!stream) return json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>();
      std::string text;
      for (auto& e : events(res->body)) {
        if (e == "[DONE]") break;
        text += json::parse(e)["choices"][0]["delta"].value("content", "");
      }
      return text;
    }));
  }
  int most_active = 0;
  for (auto& g : got) {
    while (g.wait_for(std::chrono::milliseconds(2)) != std::future_status::ready) {
      json h = health(serve);
      if (!h.empty()) most_active = std::max(most_active, h["active"].get<int>());
    }
  }
  for (size_t i = 0; i < questions.size(); ++i) EXPECT_EQ(got[i].get(), want[i]["text"]) << questions[i];
  EXPECT_LE(most_active, 4);
  // A streamed response's place is given back just after its last byte, and
  // the scheduler counts it out at its next turn.
  json h = health_until(serve, [](const json& h) { return h["queued"] == 0 && h["active"] == 0; });
  EXPECT_EQ(h["queued"], 0);
  EXPECT_EQ(h["active"], 0);
  EXPECT_EQ(h["waiting"], 0);
  // Batched: the decode steps carried more than one sequence on average.
  EXPECT_GT(h["decode_rows"].get<double>() / h["decode_steps"].get<double>(), 1.5) << h.dump();
}

TEST(ServeBatchCli, ASharedSystemPromptIsPrefilledOnce) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  const std::string system =
      "You are a careful dictionary. Answer with one short definition, plain words, no lists, and say "
      "nothing else at all, whatever the question is about.";
  auto ask = [&](const std::string& q) {
    json body = {{"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", q}}}},
                 {"max_tokens", 12}};
    auto res = serve.client().Post("/v1/chat/completions", body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200);
    return res ? json::parse(res->body) : json();
  };
  json a = ask("What does 'garden' mean?");
  json h1 = health(serve);
  const int prompt_a = a["usage"]["prompt_tokens"];
  EXPECT_EQ(h1["prefilled_tokens"], prompt_a);
  EXPECT_EQ(h1["prompt_cache"]["reused_tokens"], 0);
  json b = ask("What does 'river' mean?");
  json h2 = health(serve);
  const int prompt_b = b["usage"]["prompt_tokens"];
  const int prefilled_b = h2["prefilled_tokens"].get<int>() - prompt_a;
  const int reused_b = h2["prompt_cache"]["reused_tokens"];
  EXPECT_EQ(prefilled_b + reused_b, prompt_b);
  // Only the user's words and what follows them are new: the system prompt
  // and the template around it (30+ tokens) come from the cache.
  EXPECT_GT(reused_b, 30);
  EXPECT_LT(prefilled_b, 16) << h2.dump();
  EXPECT_EQ(h2["prompt_cache"]["hits"], 1);
  EXPECT_GE(h2["prompt_cache"]["entries"].get<int>(), 1);
  // And the answer is the one the whole prompt gives.
  Result want = run_uma({"generate", "--model", kModel, "--system-prompt", system, "--prompt",
                         "What does 'river' mean?", "-m", "12", "--json"});
  ASSERT_EQ(want.rc, 0) << want.err;
  EXPECT_EQ(b["choices"][0]["message"]["content"], json::parse(want.out)["text"]);
}

// --max-concurrency 1: a request whose client gives up (streamed, then
// not) leaves the batch at once; the next request is served.
TEST(ServeBatchCli, AClientThatHangsUpFreesItsPlace) {
  ServeProcess serve({"--max-concurrency", "1"});
  ASSERT_GT(serve.port(), 0);
  for (bool stream : {true, false}) {
    json body = endless(100000);
    body["stream"] = stream;
    // Streamed: it goes after some chunks; whole: after a second of waiting.
    auto gone = std::async(std::launch::async, [&] { hang_up(serve.port(), "/v1/completions", body.dump(), 2000); });
    health_until(serve, [](const json& h) { return h["active"] == 1; });
    gone.get();
    json h = health_until(serve, [](const json& h) { return h["active"] == 0 && h["queued"] == 0; });
    EXPECT_EQ(h["active"], 0) << (stream ? "streamed " : "whole ") << h.dump();
    EXPECT_EQ(h["queued"], 0) << h.dump();
    EXPECT_LT(h["decode_steps"].get<int>(), 50000) << h.dump();
    json want = generate("Hi", 8);
    auto res = serve.client().Post("/v1/chat/completions", chat_body("Hi", 8).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], want["text"]);
  }
}

// A request that fails in generation (a logit_bias id outside the
// vocabulary) gets its error while the requests beside it finish unharmed.
TEST(ServeBatchCli, AFailingRequestLeavesTheOthersRunning) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  const std::string q = "Give me a fortune.";
  json want = generate(q, 40);
  auto good = std::async(std::launch::async, [&] {
    auto res = serve.client().Post("/v1/chat/completions", chat_body(q, 40).dump(), "application/json");
    return res && res->status == 200
               ? json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>()
               : std::string("(failed)");
  });
  health_until(serve, [](const json& h) { return h["active"] == 1; });
  json bad = chat_body("Hi", 8);
  bad["logit_bias"] = {{"100000", 5}};
  auto res = serve.client().Post("/v1/chat/completions", bad.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_NE(json::parse(res->body)["error"]["message"].get<std::string>().find("[logit_bias]"), std::string::npos)
      << res->body;
  bad["stream"] = true;
  res = serve.client().Post("/v1/chat/completions", bad.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("[logit_bias]"), std::string::npos) << res->body;
  EXPECT_EQ(good.get(), want["text"]);
  EXPECT_EQ(health(serve)["queued"], 0);
}

}  // namespace
}  // namespace uma::cli
