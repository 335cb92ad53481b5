// The official `openai` npm client (openai@7.60.0, installed by `make npm`
// into build/npm; tests/cli/js/openai_client.mjs) against uma serve: what it
// reads back is checked against uma generate, the schema and the text a
// grammar made the model write.
#include <nlohmann/json.hpp>

#include "cli/serve_util.h"
#include "cli/tiny_models.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using json = nlohmann::json;

// Chat whole and streamed, completions, the models list, json_schema
// structured output (parse()), logprobs, a tool call whole and streamed
// (the client's stream helper adds up the deltas) and passed back, and the
// errors as the client's classes (400, 404, 401).
TEST(ServeCli, TheOpenaiNpmClientWorks) {
  const std::string modules = std::string(UMA_FIXTURES_NPM_DIR) + "/node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules + "/openai/package.json"))
      << "run `make npm` (the openai npm client)";
  ServeProcess serve({"--api-key", "k"});
  ASSERT_GT(serve.port(), 0);
  ServeProcess tools({}, tiny_model("tiny-qwen3", "qwen3", "float32").string());
  ASSERT_GT(tools.port(), 0);
  const std::string grammar = "root ::= " + json("<think>\nThe user asks about Paris.\n</think>\n\n<tool_call>\n"
                                                  "{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                                                  "\"Paris\"}}\n</tool_call>")
                                                 .dump();
  std::string script = std::string(UMA_SOURCE_DIR) + "/tests/cli/js/openai_client.mjs";
  std::string cmd = "timeout 120 node " + quote(script) + " " + quote(modules) + " http://127.0.0.1:" +
                    std::to_string(serve.port()) + "/v1 k http://127.0.0.1:" + std::to_string(tools.port()) +
                    "/v1 " + quote(kDictSchema) + " " + quote(grammar);
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  json got = json::parse(out);

  json want = generate("What does 'garden' mean?", 24);
  EXPECT_EQ(got["chat"]["content"], want["text"]);
  EXPECT_EQ(got["chat"]["finish_reason"], want["finish_reason"]);
  EXPECT_EQ(got["chat"]["usage"]["completion_tokens"], want["tokens"].size());
  EXPECT_EQ(got["stream"]["content"], want["text"]);
  EXPECT_EQ(got["stream"]["role"], "assistant");
  for (const char* k : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
    EXPECT_EQ(got["stream"]["usage"][k], got["chat"]["usage"][k]) << k;
  }
  // The same prompt again comes from the cache, all but its last token.
  EXPECT_EQ(got["chat"]["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(got["stream"]["usage"]["prompt_tokens_details"]["cached_tokens"],
            got["chat"]["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(got["completion"]["text"], generate("The garden", 16, {"--ignore-chat-template"})["text"]);
  EXPECT_EQ(got["models"], json::array({kModel}));

  // json_schema: the answer uma generate gives with the schema, and valid.
  json schema = generate("What does 'garden' mean?", 400,
                         {"--temp", "0.9", "--seed", "1", "--json-schema", kDictSchema});
  EXPECT_EQ(got["schema"]["content"], schema["text"]);
  EXPECT_EQ(got["schema"]["finish_reason"], "stop");
  expect_dict_entry(got["schema"]["content"]);
  EXPECT_EQ(got["schema"]["parsed"], json::parse(schema["text"].get<std::string>()));

  // logprobs: one entry per token of uma generate's answer, each the top of
  // its own list (greedy), the lists in descending order; streamed the same.
  json greedy = generate("What does 'garden' mean?", 12);
  const json& entries = got["logprobs"]["entries"];
  EXPECT_EQ(got["logprobs"]["content"], greedy["text"]);
  ASSERT_EQ(entries.size(), greedy["tokens"].size());
  std::string joined;
  for (const auto& e : entries) {
    joined += e["token"].get<std::string>();
    ASSERT_EQ(e["top_logprobs"].size(), 3u);
    EXPECT_EQ(e["top_logprobs"][0]["token"], e["token"]);
    EXPECT_EQ(e["top_logprobs"][0]["logprob"], e["logprob"]);
    EXPECT_LE(e["logprob"].get<double>(), 0.0);
    for (size_t i = 1; i < 3; ++i) {
      EXPECT_LE(e["top_logprobs"][i]["logprob"].get<double>(), e["top_logprobs"][i - 1]["logprob"].get<double>());
    }
  }
  EXPECT_EQ(joined, greedy["text"]);
  EXPECT_EQ(got["logprobs"]["streamed"], entries);

  // The tool call: as the grammar wrote it, streamed the same, its start
  // first and its arguments in pieces; passed back, the prompt grows.
  const json& m = got["tools"]["message"];
  EXPECT_TRUE(m["content"].is_null()) << m.dump();
  EXPECT_EQ(m["reasoning_content"], "The user asks about Paris.");
  ASSERT_EQ(m["tool_calls"].size(), 1u) << m.dump();
  EXPECT_EQ(m["tool_calls"][0]["function"], json({{"name", "get_weather"}, {"arguments", R"({"city": "Paris"})"}}));
  EXPECT_EQ(got["tools"]["finish_reason"], "tool_calls");
  const json& s = got["tools_stream"];
  ASSERT_EQ(s["tool_calls"].size(), 1u) << s.dump();
  EXPECT_EQ(s["tool_calls"][0]["function"], m["tool_calls"][0]["function"]);
  EXPECT_EQ(s["tool_calls"][0]["type"], "function");
  EXPECT_TRUE(s["content"].is_null() || s["content"] == "") << s.dump();
  EXPECT_EQ(s["reasoning"], m["reasoning_content"]);
  EXPECT_EQ(s["finish_reason"], "tool_calls");
  EXPECT_EQ(s["firstCall"]["function"], json({{"name", "get_weather"}, {"arguments", ""}}));
  EXPECT_GE(s["argumentDeltas"].get<int>(), 3);
  EXPECT_GT(got["tools_back"]["prompt_tokens"].get<int>(), got["tools"]["usage"]["prompt_tokens"].get<int>() + 20);

  EXPECT_EQ(got["error"]["status"], 400);
  EXPECT_EQ(got["error"]["class"], "BadRequestError");
  EXPECT_EQ(got["format_error"]["status"], 400);
  EXPECT_EQ(got["format_error"]["type"], "invalid_request_error");
  EXPECT_NE(got["format_error"]["message"].get<std::string>().find(
                "'response_format.type' must be text, json_object or json_schema, got 'xml'"),
            std::string::npos)
      << got["format_error"];
  EXPECT_EQ(got["stream_error"]["status"], 400);  // a stream refused before it starts
  EXPECT_NE(got["stream_error"]["message"].get<std::string>().find("'top_logprobs' needs 'logprobs': true"),
            std::string::npos)
      << got["stream_error"];
  EXPECT_EQ(got["not_found"]["status"], 404);
  EXPECT_EQ(got["not_found"]["class"], "NotFoundError");
  EXPECT_EQ(got["auth"]["status"], 401);
  EXPECT_EQ(got["auth"]["class"], "AuthenticationError");
}

}  // namespace
}  // namespace uma::cli
