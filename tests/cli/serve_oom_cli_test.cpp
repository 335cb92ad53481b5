// `uma serve --memory-limit`: a request whose prefill and decode pass the
// limit (a long prompt, 16 choices) fails with a 500 naming out-of-memory,
// whole or streamed, while short requests before and after it get what
// `uma generate` says, and the server settles healthy. The built-in model
// takes ~12 MB; its short request peaks well under 36 MiB and the long one
// asks for ~60 MB.
#include "cli/serve_util.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;

TEST(ServeOomCli, ARequestPastTheMemoryLimitFailsAndTheServerGoesOn) {
  ServeProcess serve({"--memory-limit", "36M"});
  ASSERT_GT(serve.port(), 0);
  EXPECT_EQ(health(serve)["memory"]["limit"], 36 << 20);
  const json want = generate("The garden", 16, {"--ignore-chat-template"});
  auto short_request = [&] {
    auto res = serve.client().Post("/v1/completions", json{{"prompt", "The garden"}, {"max_tokens", 16}}.dump(),
                                   "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    if (res && res->status == 200) {
      EXPECT_EQ(json::parse(res->body)["choices"][0]["text"], want["text"]);
    }
  };
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += "The garden by the river and the stone. ";
  json big = {{"prompt", long_prompt}, {"max_tokens", 16}, {"n", 16}};

  short_request();
  auto res = serve.client().Post("/v1/completions", big.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500) << res->body;
  json err = json::parse(res->body);
  EXPECT_EQ(err["error"]["type"], "server_error");
  EXPECT_NE(err["error"]["message"].get<std::string>().find("out of memory"), std::string::npos) << res->body;
  short_request();

  // Streamed: an error event naming it, then [DONE].
  big["stream"] = true;
  res = serve.client().Post("/v1/completions", big.dump(), "application/json");
  ASSERT_TRUE(res);
  auto ev = events(res->body);
  ASSERT_GE(ev.size(), 2u) << res->body;
  EXPECT_EQ(ev.back(), "[DONE]");
  json last = json::parse(ev[ev.size() - 2]);
  ASSERT_TRUE(last.contains("error")) << res->body;
  EXPECT_NE(last["error"]["message"].get<std::string>().find("out of memory"), std::string::npos);
  short_request();

  EXPECT_TRUE(settles(serve)) << health(serve).dump();
  json h = health(serve);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_LE(h["memory"]["active"].get<size_t>(), size_t(36) << 20);
}

TEST(ServeOomCli, ALimitBelowTheModelIsAnError) {
  Result r = run_uma({"serve", "--port", "0", "--memory-limit", "1M"});
  expect_one_line_error(r, "--memory-limit 1048576 is below what the model already takes");
}

}  // namespace
}  // namespace uma::cli
