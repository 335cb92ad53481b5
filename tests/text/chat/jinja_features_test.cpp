// Language features against Jinja2 itself: tests/fixtures/jinja_feature_goldens.json
// holds ~220 small templates rendered by Jinja2 3.1.6 configured as
// transformers does (made by tests/fixtures/make_jinja_feature_goldens.py).
#include <gtest/gtest.h>

#include "text/chat/chat_test_util.h"

namespace uma::text::test {
namespace {

const json& feature_doc() {
  static const json doc = load_json(own_fixtures() / "jinja_feature_goldens.json");
  return doc;
}

std::vector<std::string> feature_names() {
  std::vector<std::string> names;
  if (feature_doc().is_object())
    for (const auto& c : feature_doc().at("cases")) names.push_back(c.at("name").get<std::string>());
  return names;
}

const json& feature(const std::string& name) {
  for (const auto& c : feature_doc().at("cases"))
    if (c.at("name") == name) return c;
  static const json none;
  return none;
}

class JinjaFeature : public testing::TestWithParam<std::string> {};

TEST(JinjaFeatures, GoldenFileIsPresent) {
  ASSERT_TRUE(feature_doc().is_object()) << "missing tests/fixtures/jinja_feature_goldens.json";
  EXPECT_GT(feature_names().size(), 200u);
}

TEST_P(JinjaFeature, MatchesJinja2) {
  const json& c = feature(GetParam());
  json context = feature_doc().at("context");
  if (c.contains("extra"))
    for (const auto& [k, v] : c.at("extra").items()) context[k] = v;
  const json& want = c.at("expected");
  const std::string source = c.at("template").get<std::string>();
  std::string got;
  bool ok = false;
  int line = 0;
  try {
    ChatTemplate t(source);
    t.set_clock([] { return golden_now(); });
    got = t.render(context);
    ok = true;
  } catch (const TemplateError& e) {
    got = e.kind() + ": " + e.message();
    line = e.line();
  }
  SCOPED_TRACE("template: " + source);
  if (want.contains("text")) {
    ASSERT_TRUE(ok) << "expected text, got " << got;
    EXPECT_EQ(got, want.at("text").get<std::string>());
  } else {
    ASSERT_FALSE(ok) << "expected " << want.at("error") << ", got text: " << got;
    EXPECT_EQ(got, want.at("error").get<std::string>());
    if (want.contains("line")) {
      EXPECT_EQ(line, want.at("line").get<int>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Jinja2, JinjaFeature, testing::ValuesIn(feature_names()),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(JinjaFeature);

}  // namespace
}  // namespace uma::text::test
