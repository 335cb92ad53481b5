// Hand-written checks of the Jinja engine: expected strings follow Jinja2's
// documented semantics (most are also covered against Jinja2 itself by
// jinja_features_test.cpp); here the focus is on the C++ API, error
// positions, sandbox limits and transformers' conventions.
#include <gtest/gtest.h>

#include <thread>

#include "text/chat/chat_test_util.h"

namespace uma::text::test {
namespace {

std::string render(const std::string& src, const json& ctx = json::object(), RenderLimits limits = {}) {
  ChatTemplate t(src, limits);
  return t.render(ctx);
}

TemplateError error_of(const std::string& src, const json& ctx = json::object(), RenderLimits limits = {}) {
  try {
    ChatTemplate t(src, limits);
    t.render(ctx);
  } catch (const TemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << src;
  return TemplateError("none", "", 0, 0);
}

TEST(JinjaWhitespace, TrimAndLstripBlocks) {
  EXPECT_EQ(render("{% if true %}\n  yes\n{% endif %}\nend"), "  yes\nend");
  EXPECT_EQ(render("a\n    {% if true %}\n    b\n    {% endif %}\nc"), "a\n    b\nc");
  EXPECT_EQ(render("a   {%- if true -%}   b   {%- endif -%}   c"), "abc");
  EXPECT_EQ(render("x  {{- 1 -}}  y"), "x1y");
  EXPECT_EQ(render("a\n    {%+ if true %}b{% endif %}"), "a\n    b");  // + keeps the indentation
  EXPECT_EQ(render("{% if true +%}\nb{% endif %}"), "\nb");            // + keeps the newline
  EXPECT_EQ(render("a\n    {{ 1 }}\n"), "a\n    1");  // no lstrip for {{, one trailing newline dropped
  EXPECT_EQ(render("a\r\nb\rc"), "a\nb\nc");
  EXPECT_EQ(render("{% raw %}{{ kept }}{% endraw %}"), "{{ kept }}");
  EXPECT_EQ(render("a{# comment #}b"), "ab");
}

TEST(JinjaLoops, LoopVariablesAndControl) {
  EXPECT_EQ(render("{% for x in 'abc' %}{{ loop.index }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }} {% endfor %}"),
            "12TrueFalse 21FalseFalse 30FalseTrue ");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }} {% endfor %}"), "-2 1-3 2- ");
  EXPECT_EQ(render("{% for x in range(10) if x is even %}{{ x }}{{ loop.length }},{% endfor %}"), "05,25,45,65,85,");
  EXPECT_EQ(render("{% for x in range(9) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}"
                   "{{ x }}{% endfor %}"),
            "023");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}{{ v }}{% endfor %}"), "a1b2");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in [1, 2] %}{{ loop.cycle('odd', 'even') }} {% endfor %}"), "odd even ");
}

TEST(JinjaScopes, NamespaceAndLoopScope) {
  EXPECT_EQ(render("{% set x = 0 %}{% for i in [1, 2] %}{% set x = x + i %}{% endfor %}{{ x }}"), "0");
  EXPECT_EQ(render("{% set ns = namespace(x=0) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}"),
            "3");
  EXPECT_EQ(render("{% if true %}{% set y = 1 %}{% endif %}{{ y }}"), "1");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ b }}{{ a }}"), "21");
  EXPECT_EQ(render("{% set block %}  x {{ 1 }}{% endset %}[{{ block }}]"), "[  x 1]");
}

TEST(JinjaMacros, DefaultsVarargsCaller) {
  EXPECT_EQ(render("{% macro m(a, b='B') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}"), "1B12");
  EXPECT_EQ(render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, k=2) }}"), "(1,){'k': 2}");
  EXPECT_EQ(render("{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}in{% endcall %}"), "[in]");
  EXPECT_EQ(render("{% macro f(n) %}{% if n %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"), "321");
}

TEST(JinjaValues, PythonReprAndStr) {
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.0, {'k': (1,)}] }}"), "[1, 'a', None, True, 1.0, {'k': (1,)}]");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 10 / 4 }} {{ 2 ** 62 }}"),
            "0.30000000000000004 1e+16 1e-05 2.5 4611686018427387904");
  EXPECT_EQ(render("{{ [\"it's\"] }}"), "[\"it's\"]");
  EXPECT_EQ(render("{{ 'é' ~ 1 ~ none }}"), "é1None");
}

TEST(JinjaValues, UnicodeIsByCodePoint) {
  json ctx = {{"u", "Ünï中😀"}};
  EXPECT_EQ(render("{{ u|length }} {{ u[1] }} {{ u[-1] }} {{ u[1:3] }} {{ u|upper }} {{ u|reverse }}", ctx),
            "5 n 😀 nï ÜNÏ中😀 😀中ïnÜ");
}

TEST(JinjaFilters, TojsonIsTransformers) {
  json ctx = {{"v", {{"b", "é<>&'"}, {"a", {1, 2.5, nullptr, true}}}}};
  EXPECT_EQ(render("{{ v|tojson }}", ctx), R"({"b": "é<>&'", "a": [1, 2.5, null, true]})");
  EXPECT_EQ(render("{{ v|tojson(sort_keys=true, separators=(',', ':')) }}", ctx), R"({"a":[1,2.5,null,true],"b":"é<>&'"})");
  EXPECT_EQ(render("{{ [1]|tojson(indent=2) }}", ctx), "[\n  1\n]");
  EXPECT_EQ(render("{{ 'é'|tojson(ensure_ascii=true) }}", ctx), R"("\u00e9")");
}

TEST(JinjaUndefined, DefaultUndefinedSemantics) {
  EXPECT_EQ(render("[{{ nope }}]{% if nope %}x{% endif %}{% for a in nope %}x{% endfor %}{{ nope|length }}"), "[]0");
  EXPECT_EQ(render("{{ nope is defined }} {{ {}.x is defined }} {{ none.x is defined }}"), "False False False");
  TemplateError e = error_of("{{ nope.attr }}");
  EXPECT_EQ(e.kind(), "UndefinedError");
  EXPECT_EQ(e.message(), "'nope' is undefined");
  e = error_of("{{ d.x.y }}", {{"d", json::object()}});
  EXPECT_EQ(e.message(), "'dict object' has no attribute 'x'");
}

TEST(JinjaErrors, SyntaxErrorsHaveLineAndColumn) {
  TemplateError e = error_of("line 1\nline 2 {{ 1 + }}\n");
  EXPECT_EQ(e.kind(), "TemplateSyntaxError");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 15);
  EXPECT_EQ(e.message(), "unexpected 'end of print statement'");
  EXPECT_STREQ(e.what(), "TemplateSyntaxError: unexpected 'end of print statement' (line 2, column 15)");

  e = error_of("{% for x in y %}\n{% if x %}\n{% endfor %}");
  EXPECT_EQ(e.kind(), "TemplateSyntaxError");
  EXPECT_EQ(e.line(), 3);
  EXPECT_NE(e.message().find("Encountered unknown tag 'endfor'"), std::string::npos) << e.message();

  e = error_of("{% if true %}\nunclosed");
  EXPECT_EQ(e.message(),
            "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. "
            "The innermost block that needs to be closed is 'if'.");
  EXPECT_EQ(error_of("{% break %}").kind(), "TemplateSyntaxError");
  EXPECT_EQ(error_of("{% do x %}").message(), "Encountered unknown tag 'do'.");
  EXPECT_EQ(error_of("{{ 1|nofilter }}").message(), "No filter named 'nofilter'.");
}

TEST(JinjaErrors, RuntimeErrorsHaveLine) {
  TemplateError e = error_of("ok\n\n  {{ 'a' + 1 }}");
  EXPECT_EQ(e.kind(), "TypeError");
  EXPECT_EQ(e.message(), "can only concatenate str (not \"int\") to str");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 6);
  e = error_of("{% for m in messages %}\n{{ raise_exception('bad role: ' ~ m) }}{% endfor %}", {{"messages", {"x"}}});
  EXPECT_EQ(e.kind(), "TemplateError");
  EXPECT_EQ(e.message(), "bad role: x");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(error_of("{% for x in none %}{% endfor %}").message(), "'NoneType' object is not iterable");
  EXPECT_EQ(error_of("{% include 'other.jinja' %}").kind(), "TypeError");
}

TEST(JinjaSandbox, MutatingMethodsAreUnsafe) {
  json ctx = {{"xs", {1, 2}}, {"d", {{"a", 1}}}};
  TemplateError e = error_of("{% set _ = xs.append(3) %}", ctx);
  EXPECT_EQ(e.kind(), "SecurityError");
  EXPECT_EQ(e.message(), "access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_EQ(error_of("{{ d.update({}) }}", ctx).kind(), "SecurityError");
  EXPECT_EQ(error_of("{{ d.__class__() }}", ctx).kind(), "SecurityError");
  EXPECT_EQ(render("{{ xs + [3] }} {{ xs }}", ctx), "[1, 2, 3] [1, 2]");
  EXPECT_EQ(error_of("{{ range(100001)|length }}").kind(), "OverflowError");
}

TEST(JinjaLimits, OutputLoopsAndRecursionAreBounded) {
  RenderLimits small;
  small.max_output_bytes = 1000;
  small.max_loop_iterations = 500;
  small.max_recursion_depth = 50;
  EXPECT_EQ(error_of("{% for i in range(2000) %}x{% endfor %}", {}, small).kind(), "RuntimeError");
  EXPECT_EQ(error_of("{% for i in range(400) %}xyz{% endfor %}", {}, small).kind(), "MemoryError");
  EXPECT_EQ(error_of("{{ 'a' * 100000000000 }}", {}, small).kind(), "MemoryError");
  EXPECT_EQ(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {}, small).kind(), "RecursionError");
  EXPECT_EQ(error_of("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                     {}, small)
                .kind(),
            "MemoryError");
  // Values nested beyond the depth limit are refused instead of overflowing the stack.
  EXPECT_EQ(error_of("{% set ns = namespace(x=[]) %}{% for i in range(2000) %}{% set ns.x = [ns.x] %}{% endfor %}")
                .kind(),
            "RecursionError");
  EXPECT_EQ(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").kind(),
            "TemplateSyntaxError");
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_EQ(error_of(chain + " }}").kind(), "TemplateSyntaxError");
}

TEST(JinjaLimits, BuiltValuesAreBounded) {
  RenderLimits small;
  small.max_output_bytes = 1 << 16;
  for (const char* src : {"{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
                          "{{ [1] * 100000000 }}", "{{ 'x'|indent(100000000) }}", "{{ '\t'.expandtabs(100000000) }}",
                          "{{ 'abc'|replace('', 'x' * 30000) }}", "{{ [1]|batch(1000000000000, 0)|list }}",
                          "{{ range(1000)|list|tojson(indent=60000) }}"})
    EXPECT_EQ(error_of(src, {}, small).kind(), "MemoryError") << src;
}

TEST(JinjaPerformance, LargeInputsStayLinear) {
  json big = json::object();
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    big[key] = i;
  }
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(20000) %}{% if ('k' ~ i) in d %}"
                   "{% set ns.n = ns.n + d['k' ~ i] %}{% endif %}{% endfor %}{{ ns.n }}",
                   {{"d", big}}),
            "199990000");
  EXPECT_EQ(render("{{ range(100000)|unique|list|length }} {{ (range(50000)|list + range(50000)|list)|unique|list|length }}"),
            "100000 50000");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(s, 5.0);
}

TEST(ChatTemplateApi, ApplyPassesTransformersVariables) {
  ChatTemplate t(
      "{{ tools is defined }}/{{ tools is none }}/{{ documents is none }}/{{ add_generation_prompt }}/"
      "{{ bos_token }}/{{ messages|length }}/{{ custom }}");
  json msgs = json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_EQ(t.apply(msgs, nullptr, true, {{"bos_token", "<s>"}, {"custom", 7}}), "True/True/True/True/<s>/1/7");
  EXPECT_EQ(t.apply(msgs, tools_fixture(), false).substr(0, 17), "True/False/True/F");
}

TEST(ChatTemplateApi, ClockDrivesStrftimeNow) {
  ChatTemplate t("{{ strftime_now('%d %b %Y') }}");
  t.set_clock([] { return golden_now(); });
  EXPECT_EQ(t.render(json::object()), "26 Nov 2026");
}

TEST(ChatTemplateApi, MoveAndConcurrentRenders) {
  std::string source;
  ASSERT_TRUE(read_file(shared_fixtures() / "chat_templates" / "Qwen-Qwen3-0.6B.jinja", source));
  ChatTemplate a(source);
  ChatTemplate t(std::move(a));
  std::string want = t.apply(conversation("tools"), tools_fixture(), true);
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) got[i] = t.apply(conversation("tools"), tools_fixture(), true);
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

TEST(ChatTemplateApi, RenderIsFast) {
  std::string source;
  ASSERT_TRUE(read_file(shared_fixtures() / "chat_templates" / "Qwen-Qwen3-0.6B.jinja", source));
  ChatTemplate t(source);
  json msgs = conversation("tools");
  auto start = std::chrono::steady_clock::now();
  int n = 200;
  for (int i = 0; i < n; ++i) t.apply(msgs, tools_fixture(), true);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / n;
  RecordProperty("qwen3_tools_render_us", std::to_string(us));
  EXPECT_LT(us, 5000.0) << "average render took " << us << " us";
}

}  // namespace
}  // namespace uma::text::test
