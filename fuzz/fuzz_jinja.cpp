// Jinja chat templates from untrusted text: lexer, parser and interpreter,
// rendered with a small fixed chat under tight sandbox limits (so that each
// input runs in milliseconds; the limits themselves are under test too).
#include "fuzz_util.h"
#include "uma/text/chat_template.h"

namespace {

using uma::text::json;

const json& messages() {
  static const json m = json::parse(R"([
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi <b>there</b> {{ x }}"},
    {"role": "assistant", "content": "", "reasoning_content": "think",
     "tool_calls": [{"id": "c1", "type": "function",
                     "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2.5, null, true]}}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 21}"},
    {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}, {"type": "image"}]}
  ])");
  return m;
}

const json& tools() {
  static const json t = json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
  ])");
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uma::text::RenderLimits limits{
      .max_output_bytes = 1u << 20, .max_loop_iterations = 100'000, .max_recursion_depth = 64};
  try {
    uma::text::ChatTemplate t(std::string(uma::fuzz::as_text(data, size)), limits);
    t.set_clock(
        [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)); });
    const json extra = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"enable_thinking", false}};
    std::string out = t.apply(messages(), tools(), true, extra);
    uma::fuzz::require(out.size() <= limits.max_output_bytes);
    (void)t.apply(messages(), nullptr, false);
  } catch (const uma::text::TemplateError& e) {
    // Any other C++ exception reaching the boundary is an engine bug.
    uma::fuzz::require(e.kind() != "InternalError");
  }
  return 0;
}
