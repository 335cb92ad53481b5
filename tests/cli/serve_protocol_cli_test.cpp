// `uma serve`'s protocol details end to end: tool calls and reasoning
// streamed as they are made (a tiny Qwen3 whose answer a grammar spells as
// its template teaches), gpt-oss's harmony format (the same model given
// gpt-oss's template and harmony's special tokens), and usage's
// prompt_tokens_details.cached_tokens against the prompt cache's counter.
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "cli/serve_util.h"
#include "cli/tiny_models.h"
#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using json = nlohmann::json;

const json kTools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "The weather in a city", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");

// GBNF for exactly `text`.
std::string literal_grammar(const std::string& text) { return "root ::= " + json(text).dump(); }

json post(const ServeProcess& serve, const json& body, const std::string& path = "/v1/chat/completions") {
  auto res = serve.client().Post(path, body.dump(), "application/json");
  if (!res) return {{"status", -1}};
  if (body.value("stream", false)) return {{"status", res->status}, {"events", events(res->body)}};
  json j = json::parse(res->body);
  j["status"] = res->status;
  return j;
}

// A streamed chat answer added up as a client does, with how it came.
struct Streamed {
  json message = {{"role", nullptr}, {"content", ""}};
  std::string finish_reason, order;  // order: r(easoning), c(ontent), t(ool call) per delta
  int argument_deltas = 0;
  json first_call, usage;
};

Streamed assemble(const json& response) {
  Streamed s;
  for (const auto& e : response["events"]) {
    if (e == "[DONE]") break;
    json chunk = json::parse(e.get<std::string>());
    if (chunk.contains("usage")) s.usage = chunk["usage"];
    if (chunk["choices"].empty()) continue;
    const json& choice = chunk["choices"][0];
    if (!choice["finish_reason"].is_null()) s.finish_reason = choice["finish_reason"];
    for (auto& [k, v] : choice["delta"].items()) {
      if (k == "role") {
        EXPECT_TRUE(s.message["role"].is_null()) << "a second role";
        s.message["role"] = v;
      } else if (k == "content" || k == "reasoning_content") {
        if (!v.get<std::string>().empty()) s.order += k[0];
        s.message[k] = s.message.value(k, "") + v.get<std::string>();
      } else if (k == "tool_calls") {
        for (const auto& d : v) {
          json& calls = s.message["tool_calls"];
          size_t i = d["index"];
          if (d.contains("id")) {
            EXPECT_EQ(i, calls.is_null() ? 0 : calls.size());
            if (s.first_call.is_null()) s.first_call = d;
            calls.push_back({{"id", d["id"]}, {"type", d["type"]}, {"function", d["function"]}});
            s.order += 't';
          } else {
            calls[i]["function"]["arguments"] = calls[i]["function"]["arguments"].get<std::string>() +
                                                d["function"]["arguments"].get<std::string>();
          }
          s.argument_deltas += !d["function"]["arguments"].get<std::string>().empty();
        }
      }
    }
  }
  return s;
}

// The kinds of deltas in the order they came, repeats squeezed.
std::string runs(const std::string& order) {
  std::string r;
  for (char c : order) {
    if (r.empty() || r.back() != c) r += c;
  }
  return r;
}

// The message with its calls' ids dropped (each request makes its own).
json without_ids(json m) {
  if (m.contains("tool_calls")) {
    for (auto& c : m["tool_calls"]) {
      EXPECT_EQ(c["id"].get<std::string>().rfind("call_", 0), 0u) << c.dump();
      c.erase("id");
    }
  }
  if (m["content"].is_null()) m["content"] = "";
  return m;
}

// Tools offered to a Qwen3 model; a grammar makes it write, in its
// template's format, reasoning, a few words and a call: the unstreamed
// message is what was written, and the stream shows each part as it comes.
TEST(ServeProtocol, ToolCallsAndReasoningStreamAsTheyAreMade) {
  ServeProcess serve({}, tiny_model("tiny-qwen3", "qwen3", "float32").string());
  ASSERT_GT(serve.port(), 0);
  json body = chat_body("Weather in Paris?", 200);
  body["tools"] = kTools;
  body["grammar"] = literal_grammar(
      "<think>\nThe user wants the weather.\n</think>\n\nChecking.\n<tool_call>\n"
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>");
  json whole = post(serve, body);
  ASSERT_EQ(whole["status"], 200) << whole.dump();
  json m = whole["choices"][0]["message"];
  EXPECT_EQ(m["content"], "Checking.");
  EXPECT_EQ(m["reasoning_content"], "The user wants the weather.");
  ASSERT_EQ(m["tool_calls"].size(), 1u) << m.dump();
  EXPECT_EQ(m["tool_calls"][0]["type"], "function");
  EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"city": "Paris", "days": [1, 2]})");
  EXPECT_EQ(whole["choices"][0]["finish_reason"], "tool_calls");

  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  Streamed s = assemble(post(serve, body));
  EXPECT_EQ(without_ids(s.message), without_ids(m));
  EXPECT_EQ(s.finish_reason, "tool_calls");
  EXPECT_EQ(s.usage["completion_tokens"], whole["usage"]["completion_tokens"]);
  // Reasoning first, in pieces, then the words, then the call: its start
  // (id, type, name, no arguments yet), then its arguments in pieces.
  EXPECT_EQ(runs(s.order), "rct") << s.order;
  EXPECT_GE(std::count(s.order.begin(), s.order.end(), 'r'), 3) << s.order;
  EXPECT_EQ(s.first_call["function"], json({{"name", "get_weather"}, {"arguments", ""}}));
  EXPECT_GE(s.argument_deltas, 3);

  // The call and its result go back to the template in the next turn.
  json next = chat_body("Weather in Paris?", 4);
  next["tools"] = kTools;
  next["messages"].push_back(m);
  next["messages"].push_back({{"role", "tool"}, {"tool_call_id", m["tool_calls"][0]["id"]}, {"content", "22C"}});
  json after = post(serve, next);
  ASSERT_EQ(after["status"], 200) << after.dump();
  EXPECT_GT(after["usage"]["prompt_tokens"].get<int>(), whole["usage"]["prompt_tokens"].get<int>() + 20);
}

// tiny-qwen3 speaking harmony: gpt-oss's chat template, and seven unused
// added tokens renamed to harmony's markers (special, as gpt-oss's are). Its
// generation config stops at <|im_end|> alone: the server adds <|return|>
// and <|call|> (as it must for a GGUF gpt-oss) and never stops at <|end|>.
const std::vector<std::string> kHarmonyTokens = {"<|start|>",     "<|end|>",    "<|message|>", "<|channel|>",
                                                 "<|constrain|>", "<|return|>", "<|call|>"};
constexpr int kHarmonyFirstId = 151659;

std::filesystem::path harmony_model() {
  static std::filesystem::path dir = [] {
    auto d = copy_model(tiny_model("tiny-qwen3", "qwen3", "float32"), "harmony-qwen3");
    json tok = read_json(d / "tokenizer.json"), cfg = read_json(d / "tokenizer_config.json");
    for (size_t i = 0; i < kHarmonyTokens.size(); ++i) {
      const int id = kHarmonyFirstId + int(i);
      for (auto& t : tok["added_tokens"]) {
        if (t["id"] == id) t["content"] = kHarmonyTokens[i], t["special"] = true;
      }
      json& decoder = cfg["added_tokens_decoder"][std::to_string(id)];
      decoder["content"] = kHarmonyTokens[i];
      decoder["special"] = true;
    }
    std::ifstream t(std::filesystem::path(UMA_SHARED_DIR) / "fixtures/chat_templates_more/openai-gpt-oss-120b.jinja");
    cfg["chat_template"] = std::string(std::istreambuf_iterator<char>(t), std::istreambuf_iterator<char>());
    std::ofstream(d / "tokenizer.json") << tok.dump();
    std::ofstream(d / "tokenizer_config.json") << cfg.dump();
    return d;
  }();
  return dir;
}

TEST(ServeProtocol, HarmonyAnswersCallsAndStops) {
  ServeProcess serve({}, harmony_model().string());
  ASSERT_GT(serve.port(), 0);
  // An earlier call (its reasoning passed back), its result, a new question.
  json body = chat_body("Weather in Paris?", 200);
  body["tools"] = kTools;
  body["messages"].push_back(json::parse(R"({"role": "assistant", "content": null,
      "reasoning_content": "I need the weather.", "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]})"));
  body["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "22C and sunny"}});
  body["messages"].push_back({{"role", "user"}, {"content", "And in Oslo?"}});
  body["grammar"] = literal_grammar(
      "<|channel|>analysis<|message|>Oslo next.<|end|><|start|>assistant<|channel|>commentary "
      "to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Oslo\"}");
  json whole = post(serve, body);
  ASSERT_EQ(whole["status"], 200) << whole.dump();
  json m = whole["choices"][0]["message"];
  EXPECT_TRUE(m["content"].is_null()) << m.dump();
  EXPECT_EQ(m["reasoning_content"], "Oslo next.");
  ASSERT_EQ(m["tool_calls"].size(), 1u) << m.dump();
  EXPECT_EQ(m["tool_calls"][0]["function"], json({{"name", "get_weather"}, {"arguments", R"({"city": "Oslo"})"}}));
  EXPECT_EQ(whole["choices"][0]["finish_reason"], "tool_calls");
  body["stream"] = true;
  Streamed s = assemble(post(serve, body));
  EXPECT_EQ(without_ids(s.message), without_ids(m));
  EXPECT_EQ(runs(s.order), "rt") << s.order;
  EXPECT_GE(s.argument_deltas, 3);
  body["stream"] = false;

  // The earlier reasoning reaches the template (as `thinking`): without it
  // the prompt is shorter.
  body["messages"][1].erase("reasoning_content");
  json without = post(serve, body);
  EXPECT_GT(whole["usage"]["prompt_tokens"].get<int>(), without["usage"]["prompt_tokens"].get<int>() + 3);

  // Reasoning, then the final answer.
  json plain = chat_body("Hi", 100);
  plain["grammar"] = literal_grammar(
      "<|channel|>analysis<|message|>Greet back.<|end|><|start|>assistant<|channel|>final<|message|>Hello!");
  json answer = post(serve, plain);
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "Hello!") << answer.dump();
  EXPECT_EQ(answer["choices"][0]["message"]["reasoning_content"], "Greet back.");
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "stop");

  // <|return|> and <|call|> end the answer at once; <|end|> does not.
  for (const char* t : {"<|return|>", "<|call|>", "<|end|>"}) {
    const int id = kHarmonyFirstId + int(std::find(kHarmonyTokens.begin(), kHarmonyTokens.end(), t) -
                                         kHarmonyTokens.begin());
    json b = chat_body("Hi", 4);
    b["logit_bias"] = {{std::to_string(id), 100}};
    json r = post(serve, b);
    const bool stops = std::string(t) != "<|end|>";
    EXPECT_EQ(r["choices"][0]["finish_reason"], stops ? "stop" : "length") << t;
    EXPECT_EQ(r["usage"]["completion_tokens"], stops ? 0 : 4) << t;
  }
}

// /health once the scheduler has nothing left: its counters are final.
json idle_health(const ServeProcess& serve) {
  auto c = serve.client();
  for (int i = 0; i < 2000; ++i) {
    auto h = c.Get("/health");
    if (h && json::parse(h->body)["active"] == 0 && json::parse(h->body)["waiting"] == 0) return json::parse(h->body);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "the server did not go idle";
  return json::object();
}

// cached_tokens: what the request took from the prompt cache, as its
// counter of reused tokens moved; the first request of a shared system
// prompt takes nothing, the next ones its prefix; streamed usage and text
// completions say so too; without a cache, always 0.
TEST(ServeProtocol, UsageCountsCachedPromptTokens) {
  std::string system = "You are a patient dictionary. ";
  for (int i = 0; i < 12; ++i) system += "Explain each word plainly, with one short example sentence. ";
  auto ask = [&](const std::string& q) {
    json b = chat_body(q, 4);
    b["messages"].insert(b["messages"].begin(), json{{"role", "system"}, {"content", system}});
    return b;
  };
  auto cached = [](const json& usage) { return usage["prompt_tokens_details"]["cached_tokens"].get<int>(); };
  ServeProcess serve;
  ASSERT_GT(serve.port(), 0);
  json first = post(serve, ask("What does 'garden' mean?"));
  ASSERT_EQ(first["status"], 200) << first.dump();
  EXPECT_EQ(cached(first["usage"]), 0);
  int reused = idle_health(serve)["prompt_cache"]["reused_tokens"];
  EXPECT_EQ(reused, 0);

  json second = post(serve, ask("What does 'river' mean?"));
  int now = idle_health(serve)["prompt_cache"]["reused_tokens"];
  EXPECT_GT(now - reused, 100);
  EXPECT_EQ(cached(second["usage"]), now - reused);
  EXPECT_LT(cached(second["usage"]), second["usage"]["prompt_tokens"].get<int>());

  json body = ask("What does 'stone' mean?");
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  Streamed s = assemble(post(serve, body));
  reused = now;
  now = idle_health(serve)["prompt_cache"]["reused_tokens"];
  EXPECT_GT(now - reused, 100);
  EXPECT_EQ(cached(s.usage), now - reused);

  json text = {{"prompt", system + "Garden:"}, {"max_tokens", 2}};
  ASSERT_EQ(post(serve, text, "/v1/completions")["status"], 200);
  reused = idle_health(serve)["prompt_cache"]["reused_tokens"];
  text["prompt"] = system + "River:";
  json again = post(serve, text, "/v1/completions");
  now = idle_health(serve)["prompt_cache"]["reused_tokens"];
  EXPECT_GT(now - reused, 100);
  EXPECT_EQ(cached(again["usage"]), now - reused);

  ServeProcess off({"--prompt-cache-bytes", "0"});
  ASSERT_GT(off.port(), 0);
  EXPECT_EQ(cached(post(off, ask("What does 'garden' mean?"))["usage"]), 0);
  EXPECT_EQ(cached(post(off, ask("What does 'river' mean?"))["usage"]), 0);
  EXPECT_EQ(idle_health(off)["prompt_cache"]["reused_tokens"], 0);
}

}  // namespace
}  // namespace uma::cli
