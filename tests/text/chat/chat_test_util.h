// Shared helpers of the chat template tests: fixture paths, the five
// conversations of ../shared/fixtures/README.md and a fixed clock.
#pragma once

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "uma/text/chat_template.h"

namespace uma::text::test {

inline std::filesystem::path shared_fixtures() { return std::filesystem::path(UMA_SHARED_DIR) / "fixtures"; }
inline std::filesystem::path own_fixtures() { return std::filesystem::path(UMA_SOURCE_DIR) / "tests" / "fixtures"; }

inline bool read_file(const std::filesystem::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

inline json load_json(const std::filesystem::path& p) {
  std::string text;
  if (!read_file(p, text)) return json();
  return json::parse(text, nullptr, false);
}

inline const json& tools_fixture() {
  static const json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Get the weather for a city.", "parameters": {"type": "object",
      "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}}])");
  return tools;
}

// The conversations, with keys in the order Python's dicts have them.
inline json conversation(const std::string& name) {
  if (name == "single") return json::parse(R"([{"role": "user", "content": "Hello!"}])");
  if (name == "system")
    return json::parse(R"([{"role": "system", "content": "You are a helpful assistant."},
                           {"role": "user", "content": "What is 2+2?"}])");
  if (name == "multi")
    return json::parse(R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello. How can I help?"},
                           {"role": "user", "content": "Name a prime."}])");
  if (name == "unicode")
    return json::parse(R"([{"role": "user", "content": "  \u00dcn\u00efc\u00f6d\u00e9 \u2014 \u4e2d\u6587 \ud83d\ude00\n\nline2  "}])");
  if (name == "tools")
    return json::parse(R"([{"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "22C and sunny"}])");
  return json();
}

inline const char* const kConversations[] = {"single", "system", "multi", "unicode", "tools"};

// 2026-11-26 12:00 local time, the date the goldens were rendered with.
inline std::chrono::system_clock::time_point golden_now() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

// Renders one golden case: "text" on success, "Kind: message" on error.
struct Rendered {
  bool ok = false;
  std::string text;
};

inline Rendered render_case(const std::string& source, const std::string& conv, bool gen) {
  Rendered r;
  try {
    ChatTemplate t(source);
    t.set_clock([] { return golden_now(); });
    json extra = {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}};
    r.text = t.apply(conversation(conv), conv == "tools" ? tools_fixture() : json(), gen, extra);
    r.ok = true;
  } catch (const TemplateError& e) {
    r.text = e.kind() + ": " + e.message();
  }
  return r;
}

}  // namespace uma::text::test
