// `uma serve`'s web chat page at GET /: served as embedded (the bytes of
// src/uma/serve/web/chat.html, with a CSP whose hashes are those of its
// inline script and style), and used in headless Chromium (Debian's
// chromium, driven by playwright-core; tests/cli/js/web_chat.mjs): its
// answers against `uma generate`, a second turn against the server's
// unstreamed answer to the same messages, Stop, the API key, errors, and a
// screenshot.
#include <httplib.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/png_util.h"
#include "cli/serve_util.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kChromium = "/usr/bin/chromium";
const std::string kPagePath = std::string(UMA_SOURCE_DIR) + "/src/uma/serve/web/chat.html";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A CSP hash source for `text`: 'sha256-<base64 of its SHA-256>'.
std::string csp_hash(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  unsigned char b64[4 * EVP_MAX_MD_SIZE];
  int len = EVP_EncodeBlock(b64, md, int(n));
  return "'sha256-" + std::string(reinterpret_cast<char*>(b64), size_t(len)) + "'";
}

// The text between <tag> and </tag> in the page.
std::string inline_block(const std::string& page, const std::string& tag) {
  size_t open = page.find("<" + tag + ">"), close = page.find("</" + tag + ">");
  if (open == std::string::npos || close == std::string::npos) return "(no <" + tag + ">)";
  open += tag.size() + 2;
  return page.substr(open, close - open);
}

TEST(ServeWebCli, ThePageIsEmbeddedWithARestrictiveCsp) {
  ServeProcess serve({"--api-key", "k"});
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();  // no key: the page is open, /v1/* is not
  auto res = c.Get("/");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string page = read_file(kPagePath);
  ASSERT_GT(page.size(), 1000u);
  EXPECT_EQ(res->body, page);  // the file as built in, byte for byte
  const std::string csp = res->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src " + csp_hash(inline_block(page, "script")) + ";"), std::string::npos)
      << csp;
  EXPECT_NE(csp.find("style-src " + csp_hash(inline_block(page, "style")) + ";"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self';"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("http"), std::string::npos) << csp;
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  // The page names no other origin: it works offline.
  EXPECT_EQ(page.find("http:"), std::string::npos);
  EXPECT_EQ(page.find("https:"), std::string::npos);
  EXPECT_EQ(page.find("innerHTML"), std::string::npos);

  for (const char* path : {"/index.html", "/chat", "/v1"}) {
    auto missing = c.Get(path);
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404) << path;
    EXPECT_TRUE(json::parse(missing->body)["error"]["message"].is_string()) << missing->body;
  }
  auto denied = c.Get("/v1/models");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
}

TEST(ServeWebCli, ChatInHeadlessChromium) {
  ASSERT_TRUE(fs::exists(kChromium))
      << kChromium << " is missing: `make deps` installs it (Debian's chromium package)";
  const std::string modules = std::string(UMA_FIXTURES_NPM_DIR) + "/node_modules";
  ASSERT_TRUE(fs::exists(modules + "/playwright-core/package.json"))
      << "run `make npm` (playwright-core, which drives the system chromium)";
  // End-of-text (ids 1 and 4) banned, so that the long answer is still
  // running when Stop is pressed; the references ban them too.
  const std::string bias = R"({"1": -100, "4": -100})";
  ServeProcess serve({"--api-key", "k", "--logit-bias", bias});
  ASSERT_GT(serve.port(), 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(serve.port());
  const fs::path out = fs::temp_directory_path() / ("uma_web_chat_" + std::to_string(::getpid()));
  fs::create_directories(out);
  const std::vector<std::string> q = {"What does 'garden' mean?", "And 'river'?", "Give me a fortune."};
  const std::string system = "Answer in the Devil's Dictionary style.";
  const int max_tokens = 24, long_max_tokens = 4000;
  const json stub = {{"reasoning", "first <b>think</b> & then"},
                     {"content", "Bold <img src=x onerror=\"window.injected=1\"> & <script>x</script>"}};
  const json cfg = {{"modules", modules}, {"chromium", kChromium}, {"base", base},
                    {"out", out.string()}, {"key", "k"}, {"system", system}, {"questions", q},
                    {"max_tokens", max_tokens}, {"long_max_tokens", long_max_tokens}, {"stub", stub}};
  const std::string script = std::string(UMA_SOURCE_DIR) + "/tests/cli/js/web_chat.mjs";
  Result run = run_shell("timeout -k 5 300 node " + quote(script) + " " + quote(cfg.dump()) + " 2>&1");
  ASSERT_EQ(run.rc, 0) << run.out;
  const json got = json::parse(run.out.substr(run.out.rfind("\n{") + 1));

  // What the server says directly, as references for what the page showed.
  auto c = serve.client();
  auto denied = c.Get("/v1/models");
  ASSERT_TRUE(denied);
  const std::string unauthorized = json::parse(denied->body)["error"]["message"];
  c.set_bearer_token_auth("k");
  auto replay = [&](json body) {
    auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
    return res ? std::make_pair(res->status, res->body) : std::make_pair(-1, std::string());
  };

  EXPECT_EQ(got["page"]["status"], 200);
  EXPECT_EQ(got["page"]["title"], "uma chat");
  EXPECT_EQ(got["csp_violations"], json::array());
  EXPECT_EQ(got["page_errors"], json::array());

  // Without a key, and with a wrong one: the server's 401 shown, the
  // question taken back into the box.
  EXPECT_NE(got["no_key"]["error"].get<std::string>().find("401 authentication_error: " + unauthorized),
            std::string::npos)
      << got["no_key"];
  EXPECT_NE(got["wrong_key"]["error"].get<std::string>().find(unauthorized), std::string::npos)
      << got["wrong_key"];
  EXPECT_EQ(got["wrong_key"]["messages"], 0);
  EXPECT_EQ(got["wrong_key"]["input"], q[0]);
  EXPECT_EQ(got["requests"][0]["authorization"], "Bearer wrong");

  // The model as /v1/models names it; the first answer as uma generate's.
  EXPECT_EQ(got["model"], kModel);
  EXPECT_TRUE(got["error_hidden"]);
  json want = generate(q[0], max_tokens, {"--system-prompt", system, "--logit-bias", bias});
  const json& t1 = got["turns"][0];
  EXPECT_EQ(t1["state"], "done");
  EXPECT_EQ(t1["content"], want["text"]);
  EXPECT_EQ(t1["meta"], "length · " + std::to_string(want["tokens"].size()) + " tokens");
  EXPECT_TRUE(t1["reasoning_hidden"]);
  EXPECT_EQ(t1["request"]["authorization"], "Bearer k");
  EXPECT_EQ(t1["request"]["body"]["stream"], true);
  EXPECT_EQ(t1["request"]["body"]["max_tokens"], max_tokens);
  // Rendered as it streamed: one text node per non-empty content delta of
  // the same request's events.
  auto [status, body] = replay(t1["request"]["body"]);
  ASSERT_EQ(status, 200) << body;
  int deltas = 0;
  for (const auto& e : events(body)) {
    if (e == "[DONE]") continue;
    json j = json::parse(e);
    if (!j["choices"].empty() && !j["choices"][0]["delta"].value("content", "").empty()) ++deltas;
  }
  EXPECT_GT(deltas, 1);
  EXPECT_EQ(t1["text_nodes"], deltas);

  // The second turn carries the first: its answer is the server's to the
  // same messages, unstreamed.
  const json& t2 = got["turns"][1];
  json messages = {{{"role", "system"}, {"content", system}},
                   {{"role", "user"}, {"content", q[0]}},
                   {{"role", "assistant"}, {"content", t1["content"]}},
                   {{"role", "user"}, {"content", q[1]}}};
  EXPECT_EQ(t2["request"]["body"]["messages"], messages);
  auto [status2, whole] = replay({{"messages", messages}, {"max_tokens", max_tokens}});
  ASSERT_EQ(status2, 200) << whole;
  EXPECT_EQ(t2["state"], "done");
  EXPECT_EQ(t2["content"], json::parse(whole)["choices"][0]["message"]["content"]);
  EXPECT_EQ(got["messages_after_turns"], 4);

  // A setting the server refuses: its 400 message shown, nothing added.
  json bad = got["bad_request"]["request"]["body"];
  EXPECT_EQ(bad["temperature"], -1);
  auto [status3, refusal] = replay(bad);
  EXPECT_EQ(status3, 400);
  const std::string message = json::parse(refusal)["error"]["message"];
  EXPECT_NE(got["bad_request"]["error"].get<std::string>().find("400 invalid_request_error: " + message),
            std::string::npos)
      << got["bad_request"];
  EXPECT_EQ(got["bad_request"]["messages"], 4);
  EXPECT_EQ(got["bad_request"]["input"], "a question the server refuses");

  // New chat, then Stop: the partial answer kept and marked, the server's
  // sequence gone, and the page's health line saying so.
  EXPECT_EQ(got["messages_after_new"], 0);
  EXPECT_TRUE(got["stop_enabled"]);
  const json& s = got["stopped"];
  EXPECT_EQ(s["state"], "stopped");
  EXPECT_EQ(s["meta"], "stopped");
  EXPECT_EQ(s["request"]["body"]["messages"],
            json::array({{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", q[2]}}}));
  EXPECT_EQ(s["request"]["body"]["max_tokens"], long_max_tokens);
  const std::string partial = s["content"];
  const std::string greedy = generate(q[2], 32, {"--system-prompt", system, "--logit-bias", bias})["text"];
  ASSERT_FALSE(partial.empty());
  EXPECT_TRUE(partial.size() <= greedy.size() ? greedy.rfind(partial, 0) == 0 : partial.rfind(greedy, 0) == 0)
      << partial << "\n---\n" << greedy;
  EXPECT_EQ(got["health"]["active"], 0);
  EXPECT_EQ(got["health"]["queued"], 0);
  EXPECT_NE(got["page_health"].get<std::string>().find("queued 0 · active 0 "), std::string::npos);

  // Stubbed chunks: reasoning apart, HTML-looking text shown as text, an
  // error event shown with the answer so far.
  EXPECT_EQ(got["stub"]["state"], "done");
  EXPECT_EQ(got["stub"]["content"], stub["content"]);
  EXPECT_FALSE(got["stub"]["reasoning_hidden"]);
  EXPECT_EQ(got["stub"]["reasoning"], stub["reasoning"]);
  EXPECT_EQ(got["stub"]["images"], 0);
  EXPECT_EQ(got["stub"]["injected"], false);
  EXPECT_EQ(got["stub_error"]["state"], "error");
  EXPECT_EQ(got["stub_error"]["content"], "partial");
  EXPECT_EQ(got["stub_error"]["error"], "server_error: boom");

  // The screenshot: a real PNG of the viewport, not one flat colour.
  Png png;
  ASSERT_NO_THROW(png = read_png(read_file(got["screenshot"])));
  EXPECT_EQ(png.width, 1000u);
  EXPECT_EQ(png.height, 700u);
  std::set<uint32_t> colours;
  for (size_t i = 0; i + png.channels <= png.pixels.size(); i += size_t(png.channels)) {
    colours.insert(uint32_t(png.pixels[i]) << 16 | uint32_t(png.pixels[i + 1]) << 8 | png.pixels[i + 2]);
  }
  EXPECT_GT(colours.size(), 16u);  // text, borders, the accent and user colours
  fs::remove_all(out);
}

}  // namespace
}  // namespace uma::cli
