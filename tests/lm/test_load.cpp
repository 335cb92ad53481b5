// lm::load: one read of each file of a model folder (counted through
// io::set_open_observer), the EOS ids of config.json and
// generation_config.json handed to the tokenizer, the chat template parsed
// once (or its error kept for when it is needed), generation defaults, and
// build_prompt with and without a template.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "lm/model_util.h"
#include "text/tokenizer/test_util.h"
#include "uma/core/io/file.h"
#include "uma/lm/load.h"
#include "uma/lm/prompt.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// The tiny llama fixture with the llama2 tokenizer (<s> = 1, </s> = 2, adds
// BOS) and a chat template of our own: a complete model folder.
class ModelFolder {
 public:
  ModelFolder() {
    dir_ = fs::temp_directory_path() /
           ("uma_lm_load_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::path model = test::model_fixture("llama");
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors"}) {
      fs::copy_file(model / f, dir_ / f);
    }
    fs::path tok = text::tokenizer::testing::npm_model_dir("llama2");
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(tok / f, dir_ / f);
    write("chat_template.jinja", kTemplate);
  }
  ~ModelFolder() { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }
  void edit_json(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = text::tokenizer::testing::read_json(dir_ / name);
    edit(j);
    write(name, j.dump());
  }
  std::string path() const { return dir_.string(); }

  static constexpr const char* kTemplate =
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}{{ flag | default('') }}";

 private:
  fs::path dir_;
};

// Counts the files opened while it lives, by file name.
class OpenCounter {
 public:
  OpenCounter() {
    previous_ = io::set_open_observer([this](const std::string& p) { ++counts_[fs::path(p).filename().string()]; });
  }
  ~OpenCounter() { io::set_open_observer(previous_); }
  const std::map<std::string, int>& counts() const { return counts_; }

 private:
  std::map<std::string, int> counts_;
  io::OpenObserver previous_;
};

}  // namespace

TEST(Load, ReadsEveryConfigFileOnce) {
  ModelFolder folder;
  std::map<std::string, int> counts;
  {
    OpenCounter counter;
    auto lm = lm::load(folder.path());
    ASSERT_NE(lm.chat_template, nullptr);
    counts = counter.counts();
  }
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                        "chat_template.jinja"}) {
    EXPECT_EQ(counts[f], 1) << f;
  }
  // Nothing else but the weights (sized, then read).
  for (auto& [name, n] : counts) {
    bool known = name == "config.json" || name == "generation_config.json" || name == "tokenizer.json" ||
                 name == "tokenizer_config.json" || name == "chat_template.jinja" || name == "model.safetensors";
    EXPECT_TRUE(known) << name << " opened " << n << " times";
  }
}

// The tokenizer loader alone reads no model files; lm::load hands it their
// EOS ids (generation_config.json's, then config.json's).
TEST(Load, EosIdsOfTheModelFilesReachTheTokenizer) {
  ModelFolder folder;
  folder.edit_json("generation_config.json", [](auto& j) { j["eos_token_id"] = {2, 5}; });
  folder.edit_json("config.json", [](auto& j) { j["eos_token_id"] = 7; });
  auto lm = lm::load(folder.path());
  EXPECT_EQ(eos_token_ids(lm), (std::vector<int32_t>{2, 5, 7}));
  EXPECT_EQ(lm.tokenizer.eos_ids, (std::vector<int32_t>{2, 5, 7}));
  EXPECT_TRUE(lm.tokenizer.is_eos(7));
  auto alone = text::tokenizer::load_tokenizer(folder.path());
  EXPECT_EQ(alone.eos_ids, std::vector<int32_t>{2});  // tokenizer_config.json's </s>
}

TEST(Load, GenerationDefaultsAreWhatTheFileSets) {
  ModelFolder folder;
  folder.edit_json("generation_config.json", [](auto& j) {
    j["do_sample"] = true;
    j["temperature"] = 0.6;
    j["top_p"] = 0.95;
    j["top_k"] = 20;
    j["repetition_penalty"] = 1.1;
    j["max_new_tokens"] = "many";  // the wrong type: not set
  });
  auto g = lm::load(folder.path()).generation;
  EXPECT_EQ(g.do_sample, true);
  EXPECT_FLOAT_EQ(g.temperature.value_or(-1), 0.6f);
  EXPECT_FLOAT_EQ(g.top_p.value_or(-1), 0.95f);
  EXPECT_EQ(g.top_k, 20);
  EXPECT_FLOAT_EQ(g.repetition_penalty.value_or(-1), 1.1f);
  EXPECT_FALSE(g.min_p.has_value());
  EXPECT_FALSE(g.max_new_tokens.has_value());

  auto none = generation_defaults(nlohmann::json::object());
  EXPECT_FALSE(none.do_sample || none.temperature || none.top_p || none.top_k || none.max_new_tokens);
}

TEST(Load, BuildPromptRendersTheTemplateOnceParsed) {
  ModelFolder folder;
  auto lm = lm::load(folder.path());
  ojson messages = ojson::array({{{"role", "user"}, {"content", "hi"}}});
  PromptOptions po;
  po.template_kwargs = {{"flag", "F"}};
  std::string rendered;
  auto ids = build_prompt(lm, messages, po, &rendered);
  EXPECT_EQ(rendered, "<s>[user]hi[assistant]F");
  auto want = lm.tokenizer.tokenizer->encode("<s>[user]hi[assistant]F", /*add_special_tokens=*/false);
  EXPECT_EQ(ids, std::vector<int>(want.begin(), want.end()));
  EXPECT_EQ(ids.front(), 1);  // the template's <s>, not a second one added

  po.add_generation_prompt = false;
  build_prompt(lm, messages, po, &rendered);
  EXPECT_EQ(rendered, "<s>[user]hiF");
}

TEST(Load, BuildPromptWithoutTemplateEncodesTheText) {
  ModelFolder folder;
  auto lm = lm::load(folder.path());
  ojson messages = ojson::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "hi"}}});
  PromptOptions po;
  po.use_chat_template = false;
  std::string rendered;
  auto ids = build_prompt(lm, messages, po, &rendered);
  EXPECT_EQ(rendered, "Be brief.\nhi");
  auto want = lm.tokenizer.tokenizer->encode("Be brief.\nhi", /*add_special_tokens=*/true);
  EXPECT_EQ(ids, std::vector<int>(want.begin(), want.end()));
  EXPECT_EQ(ids.front(), 1);  // llama2 adds BOS
  // The same without any template in the folder.
  EXPECT_EQ(build_prompt(lm.tokenizer, nullptr, messages), ids);
}

// A template that does not parse fails only where it is used, with the
// parser's error: --ignore-chat-template still works.
TEST(Load, BrokenTemplateFailsWhenUsed) {
  ModelFolder folder;
  folder.write("chat_template.jinja", "{% if %}");
  auto lm = lm::load(folder.path());
  EXPECT_EQ(lm.chat_template, nullptr);
  ASSERT_TRUE(lm.chat_template_error.has_value());
  EXPECT_TRUE(lm.has_chat_template());
  EXPECT_EQ(lm.chat_template_error->kind(), "TemplateSyntaxError");
  ojson messages = ojson::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_THROW(build_prompt(lm, messages), text::TemplateError);
  PromptOptions plain;
  plain.use_chat_template = false;
  EXPECT_FALSE(build_prompt(lm, messages, plain).empty());
}

TEST(Load, MissingTokenizerIsAnErrorNamingTheFolder) {
  ModelFolder folder;
  fs::remove(fs::path(folder.path()) / "tokenizer.json");
  try {
    lm::load(folder.path());
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json in '" + folder.path() + "'"), std::string::npos)
        << e.what();
  }
}
