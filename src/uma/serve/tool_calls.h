// Tool calls and reasoning in a model's output, per model family, for the
// OpenAI API's `tool_calls` and `reasoning_content`: the family is read off
// the chat template (what it teaches the model to write), the output is the
// generated text with its special tokens, read as it streams.
//
//   hermes   Qwen 2.5/3, Hermes: <tool_call>{"name", "arguments"}</tool_call>, one block per call
//   llama3   Llama 3.1-3.3: {"name", "parameters"} leading the answer (or after <|python_tag|>),
//            several separated by ';'
//   mistral  [TOOL_CALLS][{"name", "arguments"}, ...] or [TOOL_CALLS]name[ARGS]{...} (repeated)
//   harmony  gpt-oss: messages <|channel|>analysis|commentary|final<|message|>...<|end|>, a call
//            being a message to=functions.NAME whose body is the arguments
//
// Reasoning: a template that writes <think> makes the text inside
// <think>...</think> the reasoning (the model opening it, or the prompt);
// harmony's analysis channel is the reasoning.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace uma::serve {

enum class ToolFormat { none, hermes, llama3, mistral, harmony };

struct TemplateTraits {
  ToolFormat tools = ToolFormat::none;
  bool reasoning = false;       // <think> ... </think>, or harmony's analysis channel
  bool thinking_field = false;  // the template reads an assistant message's reasoning as `thinking`
};

TemplateTraits template_traits(const std::string& template_source);

// The request's messages as the template reads them: an assistant message's
// `reasoning_content` (as this server returns it) also as `thinking` where
// the template reads that (gpt-oss).
nlohmann::ordered_json template_messages(const nlohmann::ordered_json& messages,
                                         const TemplateTraits& traits);

struct ParsedOutput {
  std::string content;    // the text without tool calls or reasoning, trimmed
  std::string reasoning;  // empty: none
  nlohmann::ordered_json tool_calls =
      nlohmann::ordered_json::array();  // OpenAI's [{id, type, function{name, arguments}}]
};

// What one piece of output adds to the message, as an OpenAI stream delta
// carries it: text of each kind, and tool_calls entries ({index, id, type,
// function{name, arguments: ""}} when a call starts, {index, function
// {arguments}} as its arguments come).
struct OutputDelta {
  std::string content, reasoning;
  nlohmann::ordered_json tool_calls = nlohmann::ordered_json::array();
  bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty(); }
  // {"reasoning_content", "content", "tool_calls"}, the non-empty ones.
  nlohmann::ordered_json json() const;
};

class Reader;
class Emitter;

// Reads a model's output as it is generated. Text that might be the start of
// a marker waits for the next piece; a call is shown once its name is known,
// then its arguments (the JSON text the model writes; a JSON string's value)
// as they come. The deltas add up to message() whatever the pieces are, so
// feeding the whole text at once gives the unstreamed answer. A call that does
// not parse before its name is known stays text; once shown, a call keeps
// what its arguments were when the output ended. Ids are "call_<index>_<salt>".
class OutputParser {
 public:
  // tools: the request offered tools (else calls are not looked for);
  // in_reasoning: the prompt opened <think> (the output starts inside it).
  OutputParser(const TemplateTraits& traits, bool tools, bool in_reasoning, std::string salt);
  ~OutputParser();
  OutputParser(OutputParser&&) noexcept;
  OutputDelta feed(std::string_view text);
  // The end of the output: what was held back.
  OutputDelta finish();
  const ParsedOutput& message() const;

 private:
  std::string in_;  // read but not yet decided
  std::unique_ptr<Emitter> out_;
  std::unique_ptr<Reader> reader_;
};

// The whole output at once: OutputParser fed all of it.
ParsedOutput parse_output(const std::string& text, const TemplateTraits& traits,
                          const std::string& salt, bool in_reasoning = false, bool tools = true);

}  // namespace uma::serve
