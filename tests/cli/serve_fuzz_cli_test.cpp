// `uma serve` against bad input (tools/serve_stress): 800 seeded malformed
// requests, each answered with a valid body or an OpenAI error object, the
// server healthy after every 25 and right at the end; the HTTP-layer cases
// the fuzzer found, each with its exact answer (chunked bodies past the
// limit, compressed bodies, Range, deep nesting, half-closed clients, a
// request line cut short); and slow clients (a byte at a time, or never
// reading their answer) that neither stall an ordinary request nor stay.
#include <cstdio>
#include <thread>

#include "cli/serve_util.h"
#include "cli_util.h"
#include "serve_stress/fuzz.h"
#include "serve_stress/http_client.h"
#include "serve_stress/slow.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace ss = uma::serve_stress;

// Sends `bytes` on a fresh connection (half-closing after them when asked)
// and reads the answer.
ss::HttpResponse round_trip(int port, const std::string& bytes, bool half_close = false) {
  ss::Connection c(port);
  c.send(bytes);
  if (half_close) c.shutdown_write();
  return c.read_response(120);
}

// The answer is `status` with an OpenAI error object whose message holds `needle`.
void expect_error(const ss::HttpResponse& r, int status, const std::string& needle) {
  EXPECT_EQ(r.status, status) << r.error << " " << r.body;
  EXPECT_EQ(r.header("content-type").rfind("application/json", 0), 0u) << r.header("content-type");
  json j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
  EXPECT_EQ(j["error"]["type"], status >= 500 ? "server_error" : "invalid_request_error") << r.body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r.body;
}

// The text of a whole chat answer (or "(failed)").
std::string chat_text(const ss::HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (r.status != 200 || j.is_discarded()) return "(failed: " + std::to_string(r.status) + " " + r.body + ")";
  return j["choices"][0]["message"]["content"];
}

TEST(ServeFuzzCli, MalformedRequestsGetValidAnswersOrErrorObjects) {
  // --max-tokens 16: a mutated request without max_tokens stays short.
  ServeProcess serve({"--max-tokens", "16"});
  ASSERT_GT(serve.port(), 0);
  ss::FuzzOptions o;
  o.port = serve.port();
  o.seed = 1;
  o.cases = 800;
  o.batch = 25;
  o.timeout_s = 120;
  ss::FuzzReport r = ss::run_fuzz(o);
  std::printf("fuzz: %s\n", r.summary().c_str());
  for (auto& e : r.errors) ADD_FAILURE() << e;
  EXPECT_EQ(r.failures, 0);
  EXPECT_EQ(r.cases, 800);
  EXPECT_EQ(r.health_probes, 32);
  // Both the generator and the refusals were reached.
  EXPECT_GT(r.statuses[200], 50);
  EXPECT_GT(r.statuses[400], 200);
  // And it still answers right.
  auto res = serve.client().Post("/v1/chat/completions", chat_body("Hi", 8).dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], generate("Hi", 8)["text"]);
}

TEST(ServeFuzzCli, HttpLayerFindingsGetTheirAnswers) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  const int port = serve.port();
  const std::string body = chat_body("Hi", 8).dump();
  const std::string want = generate("Hi", 8)["text"];
  const std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  auto chunked = [](const std::string& text, size_t piece) {
    std::string out;
    char size[32];
    for (size_t at = 0; at < text.size(); at += piece) {
      std::string part = text.substr(at, piece);
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      out += size + part + "\r\n";
    }
    return out + "0\r\n\r\n";
  };
  // A chunked body is read and answered like any other...
  EXPECT_EQ(chat_text(round_trip(port, head + "Transfer-Encoding: chunked\r\n\r\n" + chunked(body, 7))), want);
  // ...but not past the 16 MiB limit, which httplib checks only for Content-Length.
  std::string padded = body;
  padded.insert(1, std::string(17 << 20, ' '));
  expect_error(round_trip(port, head + "Transfer-Encoding: chunked\r\n\r\n" + chunked(padded, 1 << 16)), 413,
               "larger than 16 MiB");
  // A compressed body could inflate past any limit: refused.
  expect_error(round_trip(port, head + "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) +
                                  "\r\n\r\n" + body),
               415, "Content-Encoding: gzip");
  // Range is ignored: the whole answer, not a multipart slice of it.
  ss::HttpResponse ranged = round_trip(
      port, head + "Range: bytes=0-5\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(ranged.header("content-type"), "application/json");
  EXPECT_EQ(chat_text(ranged), want);
  // JSON nested past 128 levels is refused before it is parsed (100000
  // levels in a schema overflowed the stack).
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_body = R"({"messages":[{"role":"user","content":"Hi"}],"tools":)" + deep + "}";
  expect_error(round_trip(port, ss::http_request("POST", "/v1/chat/completions", deep_body)), 400, "deeper than 128");
  // A client that half-closes after its request still gets an answer: a bad
  // request its 400, a long one the error saying it was taken as gone.
  expect_error(round_trip(port, ss::http_request("POST", "/v1/chat/completions", "{bad"), true), 400, "not valid JSON");
  const std::string endless = R"({"prompt":"The garden","max_tokens":2000,"logit_bias":{"1":-100,"4":-100}})";
  expect_error(round_trip(port, ss::http_request("POST", "/v1/completions", endless), true), 400, "closed its side");
  // A request line cut short, then the client's end; one past the 64 KiB
  // head limit, which httplib would close without a word.
  expect_error(round_trip(port, "POST /v1/chat/compl", true), 400, "malformed HTTP request");
  expect_error(round_trip(port, "GET /" + std::string(100 << 10, 'a') + " HTTP/1.1\r\n\r\n"), 431, "larger than 64 KiB");
  EXPECT_TRUE(settles(serve)) << health(serve).dump();
}

// A POST refused for its API key before its body was read, on a kept-alive
// connection: the answer says the connection ends with it, and the unread
// body is never taken for the next request (a browser that tried a wrong
// key then the right one got "malformed HTTP request").
TEST(ServeFuzzCli, ARefusedBodyEndsItsConnection) {
  ServeProcess serve({"--api-key", "k"});
  ASSERT_GT(serve.port(), 0);
  const std::string body = chat_body("Hi", 4).dump();
  ss::Connection c(serve.port());
  ASSERT_TRUE(c.ok());
  const std::string keep = "Host: 127.0.0.1\r\nConnection: keep-alive\r\n";
  ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.1\r\n" + keep + "Authorization: Bearer wrong\r\n" +
                     "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body));
  auto unauthorized = [](const ss::HttpResponse& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j.is_object() ? j["error"].value("type", "") : "", "authentication_error") << r.body;
  };
  ss::HttpResponse refused = c.read_response(60);
  unauthorized(refused);
  EXPECT_EQ(refused.header("connection"), "close");
  // Sent after it on the same connection: no answer, least of all a 400.
  c.send("GET /v1/models HTTP/1.1\r\n" + keep + "Authorization: Bearer k\r\n\r\n");
  std::string after;
  EXPECT_TRUE(c.wait_closed(30, &after));
  EXPECT_EQ(after, "");
  // A GET refused on a kept-alive connection (no body) leaves it open.
  ss::Connection g(serve.port());
  ASSERT_TRUE(g.send("GET /v1/models HTTP/1.1\r\n" + keep + "\r\n"));
  unauthorized(g.read_response(60));
  ASSERT_TRUE(g.send("GET /v1/models HTTP/1.1\r\n" + keep + "Authorization: Bearer k\r\n\r\n"));
  EXPECT_EQ(g.read_response(60).status, 200);
}

// A request that streams for long (end-of-text banned).
json endless_stream(int max_tokens) {
  return {{"prompt", "The garden"},
          {"max_tokens", max_tokens},
          {"stream", true},
          {"logit_bias", {{"1", -100}, {"4", -100}}}};
}

TEST(ServeSlowClientsCli, SlowConnectionsNeitherStallOthersNorStay) {
  ServeProcess serve({"--request-timeout", "10"});
  ASSERT_GT(serve.port(), 0);
  const int port = serve.port();
  const std::string want = generate("Hi", 8)["text"];
  // 300 connections sending a byte every half second (more than the old
  // fixed pool of max_queue + 4 = 68 threads), and 4 clients that never
  // read their streamed answers (small receive buffers).
  ss::SlowClients slow(port, 300);
  ASSERT_EQ(slow.opened(), 300);
  std::vector<std::unique_ptr<ss::Connection>> deaf;
  for (int i = 0; i < 4; ++i) {
    deaf.push_back(std::make_unique<ss::Connection>(port, 2048));
    ASSERT_TRUE(deaf.back()->send(ss::http_request("POST", "/v1/completions", endless_stream(400).dump())));
  }
  std::atomic<bool> done{false};
  std::atomic<int> closed{0};
  std::thread ticker([&] {
    while (!done) {
      closed = slow.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  // An ordinary request is served while every slow connection is still held.
  const double t0 = ss::now_seconds();
  auto res = serve.client().Post("/v1/chat/completions", chat_body("Hi", 8).dump(), "application/json");
  const double latency = ss::now_seconds() - t0;
  const int closed_then = closed;
  std::printf("an ordinary request beside 300 slow and 4 deaf clients: %.3f s\n", latency);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], want);
  EXPECT_EQ(closed_then, 0) << "slow connections were cut before an ordinary request was served";
  // The deaf clients' generations end (their writes time out, or finish
  // into the socket buffers) though they never read.
  EXPECT_TRUE(settles(serve, 120)) << health(serve).dump();
  // Every slow connection is cut at the request timeout with a 408.
  const double until = ss::now_seconds() + 120;
  while (closed < slow.opened() && ss::now_seconds() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  done = true;
  ticker.join();
  std::printf("slow connections closed by the server: %d of %d after %.1f s\n", closed.load(), slow.opened(),
              ss::now_seconds() - t0);
  EXPECT_EQ(closed, slow.opened());
  int timeouts = 0;
  for (auto& a : slow.answers()) {
    if (a.status == 408 && json::parse(a.body, nullptr, false).contains("error")) ++timeouts;
  }
  EXPECT_EQ(timeouts, slow.opened());
  // And it still answers.
  res = serve.client().Post("/v1/chat/completions", chat_body("Hi", 8).dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], want);
}

}  // namespace
}  // namespace uma::cli
