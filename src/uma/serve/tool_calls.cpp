#include "uma/serve/tool_calls.h"

#include "uma/serve/tool_calls_stream.h"

namespace uma::serve {

using ojson = nlohmann::ordered_json;

TemplateTraits template_traits(const std::string& src) {
  auto has = [&](const char* s) { return src.find(s) != std::string::npos; };
  TemplateTraits t;
  if (has("<|channel|>") && has("<|message|>")) {
    t.tools = ToolFormat::harmony;
    t.reasoning = true;  // the analysis channel
  } else if (has("<tool_call>")) {
    t.tools = ToolFormat::hermes;
  } else if (has("[TOOL_CALLS]")) {
    t.tools = ToolFormat::mistral;
  } else if (has("<|python_tag|>") || has("ipython")) {
    t.tools = ToolFormat::llama3;
  }
  if (has("<think>")) t.reasoning = true;
  t.thinking_field = has("message.thinking") || has("\"thinking\" in message");
  return t;
}

ojson template_messages(const ojson& messages, const TemplateTraits& traits) {
  if (!traits.thinking_field) return messages;
  ojson out = messages;
  for (auto& m : out) {
    auto r = m.find("reasoning_content");
    if (m.value("role", "") == "assistant" && r != m.end() && r->is_string() && !m.contains("thinking")) {
      m["thinking"] = *r;
    }
  }
  return out;
}

ojson OutputDelta::json() const {
  ojson d = ojson::object();
  if (!reasoning.empty()) d["reasoning_content"] = reasoning;
  if (!content.empty()) d["content"] = content;
  if (!tool_calls.empty()) d["tool_calls"] = tool_calls;
  return d;
}

std::string TrimmedText::add(std::string_view s) {
  if (!started_) {
    size_t b = 0;
    while (b < s.size() && json_space(s[b])) ++b;
    s.remove_prefix(b);
    if (s.empty()) return "";
  }
  size_t e = s.size();
  while (e > 0 && json_space(s[e - 1])) --e;
  if (e == 0) {
    held_ += s;
    return "";
  }
  started_ = true;
  std::string out = std::exchange(held_, std::string(s.substr(e)));
  out += s.substr(0, e);
  return out;
}

void Emitter::content(std::string_view s) {
  std::string t = content_.add(s);
  msg_.content += t;
  delta_.content += t;
}

void Emitter::reasoning(std::string_view s) {
  std::string t = reasoning_.add(s);
  msg_.reasoning += t;
  delta_.reasoning += t;
}

void Emitter::begin_call(const std::string& name) {
  end_call();
  const size_t index = msg_.tool_calls.size();
  ojson call = {{"id", "call_" + std::to_string(index) + "_" + salt_},
                {"type", "function"},
                {"function", {{"name", name}, {"arguments", ""}}}};
  msg_.tool_calls.push_back(call);
  ojson d = {{"index", index}};
  d.update(call);
  delta_.tool_calls.push_back(std::move(d));
  in_call_ = true;
  args_seen_ = false;
  args_ = {};
}

void Emitter::arguments(std::string_view s) {
  if (!in_call_) return;
  std::string t = args_.add(s);
  if (t.empty()) return;
  args_seen_ = true;
  const size_t index = msg_.tool_calls.size() - 1;
  msg_.tool_calls.back()["function"]["arguments"].get_ref<std::string&>() += t;
  // One delta entry per call and piece: the start of a call and its first
  // arguments travel together.
  if (delta_.tool_calls.empty() || delta_.tool_calls.back()["index"] != index) {
    delta_.tool_calls.push_back({{"index", index}, {"function", {{"arguments", ""}}}});
  }
  delta_.tool_calls.back()["function"]["arguments"].get_ref<std::string&>() += t;
}

void Emitter::end_call() {
  if (!in_call_) return;
  if (!args_seen_) arguments("{}");
  in_call_ = false;
}

OutputDelta Emitter::take() { return std::exchange(delta_, {}); }

OutputParser::OutputParser(const TemplateTraits& traits, bool tools, bool in_reasoning, std::string salt)
    : out_(std::make_unique<Emitter>(std::move(salt))) {
  if (traits.tools == ToolFormat::harmony) {
    reader_ = make_harmony_reader(tools);
  } else {
    reader_ = make_tagged_reader(tools ? traits.tools : ToolFormat::none, traits.reasoning, in_reasoning);
  }
}

OutputParser::~OutputParser() = default;
OutputParser::OutputParser(OutputParser&&) noexcept = default;

OutputDelta OutputParser::feed(std::string_view text) {
  in_ += text;
  reader_->read(in_, false, *out_);
  return out_->take();
}

OutputDelta OutputParser::finish() {
  reader_->read(in_, true, *out_);
  in_.clear();
  out_->end_call();
  return out_->take();
}

const ParsedOutput& OutputParser::message() const { return out_->message(); }

ParsedOutput parse_output(const std::string& text, const TemplateTraits& traits, const std::string& salt,
                          bool in_reasoning, bool tools) {
  OutputParser p(traits, tools, in_reasoning, salt);
  p.feed(text);
  p.finish();
  return p.message();
}

}  // namespace uma::serve
