// Tool calls and reasoning out of model output (serve/tool_calls.h): each
// family's format as its model card and chat template write it, the family
// read off real chat templates (../shared/fixtures), and requests that carry
// tools and earlier tool calls (serve/openai.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "uma/serve/openai.h"
#include "uma/serve/tool_calls.h"
#include "uma/text/chat_template.h"

namespace uma::serve {
namespace {

using ojson = nlohmann::ordered_json;

std::string read_template(const std::string& name) {
  for (const char* dir : {"chat_templates", "chat_templates_more"}) {
    std::filesystem::path p = std::filesystem::path(UMA_SHARED_DIR) / "fixtures" / dir / name;
    if (std::filesystem::exists(p)) {
      std::ifstream f(p);
      return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    }
  }
  ADD_FAILURE() << "no fixture template " << name;
  return "";
}

TemplateTraits with(ToolFormat f, bool reasoning = false) { return {f, reasoning, false}; }

TEST(ToolCalls, FamiliesFromRealTemplates) {
  auto qwen3 = template_traits(read_template("Qwen-Qwen3-0.6B.jinja"));
  EXPECT_EQ(qwen3.tools, ToolFormat::hermes);
  EXPECT_TRUE(qwen3.reasoning);
  auto qwen25 = template_traits(read_template("Qwen-Qwen2.5-7B-Instruct.jinja"));
  EXPECT_EQ(qwen25.tools, ToolFormat::hermes);
  EXPECT_FALSE(qwen25.reasoning);
  EXPECT_EQ(
      template_traits(read_template("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja")).tools,
      ToolFormat::hermes);
  EXPECT_EQ(template_traits(read_template("meta-llama-Llama-3.1-8B-Instruct.jinja")).tools,
            ToolFormat::llama3);
  EXPECT_EQ(template_traits(read_template("meta-llama-Llama-3.2-3B-Instruct.jinja")).tools,
            ToolFormat::llama3);
  EXPECT_EQ(template_traits(read_template("mistralai-Mistral-Nemo-Instruct-2407.jinja")).tools,
            ToolFormat::mistral);
  EXPECT_EQ(template_traits(read_template("microsoft-Phi-3.5-mini-instruct.jinja")).tools,
            ToolFormat::none);
  EXPECT_TRUE(
      template_traits(read_template("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja")).reasoning);
  auto gpt_oss = template_traits(read_template("openai-gpt-oss-120b.jinja"));
  EXPECT_EQ(gpt_oss.tools, ToolFormat::harmony);
  EXPECT_TRUE(gpt_oss.reasoning);
  EXPECT_TRUE(gpt_oss.thinking_field);
  EXPECT_FALSE(qwen3.thinking_field);  // it reads reasoning_content itself
}

// gpt-oss's template given a request the way a client sends the answer
// back: the tools as its TypeScript-like namespace, the earlier call's
// reasoning (reasoning_content, read as `thinking`) as an analysis message,
// the call to=functions.NAME with its arguments as JSON, the result from
// functions.NAME, then the assistant's turn (written out from the template).
TEST(ToolCalls, HarmonyTemplateRendersToolsCallsAndResults) {
  const std::string src = read_template("openai-gpt-oss-120b.jinja");
  ojson body = ojson::parse(R"({
    "messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": null, "reasoning_content": "I need the weather.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]})");
  Request r = parse_request(body, Endpoint::chat, {});
  text::ChatTemplate t(src);
  std::string out = t.apply(template_messages(r.messages, template_traits(src)), r.tools, true);
  EXPECT_NE(out.find("<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
                     "// The weather in a city\ntype get_weather = (_: {\ncity: string,\n}) => any;\n\n"
                     "} // namespace functions<|end|>"),
            std::string::npos)
      << out;
  const std::string tail =
      "<|start|>user<|message|>Weather in Paris?<|end|>"
      "<|start|>assistant<|channel|>analysis<|message|>I need the weather.<|end|>"
      "<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{\"city\": \"Paris\"}<|call|>"
      "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>\"22C and sunny\"<|end|>"
      "<|start|>assistant";
  ASSERT_GE(out.size(), tail.size());
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
  // Without the reasoning the analysis message is not written.
  r.messages[1].erase("reasoning_content");
  out = t.apply(template_messages(r.messages, template_traits(src)), r.tools, true);
  EXPECT_EQ(out.find("<|channel|>analysis"), std::string::npos);
}

TEST(ToolCalls, Hermes) {
  auto p = parse_output(
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Paris\"}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
      with(ToolFormat::hermes), "x");
  EXPECT_EQ(p.content, "Let me check.");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(p.tool_calls[0]["id"], "call_0_x");
  EXPECT_EQ(p.tool_calls[0]["type"], "function");
  EXPECT_EQ(p.tool_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(ojson::parse(p.tool_calls[0]["function"]["arguments"].get<std::string>()),
            ojson({{"city", "Paris"}}));
  EXPECT_EQ(p.tool_calls[1]["function"]["name"], "get_time");
  EXPECT_EQ(p.tool_calls[1]["function"]["arguments"], "{}");
  // A block that is not a call's JSON stays text; one cut once its name is
  // known is a call (streamed, it has been shown by then).
  p = parse_output("<tool_call>not json</tool_call> and <tool_call>{\"name\": \"a\"",
                   with(ToolFormat::hermes), "x");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0]["function"]["name"], "a");
  EXPECT_EQ(p.tool_calls[0]["function"]["arguments"], "{}");
  EXPECT_EQ(p.content, "<tool_call>not json</tool_call> and");
  p = parse_output("<tool_call>not json</tool_call> and <tool_call>{\"nam", with(ToolFormat::hermes), "x");
  EXPECT_TRUE(p.tool_calls.empty());
  EXPECT_EQ(p.content, "<tool_call>not json</tool_call> and <tool_call>{\"nam");
}

TEST(ToolCalls, Llama3) {
  auto p = parse_output("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                        with(ToolFormat::llama3), "y");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.tool_calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(ojson::parse(p.tool_calls[0]["function"]["arguments"].get<std::string>()),
            ojson({{"city", "Paris"}}));
  EXPECT_EQ(p.content, "");
  p = parse_output(
      "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"q\": \"x;y\"}}; {\"name\": \"b\", "
      "\"parameters\": {}}",
      with(ToolFormat::llama3), "y");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(ojson::parse(p.tool_calls[0]["function"]["arguments"].get<std::string>())["q"], "x;y");
  EXPECT_EQ(p.tool_calls[1]["function"]["name"], "b");
  p = parse_output("The weather is {mild} today.", with(ToolFormat::llama3), "y");
  EXPECT_TRUE(p.tool_calls.empty());
  EXPECT_EQ(p.content, "The weather is {mild} today.");
}

TEST(ToolCalls, Mistral) {
  auto p = parse_output(
      "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, "
      "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]",
      with(ToolFormat::mistral), "z");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(p.tool_calls[1]["function"]["name"], "get_time");
  EXPECT_EQ(p.content, "");
  p = parse_output(
      "Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{}",
      with(ToolFormat::mistral), "z");
  ASSERT_EQ(p.tool_calls.size(), 2u);
  EXPECT_EQ(p.content, "Sure.");
  EXPECT_EQ(ojson::parse(p.tool_calls[0]["function"]["arguments"].get<std::string>()),
            ojson({{"city", "Paris"}}));
  EXPECT_EQ(p.tool_calls[1]["function"]["arguments"], "{}");
}

TEST(ToolCalls, ReasoningThenAnswerOrCall) {
  auto p = parse_output(
      "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"w\", \"arguments\": "
      "{}}\n"
      "</tool_call>",
      with(ToolFormat::hermes, true), "r");
  EXPECT_EQ(p.reasoning, "The user wants weather.");
  ASSERT_EQ(p.tool_calls.size(), 1u);
  EXPECT_EQ(p.content, "");
  p = parse_output("Because.</think>\n\nIt is blue.", with(ToolFormat::none, true), "r",
                   /*in_reasoning=*/true);  // the template opened <think>
  EXPECT_EQ(p.reasoning, "Because.");
  EXPECT_EQ(p.content, "It is blue.");
  p = parse_output("No thoughts here.", with(ToolFormat::none, true), "r");
  EXPECT_EQ(p.reasoning, "");
  EXPECT_EQ(p.content, "No thoughts here.");
}

TEST(ToolCalls, RequestsCarryToolsAndEarlierCalls) {
  ojson body = ojson::parse(R"({
    "messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "22C and sunny"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]})");
  Request r = parse_request(body, Endpoint::chat, {});
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.messages[1]["tool_calls"][0]["function"]["arguments"],
            ojson({{"city", "Paris"}}));  // as templates expect
  EXPECT_EQ(r.messages[2]["tool_call_id"], "call_1");
  body["tool_choice"] = "none";
  EXPECT_TRUE(parse_request(body, Endpoint::chat, {}).tools.empty());
  body["tools"] = "get_weather";
  EXPECT_THROW(parse_request(body, Endpoint::chat, {}), std::invalid_argument);

  // The response: content null with calls, finish_reason tool_calls.
  Completion c;
  c.id = "chatcmpl-1";
  c.text = "";
  c.finish_reason = "tool_calls";
  c.tool_calls =
      parse_output("<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>",
                   with(ToolFormat::hermes), "q")
          .tool_calls;
  ojson resp = response(c, Endpoint::chat);
  EXPECT_TRUE(resp["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(resp["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(resp["choices"][0]["finish_reason"], "tool_calls");
}

}  // namespace
}  // namespace uma::serve
