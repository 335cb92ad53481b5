// Robustness: random bytes, truncated and mutated real templates must either
// render or raise TemplateError; nothing may crash or throw anything else.
#include <gtest/gtest.h>

#include <random>

#include "text/chat/chat_test_util.h"

namespace uma::text::test {
namespace {

RenderLimits fuzz_limits() {
  RenderLimits l;
  l.max_output_bytes = 1 << 20;
  l.max_loop_iterations = 20000;
  l.max_recursion_depth = 64;
  return l;
}

// Parses and renders; returns false (with a failure) on anything but TemplateError.
bool survives(const std::string& source, const json& ctx) {
  try {
    ChatTemplate t(source, fuzz_limits());
    t.set_clock([] { return golden_now(); });
    t.render(ctx);
  } catch (const TemplateError&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-TemplateError exception " << e.what() << " for: " << source;
    return false;
  }
  return true;
}

json fuzz_context() {
  json ctx = {{"messages", conversation("tools")}, {"tools", tools_fixture()}, {"add_generation_prompt", true},
              {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"xs", {1, 2, 3}}, {"s", "héllo"}};
  return ctx;
}

TEST(JinjaFuzz, RandomTemplateSoup) {
  static const char* pieces[] = {
      "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " ", "\n", "'", "\"", "(", ")", "[", "]", "{", "}", "|", ".", ",",
      ":", "=", "~", "*", "/", "%", "if ", "for ", "in ", "endif", "endfor", "set ", "macro ", "endmacro", "else",
      "elif ", "x", "xs", "messages", "loop.index", "tojson", "length", "raise_exception('e')", "1", "0.5", "none",
      "true", "not ", "and ", "or ", "is ", "defined", "namespace()", "range(3)", "\\", "é", "\xff", "\x00", "raw",
      "endraw", "call", "filter ", "upper", "break", "continue", "recursive", "loop(", "caller()", "(1,)", "**"};
  std::mt19937 rng(12345);
  json ctx = fuzz_context();
  for (int i = 0; i < 4000; ++i) {
    std::string src;
    int n = std::uniform_int_distribution<int>(1, 40)(rng);
    for (int k = 0; k < n; ++k) src += pieces[rng() % std::size(pieces)];
    if (!survives(src, ctx)) return;
  }
}

TEST(JinjaFuzz, RandomBytes) {
  std::mt19937 rng(777);
  json ctx = fuzz_context();
  for (int i = 0; i < 2000; ++i) {
    std::string src(std::uniform_int_distribution<int>(0, 64)(rng), '\0');
    for (char& c : src) c = static_cast<char>(rng());
    if (!survives("{{ " + src + " }}", ctx) || !survives(src, ctx)) return;
  }
}

TEST(JinjaFuzz, TruncatedAndMutatedRealTemplates) {
  json ctx = fuzz_context();
  std::mt19937 rng(99);
  for (const char* name : {"Qwen-Qwen3-0.6B.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja",
                           "google-gemma-4-31B-it.jinja"}) {
    std::string source;
    ASSERT_TRUE(read_file(shared_fixtures() / "chat_templates" / name, source));
    // Every 11th prefix: all ways a template can end early.
    for (size_t len = 0; len < source.size(); len += 11)
      if (!survives(source.substr(0, len), ctx)) return;
    for (int i = 0; i < 300; ++i) {
      std::string m = source;
      for (int k = 0; k < 3; ++k) {
        size_t at = rng() % (m.size() + 1);
        switch (rng() % 3) {
          case 0: if (at < m.size()) m.erase(at, 1 + rng() % 8); break;
          case 1: m.insert(at, 1, "{}%#-+|()[]'\"\n "[rng() % 15]); break;
          default: if (at < m.size()) m[at] = static_cast<char>(rng());
        }
      }
      if (!survives(m, ctx)) return;
    }
  }
}

TEST(JinjaFuzz, PathologicalNesting) {
  json ctx = fuzz_context();
  for (int n : {100, 1000, 30000}) {
    EXPECT_TRUE(survives("{{ " + std::string(n, '(') + "1" + std::string(n, ')') + " }}", ctx));
    EXPECT_TRUE(survives("{{ " + std::string(n, '[') + std::string(n, ']') + " }}", ctx));
    std::string nots, ifs, filters = "{{ 1", attrs = "{{ xs", subs = "{{ xs";
    for (int i = 0; i < n; ++i) {
      nots += "not ";
      ifs += "{% if true %}";
      filters += "|abs";
      attrs += ".a";
      subs += "[0]";
    }
    EXPECT_TRUE(survives("{{ " + nots + "1 }}", ctx));
    EXPECT_TRUE(survives(ifs, ctx));
    EXPECT_TRUE(survives(filters + " }}", ctx));
    EXPECT_TRUE(survives(attrs + " }}", ctx));
    EXPECT_TRUE(survives(subs + " }}", ctx));
  }
  // Deeply nested input data is refused, not overflowed.
  json deep = json::array();
  for (int i = 0; i < 5000; ++i) deep = json::array({deep});
  EXPECT_TRUE(survives("{{ d }}", {{"d", deep}}));
}

}  // namespace
}  // namespace uma::text::test
