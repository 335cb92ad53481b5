// `uma serve` on the built-in model, against `uma generate` on the same
// prompts (the same model code, run through the CLI): chat and text
// completions whole and streamed (server-sent events), usage counts, stop
// strings, the models list and health, two requests at once, and clear 400s
// for bad requests.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/serve_util.h"
#include "cli/tiny_models.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using json = nlohmann::json;

TEST(ServeCli, ChatCompletionIsWhatGenerateSays) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], kModel);

  const std::string q = "What does 'garden' mean?";
  json want = generate(q, 24);
  auto res = c.Post("/v1/chat/completions", chat_body(q, 24).dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json got = json::parse(res->body);
  EXPECT_EQ(got["object"], "chat.completion");
  EXPECT_EQ(got["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(got["choices"][0]["message"]["content"], want["text"]);
  EXPECT_EQ(got["choices"][0]["finish_reason"], want["finish_reason"]);
  EXPECT_EQ(got["usage"]["prompt_tokens"], want["prompt_tokens"].size());
  EXPECT_EQ(got["usage"]["completion_tokens"], want["tokens"].size());
  EXPECT_EQ(got["usage"]["total_tokens"], want["prompt_tokens"].size() + want["tokens"].size());

  // Streamed: the deltas add up to the same text; a role first, the finish
  // reason last, then the usage chunk and [DONE].
  json body = chat_body(q, 24);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto streamed = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
  auto ev = events(streamed->body);
  ASSERT_GE(ev.size(), 4u) << streamed->body;
  EXPECT_EQ(ev.back(), "[DONE]");
  json usage = json::parse(ev[ev.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], want["tokens"].size());
  json last = json::parse(ev[ev.size() - 3]);
  EXPECT_EQ(last["choices"][0]["finish_reason"], want["finish_reason"]);
  std::string text;
  for (size_t i = 0; i + 3 < ev.size(); ++i) {
    json e = json::parse(ev[i]);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    EXPECT_EQ(e["id"], last["id"]);
    EXPECT_TRUE(e["choices"][0]["finish_reason"].is_null());
    if (i == 0) {
      EXPECT_EQ(e["choices"][0]["delta"]["role"], "assistant");
    }
    text += e["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(text, want["text"]);
}

TEST(ServeCli, TextCompletionStopStringsAndSampling) {
  ServeProcess serve({"--max-tokens", "16"});
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  // /v1/completions: the prompt as plain text, as generate --ignore-chat-template.
  json want = generate("The garden", 16, {"--ignore-chat-template"});
  auto res = c.Post("/v1/completions", json{{"prompt", "The garden"}}.dump(),
                    "application/json");  // --max-tokens 16
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json got = json::parse(res->body);
  EXPECT_EQ(got["object"], "text_completion");
  EXPECT_EQ(got["choices"][0]["text"], want["text"]);
  EXPECT_EQ(got["usage"]["completion_tokens"], want["tokens"].size());

  // A stop string cuts the text as generate --stop does.
  const std::string q = "Give me a fortune.";
  json full = generate(q, 40);
  std::string text = full["text"];
  ASSERT_GT(text.size(), 6u);
  std::string stop = text.substr(text.size() / 2, 3);
  json cut = generate(q, 40, {"--stop", stop});
  json body = chat_body(q, 40);
  body["stop"] = stop;
  res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  got = json::parse(res->body);
  EXPECT_EQ(got["choices"][0]["message"]["content"], cut["text"]);
  EXPECT_EQ(got["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(cut["text"].get<std::string>().find(stop), std::string::npos);

  // Sampling with a seed: the same seed, the same text; as generate --temp --seed.
  json seeded = generate(q, 20, {"--temp", "0.9", "--seed", "7"});
  body = chat_body(q, 20);
  body["temperature"] = 0.9;
  body["seed"] = 7;
  res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["choices"][0]["message"]["content"], seeded["text"]);
}

TEST(ServeCli, TwoRequestsAtOnceBothAnswer) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  const std::string q = "What does 'river' mean?";
  json want = generate(q, 20);
  auto ask = [&] {
    auto c = serve.client();
    auto res = c.Post("/v1/chat/completions", chat_body(q, 20).dump(), "application/json");
    return res && res->status == 200
               ? json::parse(res->body)["choices"][0]["message"]["content"].get<std::string>()
               : std::string("(failed)");
  };
  auto a = std::async(std::launch::async, ask), b = std::async(std::launch::async, ask);
  EXPECT_EQ(a.get(), want["text"]);
  EXPECT_EQ(b.get(), want["text"]);
}

// A Qwen3 model: tools offered in the request reach its chat template (the
// prompt grows by their rendering), and since its template thinks aloud
// (<think>), a streamed answer is read as it comes and adds up to the
// message the unstreamed request gets (serve_protocol_cli_test.cpp makes
// the model write reasoning and calls).
TEST(ServeCli, ToolsReachTheTemplateAndThinkingAnswersStreamTheSame) {
  ServeProcess serve({}, tiny_model("tiny-qwen3", "qwen3", "float32").string());
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  json body = chat_body("Weather in Paris?", 12);
  auto plain = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  body["tools"] = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "The weather in a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  auto with_tools = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(with_tools);
  ASSERT_EQ(with_tools->status, 200) << with_tools->body;
  json a = json::parse(plain->body), b = json::parse(with_tools->body);
  EXPECT_GT(b["usage"]["prompt_tokens"].get<int>(), a["usage"]["prompt_tokens"].get<int>() + 40);

  body["stream"] = true;
  auto streamed = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(streamed);
  auto ev = events(streamed->body);
  ASSERT_GE(ev.size(), 3u) << streamed->body;
  EXPECT_EQ(ev.back(), "[DONE]");
  json message = {{"role", "assistant"}, {"content", ""}};
  for (size_t i = 0; i + 2 < ev.size(); ++i) {
    json d = json::parse(ev[i])["choices"][0]["delta"];
    for (auto& [k, v] : d.items()) {
      if (k == "tool_calls") {
        for (const auto& d : v) {
          size_t at = d["index"];
          if (at == message["tool_calls"].size()) {
            message["tool_calls"].push_back(d);
            message["tool_calls"][at].erase("index");
          } else {
            message["tool_calls"][at]["function"]["arguments"] =
                message["tool_calls"][at]["function"]["arguments"].get<std::string>() +
                d["function"]["arguments"].get<std::string>();
          }
        }
      } else if (k == "role") {
        message["role"] = v;
      } else {
        message[k] = message.value(k, "") + v.get<std::string>();
      }
    }
  }
  json want = b["choices"][0]["message"];
  if (want["content"].is_null()) want["content"] = "";
  EXPECT_EQ(message, want) << streamed->body;
  EXPECT_EQ(json::parse(ev[ev.size() - 2])["choices"][0]["finish_reason"],
            b["choices"][0]["finish_reason"]);
}

// --api-key guards /v1/* (not /health); --max-queue turns away what does
// not fit with 503 and Retry-After, and the server serves on afterwards.
TEST(ServeCli, ApiKeyAndABoundedQueue) {
  ServeProcess serve({"--api-key", "s3cret", "--max-queue", "1"});
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto denied = c.Post("/v1/chat/completions", chat_body("hi", 4).dump(), "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_EQ(json::parse(denied->body)["error"]["type"], "authentication_error");
  c.set_bearer_token_auth("wrong");
  denied = c.Get("/v1/models");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  c.set_bearer_token_auth("s3cret");
  auto ok = c.Get("/v1/models");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  // A long generation (the end-of-text ids 1 and 4 banned) holds the one
  // place; a request meanwhile is turned away.
  json long_body = {
      {"prompt", "The garden"}, {"max_tokens", 400}, {"logit_bias", {{"1", -100}, {"4", -100}}}};
  auto first = std::async(std::launch::async, [&] {
    auto c1 = serve.client();
    c1.set_bearer_token_auth("s3cret");
    auto r = c1.Post("/v1/completions", long_body.dump(), "application/json");
    return r ? r->status : -1;
  });
  // Wait until the server holds it (its /health counts what is queued).
  for (int i = 0; i < 6000; ++i) {
    auto h = c.Get("/health");
    if (h && json::parse(h->body)["queued"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto busy = c.Post("/v1/chat/completions", chat_body("hi", 4).dump(), "application/json");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503) << busy->body;
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(busy->body)["error"]["type"], "server_overloaded");
  EXPECT_EQ(first.get(), 200);
  auto after = c.Post("/v1/chat/completions", chat_body("hi", 4).dump(), "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

// logprobs: with every weight zero the logits are all zero, so every token
// has log-probability -log(V), greedy picks id 0 and the top k are ids 0..k-1
// (ties by id); on the built-in model the greedy token heads its own top list.
TEST(ServeCli, LogprobsOfAUniformModelAndAGreedyOne) {
  auto dir = zero_llama("serve_zero_llama");
  const double uniform = -std::log(double(read_json(dir / "config.json")["vocab_size"].get<int>()));
  ServeProcess zero({}, dir.string());
  ASSERT_GT(zero.port(), 0);
  auto c = zero.client();
  json body = chat_body("Hello", 4);
  body["logprobs"] = true;
  body["top_logprobs"] = 3;
  auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json content = json::parse(res->body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 4u) << res->body;
  for (const auto& e : content) {
    EXPECT_NEAR(e["logprob"].get<double>(), uniform, 1e-4);
    ASSERT_EQ(e["top_logprobs"].size(), 3u);
    EXPECT_EQ(e["top_logprobs"][0]["token"], e["token"]);  // greedy: id 0 twice
    for (const auto& t : e["top_logprobs"]) EXPECT_NEAR(t["logprob"].get<double>(), uniform, 1e-4);
  }
  json comp = {{"prompt", "Hello"}, {"max_tokens", 3}, {"logprobs", 2}};
  res = c.Post("/v1/completions", comp.dump(), "application/json");
  ASSERT_TRUE(res);
  json lp = json::parse(res->body)["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 3u) << res->body;
  size_t offset = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), uniform, 1e-4);
    ASSERT_EQ(lp["top_logprobs"][i].size(), 2u);  // ids 0 and 1 ("!" and "\"")
    for (auto& [tok, v] : lp["top_logprobs"][i].items())
      EXPECT_NEAR(v.get<double>(), uniform, 1e-4) << tok;
    EXPECT_EQ(lp["text_offset"][i], offset);
    offset += lp["tokens"][i].get<std::string>().size();
  }

  ServeProcess dict;
  ASSERT_GT(dict.port(), 0);
  auto d = dict.client();
  body = chat_body("What does 'garden' mean?", 6);
  body["logprobs"] = true;
  body["top_logprobs"] = 5;
  res = d.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  json got = json::parse(res->body)["choices"][0];
  std::string joined;
  for (const auto& e : got["logprobs"]["content"]) {
    EXPECT_EQ(e["top_logprobs"][0]["token"], e["token"]);
    EXPECT_EQ(e["top_logprobs"][0]["logprob"], e["logprob"]);
    double mass = 0, prev = 0;
    for (size_t i = 0; i < e["top_logprobs"].size(); ++i) {
      double v = e["top_logprobs"][i]["logprob"];
      if (i > 0) {
        EXPECT_LE(v, prev);
      }
      prev = v;
      mass += std::exp(v);
    }
    EXPECT_LE(mass, 1.0 + 1e-3);
    joined += e["token"].get<std::string>();
  }
  EXPECT_EQ(joined, got["message"]["content"]);
}

// SIGTERM stops taking requests but finishes the one in flight, then exits 0.
TEST(ServeCli, SigtermDrainsTheRequestInFlight) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  json body = {
      {"prompt", "The garden"}, {"max_tokens", 600}, {"logit_bias", {{"1", -100}, {"4", -100}}}};
  auto pending = std::async(std::launch::async, [&] {
    auto c = serve.client();
    auto r = c.Post("/v1/completions", body.dump(), "application/json");
    return r ? std::make_pair(r->status, r->body) : std::make_pair(-1, std::string());
  });
  auto probe = serve.client();
  for (int i = 0; i < 6000; ++i) {  // until the server holds the request
    auto h = probe.Get("/health");
    if (h && json::parse(h->body)["queued"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = serve.terminate();
  auto [code, text] = pending.get();
  EXPECT_EQ(code, 200);
  EXPECT_EQ(json::parse(text)["usage"]["completion_tokens"], 600) << text.substr(0, 200);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// n choices, generated one after another with seed + i: choice i is what
// generate --seed (seed + i) says; streamed, each choice's chunks carry its
// index and add up to the same text; the usage counts them all.
TEST(ServeCli, SeveralChoicesWithSeedsInTurn) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  const std::string q = "Give me a fortune.";
  std::vector<json> want;
  size_t tokens = 0;
  for (int i = 0; i < 3; ++i) {
    want.push_back(generate(q, 16, {"--temp", "0.9", "--seed", std::to_string(5 + i)}));
    tokens += want.back()["tokens"].size();
  }
  json body = chat_body(q, 16);
  body["n"] = 3;
  body["temperature"] = 0.9;
  body["seed"] = 5;
  auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json got = json::parse(res->body);
  ASSERT_EQ(got["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got["choices"][i]["index"], i);
    EXPECT_EQ(got["choices"][i]["message"]["content"], want[size_t(i)]["text"]) << i;
  }
  EXPECT_EQ(got["usage"]["completion_tokens"], tokens);
  EXPECT_NE(want[0]["text"], want[1]["text"]);

  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  std::vector<std::string> text(3);
  int finished = 0;
  for (const auto& e : events(res->body)) {
    if (e == "[DONE]") break;
    json j = json::parse(e);
    if (j.contains("usage")) {
      EXPECT_EQ(j["usage"]["completion_tokens"], tokens);
      continue;
    }
    int i = j["choices"][0]["index"];
    ASSERT_GE(i, finished) << "choice " << i << " after choice " << finished << " ended";
    text[size_t(i)] += j["choices"][0]["delta"].value("content", "");
    if (!j["choices"][0]["finish_reason"].is_null()) ++finished;
  }
  EXPECT_EQ(finished, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(text[size_t(i)], want[size_t(i)]["text"]) << i;
}

// A port already served is refused with one line naming it, not shared.
TEST(ServeCli, ABusyPortIsAnError) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  expect_one_line_error(
      run_uma({"serve", "--model", kModel, "--port", std::to_string(serve.port())}),
      "cannot listen on 127.0.0.1:" + std::to_string(serve.port()));
  auto h = serve.client().Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(ServeCli, BadRequestsAreClear400s) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  auto expect_400 = [&](const std::string& path, const std::string& body,
                        const std::string& needle) {
    auto res = c.Post(path, body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    json j = json::parse(res->body);
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << j.dump();
  };
  expect_400("/v1/chat/completions", "{not json", "not valid JSON");
  expect_400("/v1/chat/completions", R"({"messages": []})", "'messages'");
  expect_400("/v1/chat/completions", R"({"messages": [{"content": "hi"}]})", "'role'");
  expect_400("/v1/chat/completions",
             R"({"messages": [{"role": "user", "content": "hi"}], "temperature": -1})",
             "'temperature'");
  expect_400("/v1/chat/completions",
             R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": "9"})",
             "'max_tokens'");
  expect_400("/v1/chat/completions",
             R"({"messages": [{"role": "user", "content": "hi"}], "n": 17})", "'n'");
  expect_400("/v1/chat/completions",
             R"({"messages": [{"role": "user", "content": "hi"}], "stop": [1]})", "'stop'");
  expect_400("/v1/completions", R"({"prompt": 5})", "'prompt'");
  expect_400("/v1/chat/completions",
             R"({"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 3})",
             "'top_logprobs'");
  expect_400("/v1/completions", R"({"prompt": "a", "logprobs": 21})", "'logprobs'");
  auto big = c.Post("/v1/chat/completions", std::string(17u << 20, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(json::parse(big->body)["error"]["message"].get<std::string>().find("16 MiB"),
            std::string::npos);
  auto res = c.Get("/v1/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  // The server still answers after all that.
  res = c.Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}


// Structured output: response_format json_schema on the built-in model with
// sampling at several seeds gives content that parses and satisfies the
// schema (checked by hand), the same as uma generate --json-schema with that
// seed; streamed chunks add up to it; json_object gives an object; bad
// formats are 400s naming the field.
TEST(ServeCli, ResponseFormatJsonSchemaGivesValidJson) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  const std::string q = "What does 'garden' mean?";
  for (int seed : {1, 2}) {
    // Ordered: the properties' order is the order of the answer's keys.
    nlohmann::ordered_json body = nlohmann::ordered_json::parse(chat_body(q, 400).dump());
    body["temperature"] = 0.9;
    body["seed"] = seed;
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema", {{"name", "entry"}, {"strict", true}, {"schema", nlohmann::ordered_json::parse(kDictSchema)}}}};
    auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json got = json::parse(res->body);
    std::string content = got["choices"][0]["message"]["content"];
    EXPECT_EQ(got["choices"][0]["finish_reason"], "stop") << content;
    expect_dict_entry(content);
    json want = generate(q, 400, {"--temp", "0.9", "--seed", std::to_string(seed), "--json-schema", kDictSchema});
    EXPECT_EQ(content, want["text"]) << seed;
    if (seed == 1) {
      body["stream"] = true;
      res = c.Post("/v1/chat/completions", body.dump(), "application/json");
      ASSERT_TRUE(res);
      std::string streamed;
      for (const auto& e : events(res->body)) {
        if (e == "[DONE]") break;
        streamed += json::parse(e)["choices"][0]["delta"].value("content", "");
      }
      EXPECT_EQ(streamed, content);
    }
  }
  for (int seed : {4, 5, 6}) {
    json body = chat_body("Give me a fortune.", 300);
    body["temperature"] = 1.0;
    body["seed"] = seed;
    body["response_format"] = {{"type", "json_object"}};
    auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    json got = json::parse(res->body);
    std::string content = got["choices"][0]["message"]["content"];
    if (got["choices"][0]["finish_reason"] == "stop") {
      json v;
      ASSERT_NO_THROW(v = json::parse(content)) << content;
      EXPECT_TRUE(v.is_object()) << content;
    } else {
      EXPECT_EQ(content.rfind("{", 0), 0u) << content;  // cut by max_tokens: still the start of an object
    }
  }
  // llama.cpp's grammar field, on completions too.
  json body = {{"prompt", "The answer is"}, {"max_tokens", 20}, {"temperature", 1.0}, {"seed", 3},
               {"grammar", R"(root ::= " " ("yes" | "no") ".")"}};
  auto res = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::string text = json::parse(res->body)["choices"][0]["text"];
  EXPECT_TRUE(text == " yes." || text == " no.") << text;
}

TEST(ServeCli, BadResponseFormatsAreClear400s) {
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  auto c = serve.client();
  auto expect_400 = [&](const json& format, const std::string& needle) {
    json body = chat_body("hi", 4);
    body["response_format"] = format;
    auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body.dump();
    json j = json::parse(res->body);
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << j.dump();
  };
  expect_400("json", "'response_format' must be an object with a string 'type'");
  expect_400({{"type", "xml"}}, "'response_format.type' must be text, json_object or json_schema, got 'xml'");
  expect_400({{"type", "json_schema"}}, "'response_format.json_schema' must be an object");
  expect_400({{"type", "json_schema"}, {"json_schema", {{"name", 3}, {"schema", json::object()}}}},
             "'response_format.json_schema.name' must be a string");
  expect_400({{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", "string"}}}},
             "'response_format.json_schema.schema' must be a JSON schema object");
  expect_400({{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"strict", "yes"}, {"schema", json::object()}}}},
             "'strict' must be true or false");
  expect_400({{"type", "json_schema"},
              {"json_schema", {{"name", "x"}, {"schema", {{"type", "array"}, {"uniqueItems", true}}}}}},
             "'response_format.json_schema.schema' is not supported: [json_schema_to_grammar] at /: unsupported "
             "keyword 'uniqueItems'");
  expect_400({{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", {{"$ref", "#/$defs/nope"}}}}}},
             "does not resolve");
  json body = chat_body("hi", 4);
  body["grammar"] = "root ::= nope";
  auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("rule 'nope' is used but never defined"), std::string::npos) << res->body;
  // text is still the plain answer.
  body = chat_body("hi", 4);
  body["response_format"] = {{"type", "text"}};
  res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace uma::cli
