// Tool calls and reasoning in a model's output, per model family, for the
// OpenAI API's `tool_calls` and `reasoning_content`: the family is read off
// the chat template (what it teaches the model to write), the output is the
// generated text with its special tokens.
//
//   hermes   Qwen 2.5/3, Hermes: <tool_call>{"name", "arguments"}</tool_call>, one block per call
//   llama3   Llama 3.1-3.3: {"name", "parameters"} as the whole answer (after <|python_tag|>, if
//   any),
//            several separated by ';'
//   mistral  [TOOL_CALLS][{"name", "arguments"}, ...] or [TOOL_CALLS]name[ARGS]{...} (repeated)
//
// Reasoning: a template that writes <think> makes the text before </think>
// the reasoning (a leading <think> dropped).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace uma::serve {

enum class ToolFormat { none, hermes, llama3, mistral };

struct TemplateTraits {
  ToolFormat tools = ToolFormat::none;
  bool reasoning = false;  // <think> ... </think>
};

TemplateTraits template_traits(const std::string& template_source);

struct ParsedOutput {
  std::string content;    // the text without tool calls or reasoning, trimmed
  std::string reasoning;  // empty: none
  nlohmann::ordered_json tool_calls =
      nlohmann::ordered_json::array();  // OpenAI's [{id, type, function{name, arguments}}]
};

// `text`: the generated text with special tokens. Calls that do not parse as
// the family's JSON stay in `content` as text. Ids are "call_<index>_<salt>".
ParsedOutput parse_output(const std::string& text, const TemplateTraits& traits,
                          const std::string& salt);

}  // namespace uma::serve
