#include "uma/serve/tool_calls.h"

#include <optional>

namespace uma::serve {

namespace {

using ojson = nlohmann::ordered_json;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<ojson> parse_json(const std::string& s) {
  try {
    return ojson::parse(s);
  } catch (const ojson::exception&) {
    return std::nullopt;
  }
}

// {"name", "arguments" | "parameters"} -> OpenAI's call; arguments as a JSON string.
std::optional<ojson> make_call(const ojson& j, size_t index, const std::string& salt) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  ojson args = j.contains("arguments")    ? j["arguments"]
               : j.contains("parameters") ? j["parameters"]
                                          : ojson::object();
  std::string arguments = args.is_string() ? args.get<std::string>() : args.dump();
  return ojson{{"id", "call_" + std::to_string(index) + "_" + salt},
               {"type", "function"},
               {"function", {{"name", j["name"]}, {"arguments", arguments}}}};
}

void hermes(ParsedOutput& out, const std::string& salt) {
  static const std::string open = "<tool_call>", close = "</tool_call>";
  std::string rest, text = out.content;
  size_t pos = 0;
  while (true) {
    size_t a = text.find(open, pos);
    if (a == std::string::npos) break;
    size_t b = text.find(close, a + open.size());
    if (b == std::string::npos) break;  // an unfinished call stays text
    auto j = parse_json(trim(text.substr(a + open.size(), b - a - open.size())));
    auto call = j ? make_call(*j, out.tool_calls.size(), salt) : std::nullopt;
    rest += text.substr(pos, a - pos);
    if (call) {
      out.tool_calls.push_back(*call);
    } else {
      rest += text.substr(a, b + close.size() - a);
    }
    pos = b + close.size();
  }
  out.content = trim(rest + text.substr(pos));
}

void llama3(ParsedOutput& out, const std::string& salt) {
  std::string text = trim(out.content);
  static const std::string tag = "<|python_tag|>";
  if (text.rfind(tag, 0) == 0) text = trim(text.substr(tag.size()));
  if (text.empty() || text[0] != '{') return;
  // One call, or several separated by ';' (each a whole JSON object).
  std::vector<ojson> calls;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    std::string part =
        trim(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    auto j = parse_json(part);
    if (!j) {
      if (end == std::string::npos) return;
      // A ';' inside a string: try with the next piece joined.
      size_t next = text.find(';', end + 1);
      j = parse_json(
          trim(text.substr(start, next == std::string::npos ? std::string::npos : next - start)));
      if (!j) return;
      end = next;
    }
    auto call = make_call(*j, calls.size(), salt);
    if (!call) return;
    calls.push_back(*call);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (auto& c : calls) out.tool_calls.push_back(c);
  out.content.clear();
}

void mistral(ParsedOutput& out, const std::string& salt) {
  static const std::string tag = "[TOOL_CALLS]", args_tag = "[ARGS]";
  const std::string& text = out.content;
  size_t at = text.find(tag);
  if (at == std::string::npos) return;
  std::string before = text.substr(0, at), after = trim(text.substr(at + tag.size()));
  ojson calls = ojson::array();
  if (!after.empty() && after[0] == '[') {  // [{"name", "arguments"}, ...]
    auto j = parse_json(after);
    if (!j || !j->is_array()) return;
    for (const auto& x : *j) {
      auto call = make_call(x, calls.size(), salt);
      if (!call) return;
      calls.push_back(*call);
    }
  } else {  // name[ARGS]{...}, repeated after further [TOOL_CALLS]
    for (size_t pos = 0; pos < after.size();) {
      size_t a = after.find(args_tag, pos);
      if (a == std::string::npos) return;
      std::string name = trim(after.substr(pos, a - pos));
      size_t next = after.find(tag, a);
      auto args = parse_json(trim(after.substr(
          a + args_tag.size(),
          next == std::string::npos ? std::string::npos : next - a - args_tag.size())));
      if (name.empty() || !args) return;
      calls.push_back(*make_call({{"name", name}, {"arguments", *args}}, calls.size(), salt));
      if (next == std::string::npos) break;
      pos = next + tag.size();
    }
  }
  out.tool_calls = calls;
  out.content = trim(before);
}

}  // namespace

TemplateTraits template_traits(const std::string& src) {
  TemplateTraits t;
  if (src.find("<tool_call>") != std::string::npos) {
    t.tools = ToolFormat::hermes;
  } else if (src.find("[TOOL_CALLS]") != std::string::npos) {
    t.tools = ToolFormat::mistral;
  } else if (src.find("<|python_tag|>") != std::string::npos ||
             src.find("ipython") != std::string::npos) {
    t.tools = ToolFormat::llama3;
  }
  t.reasoning = src.find("<think>") != std::string::npos;
  return t;
}

ParsedOutput parse_output(const std::string& text, const TemplateTraits& traits,
                          const std::string& salt) {
  ParsedOutput out;
  out.content = text;
  if (traits.reasoning) {
    size_t end = out.content.find("</think>");
    if (end != std::string::npos) {
      std::string r = out.content.substr(0, end);
      if (size_t open = r.find("<think>"); open != std::string::npos) r = r.substr(open + 7);
      out.reasoning = trim(r);
      out.content = out.content.substr(end + 8);
    }
  }
  switch (traits.tools) {
    case ToolFormat::hermes:
      hermes(out, salt);
      break;
    case ToolFormat::llama3:
      llama3(out, salt);
      break;
    case ToolFormat::mistral:
      mistral(out, salt);
      break;
    case ToolFormat::none:
      break;
  }
  out.content = trim(out.content);
  return out;
}

}  // namespace uma::serve
