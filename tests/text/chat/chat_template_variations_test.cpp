// The 68 chat templates with ten further conversations (reasoning content,
// content parts, string and multiple tool calls, empty chat, ...), against
// tests/fixtures/chat_template_variations.json, rendered by transformers
// 5.17.0 with tests/fixtures/make_chat_template_variations.py.
#include <gtest/gtest.h>

#include "text/chat/chat_test_util.h"

namespace uma::text::test {
namespace {

const json& variations() {
  static const json doc = load_json(own_fixtures() / "chat_template_variations.json");
  return doc;
}

struct Variation {
  std::string file, conversation;
};

std::vector<Variation> all_variations() {
  std::vector<Variation> out;
  if (!variations().is_object()) return out;
  for (const auto& [file, cases] : variations().at("cases").items())
    for (const auto& [conv, _] : cases.items()) out.push_back({file, conv});
  return out;
}

class ChatTemplateVariation : public testing::TestWithParam<Variation> {};

TEST(ChatTemplateVariations, FileIsPresent) {
  ASSERT_TRUE(variations().is_object()) << "missing tests/fixtures/chat_template_variations.json";
  EXPECT_EQ(all_variations().size(), 680u);
}

TEST_P(ChatTemplateVariation, MatchesTransformers) {
  const Variation& v = GetParam();
  std::string source;
  if (!read_file(shared_fixtures() / "chat_templates" / v.file, source)) {
    ASSERT_TRUE(read_file(shared_fixtures() / "chat_templates_more" / v.file, source)) << v.file;
  }
  const json& want = variations().at("cases").at(v.file).at(v.conversation);
  bool tools = v.conversation == "str_args" || v.conversation == "multi_tools";
  std::string got;
  bool ok = false;
  try {
    ChatTemplate t(source);
    t.set_clock([] { return golden_now(); });
    got = t.apply(variations().at("conversations").at(v.conversation), tools ? variations().at("tools") : json(), true,
                  {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}});
    ok = true;
  } catch (const TemplateError& e) {
    got = e.kind() + ": " + e.message();
  }
  if (want.contains("text")) {
    ASSERT_TRUE(ok) << got;
    EXPECT_EQ(got, want.at("text").get<std::string>());
  } else {
    ASSERT_FALSE(ok) << "expected " << want.at("error") << ", got text:\n" << got;
    EXPECT_EQ(got, want.at("error").get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateVariation, testing::ValuesIn(all_variations()),
                         [](const testing::TestParamInfo<Variation>& i) {
                           std::string s = i.param.file + "_" + i.param.conversation;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ChatTemplateVariation);

}  // namespace
}  // namespace uma::text::test
