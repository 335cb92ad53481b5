// Every golden of ../shared/fixtures/chat_template_goldens.json (transformers
// 5.17) and, once committed, tests/fixtures/chat_template_goldens_more.json
// (made by tests/fixtures/make_chat_template_goldens.py): exact text, or the
// same exception type and message.
#include <gtest/gtest.h>

#include "text/chat/chat_test_util.h"

namespace uma::text::test {
namespace {

struct GoldenCase {
  std::string file, key;  // key = "<conversation>|gen=<0|1>"
};

std::vector<GoldenCase> cases_of(const json& goldens) {
  std::vector<GoldenCase> out;
  if (!goldens.is_object()) return out;
  for (const auto& [file, cases] : goldens.items())
    for (const auto& [key, _] : cases.items()) out.push_back({file, key});
  return out;
}

const json& shared_goldens() {
  static const json g = load_json(shared_fixtures() / "chat_template_goldens.json");
  return g;
}

const std::filesystem::path& more_goldens_path() {
  static const std::filesystem::path p = own_fixtures() / "chat_template_goldens_more.json";
  return p;
}

const json& more_goldens() {
  static const json g = load_json(more_goldens_path());
  return g;
}

std::string case_name(const testing::TestParamInfo<GoldenCase>& info) {
  std::string s = info.param.file + "_" + info.param.key;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

void check(const GoldenCase& c, const std::filesystem::path& dir, const json& goldens) {
  std::string source;
  ASSERT_TRUE(read_file(dir / c.file, source)) << "cannot read " << (dir / c.file);
  const json& want = goldens.at(c.file).at(c.key);
  size_t bar = c.key.find("|gen=");
  ASSERT_NE(bar, std::string::npos);
  Rendered got = render_case(source, c.key.substr(0, bar), c.key.substr(bar + 5) == "1");
  if (want.contains("text")) {
    ASSERT_TRUE(got.ok) << "expected text, got error: " << got.text;
    EXPECT_EQ(got.text, want.at("text").get<std::string>());
  } else {
    ASSERT_FALSE(got.ok) << "expected error " << want.at("error") << ", got text:\n" << got.text;
    EXPECT_EQ(got.text, want.at("error").get<std::string>());
  }
}

class SharedGolden : public testing::TestWithParam<GoldenCase> {};

TEST(ChatTemplateGoldens, SharedFileIsPresent) {
  ASSERT_TRUE(shared_goldens().is_object()) << "missing " << shared_fixtures() / "chat_template_goldens.json";
  EXPECT_EQ(cases_of(shared_goldens()).size(), 460u);
}

TEST_P(SharedGolden, Matches) { check(GetParam(), shared_fixtures() / "chat_templates", shared_goldens()); }

INSTANTIATE_TEST_SUITE_P(ChatTemplates, SharedGolden, testing::ValuesIn(cases_of(shared_goldens())), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SharedGolden);

// The goldens for chat_templates_more come from running
//   python3 tests/fixtures/make_chat_template_goldens.py
//       --templates ../shared/fixtures/chat_templates_more --out tests/fixtures/chat_template_goldens_more.json
// on a machine with transformers. Until that file is committed this fails.
TEST(ChatTemplateGoldens, MoreFileIsPresent) {
  ASSERT_TRUE(more_goldens().is_object())
      << "missing " << more_goldens_path()
      << ": run tests/fixtures/make_chat_template_goldens.py with transformers and commit its output";
  EXPECT_EQ(cases_of(more_goldens()).size(), 220u);
}

class MoreGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(MoreGolden, Matches) { check(GetParam(), shared_fixtures() / "chat_templates_more", more_goldens()); }

INSTANTIATE_TEST_SUITE_P(ChatTemplatesMore, MoreGolden, testing::ValuesIn(cases_of(more_goldens())), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MoreGolden);

// Without goldens, every template of chat_templates_more must still parse and
// render all five conversations; only errors the template raises itself
// (raise_exception, or a Python error of the template's own making) may occur.
TEST(ChatTemplatesMore, ParseAndRenderAll) {
  auto dir = shared_fixtures() / "chat_templates_more";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << "missing " << dir;
  int templates = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    ++templates;
    std::string source;
    ASSERT_TRUE(read_file(entry.path(), source));
    ASSERT_NO_THROW(ChatTemplate{source}) << entry.path();
    for (const char* conv : kConversations) {
      for (bool gen : {false, true}) {
        Rendered r = render_case(source, conv, gen);
        if (!r.ok) {
          bool legit = r.text.rfind("TemplateError: ", 0) == 0 || r.text.rfind("TypeError: ", 0) == 0 ||
                       r.text.rfind("SecurityError: ", 0) == 0;
          EXPECT_TRUE(legit) << entry.path().filename() << " " << conv << " gen=" << gen << ": " << r.text;
        }
      }
    }
  }
  EXPECT_EQ(templates, 22);
}

}  // namespace
}  // namespace uma::text::test
