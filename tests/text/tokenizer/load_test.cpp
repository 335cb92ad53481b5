// load_tokenizer: special tokens, eos ids, add_bos_token, chat templates
// from HF folders and GGUF files, and errors for bad inputs.
#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "uma/text/tokenizer/load.h"

namespace uma::text::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A tiny tokenizer.json: WordLevel over a few words with <s>, </s> special.
json tiny_tokenizer_json(const json& post_processor = nullptr) {
  return {{"version", "1.0"},
          {"added_tokens",
           {{{"id", 1}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
            {{"id", 2}, {"content", "</s>"}, {"special", true}, {"normalized", false}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
          {"post_processor", post_processor},
          {"decoder", nullptr},
          {"model", {{"type", "WordLevel"}, {"vocab", {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {"hi", 3}}},
                     {"unk_token", "<unk>"}}}};
}

class TempModel {
 public:
  TempModel() {
    dir_ = fs::temp_directory_path() / ("uma_load_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempModel() { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  void write_json(const std::string& name, const json& j) { write(name, j.dump()); }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

TEST(LoadTokenizer, NpmModels) {
  auto l3 = load_tokenizer(testing::npm_model_dir("llama3"));
  ASSERT_TRUE(l3.bos && l3.eos);
  EXPECT_EQ(l3.bos->text, "<|begin_of_text|>");
  EXPECT_EQ(l3.bos->id, 128000);
  EXPECT_EQ(l3.eos->id, 128001);
  EXPECT_FALSE(l3.add_bos_token);  // ByteLevel post-processor adds nothing
  ASSERT_NE(l3.chat_template(), nullptr);
  EXPECT_NE(l3.chat_template()->source.find("start_header_id"), std::string::npos);

  auto q3 = load_tokenizer(testing::npm_model_dir("qwen3"));
  EXPECT_FALSE(q3.bos.has_value());
  ASSERT_TRUE(q3.eos && q3.pad);
  EXPECT_EQ(q3.eos->id, 151645);
  EXPECT_EQ(q3.pad->text, "<|endoftext|>");
  EXPECT_EQ(q3.eos_ids, std::vector<int32_t>{151645});
  EXPECT_FALSE(q3.add_bos_token);
  EXPECT_TRUE(q3.is_eos(151645));
  // Only the special tokens that are set reach a chat template.
  EXPECT_EQ(q3.template_variables().dump(),
            R"({"eos_token":"<|im_end|>","pad_token":"<|endoftext|>"})");

  auto l2 = load_tokenizer(testing::npm_model_dir("llama2"));
  EXPECT_TRUE(l2.add_bos_token);
  EXPECT_FALSE(l2.add_eos_token);
  EXPECT_EQ(l2.tokenizer->encode("hi", true).front(), 1);
  EXPECT_EQ(l2.chat_template(), nullptr);
  EXPECT_EQ(l2.unk->id, 0);
}

// The transformers rule for add_bos_token must not change the goldens.
TEST(LoadTokenizer, GoldensThroughConfig) {
  auto goldens = testing::read_json(testing::shared_fixtures() / "tokenizer_goldens.json");
  for (std::string name : {"llama3", "qwen3", "llama2"}) {
    auto t = load_tokenizer(testing::npm_model_dir(name));
    int bad = 0;
    for (const auto& e : goldens[name]) {
      bad += t.tokenizer->encode(e["text"].get<std::string>(), true) !=
             e["ids_with_special"].get<std::vector<int32_t>>();
    }
    EXPECT_EQ(bad, 0) << name;
  }
}

TEST(LoadTokenizer, AddBosEosFlagsReplacePostProcessor) {
  TempModel m;
  m.write_json("tokenizer.json", tiny_tokenizer_json());
  m.write_json("tokenizer_config.json",
               {{"bos_token", "<s>"}, {"eos_token", {{"content", "</s>"}, {"__type", "AddedToken"}}},
                {"add_bos_token", true}, {"add_eos_token", true}});
  auto t = load_tokenizer(m.dir());
  EXPECT_TRUE(t.add_bos_token);
  EXPECT_TRUE(t.add_eos_token);
  EXPECT_EQ(t.tokenizer->encode("hi hi", true), (std::vector<int32_t>{1, 3, 3, 2}));
  EXPECT_EQ(t.tokenizer->encode("hi", false), (std::vector<int32_t>{3}));
  EXPECT_EQ(t.eos->text, "</s>");
}

TEST(LoadTokenizer, ExplicitFalseRemovesTemplateBos) {
  json tp = {{"type", "TemplateProcessing"},
             {"single", "<s> $A"},
             {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
  TempModel m;
  m.write_json("tokenizer.json", tiny_tokenizer_json(tp));
  m.write_json("tokenizer_config.json", {{"bos_token", "<s>"}});
  EXPECT_TRUE(load_tokenizer(m.dir()).add_bos_token);  // read off the post-processor
  m.write_json("tokenizer_config.json", {{"bos_token", "<s>"}, {"add_bos_token", false}});
  auto t = load_tokenizer(m.dir());
  EXPECT_FALSE(t.add_bos_token);
  EXPECT_EQ(t.tokenizer->encode("hi", true), std::vector<int32_t>{3});
}

TEST(LoadTokenizer, SpecialTokensMapAndEosIds) {
  TempModel m;
  m.write_json("tokenizer.json", tiny_tokenizer_json());
  m.write_json("special_tokens_map.json", {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"pad_token", "<unk>"}});
  // The model's files are not the tokenizer's: their EOS ids come in as
  // extra_eos_ids (lm::load reads them).
  m.write_json("generation_config.json", {{"eos_token_id", {2, 3}}});
  m.write_json("config.json", {{"eos_token_id", 3}});
  EXPECT_EQ(load_tokenizer(m.dir()).eos_ids, std::vector<int32_t>{2});
  auto t = load_tokenizer(m.dir(), {3, 2, -1, 3, 4});
  ASSERT_TRUE(t.bos && t.pad);
  EXPECT_EQ(t.bos->id, 1);
  EXPECT_EQ(t.pad->id, 0);
  EXPECT_EQ(t.eos_ids, (std::vector<int32_t>{2, 3, 4}));
  EXPECT_TRUE(t.is_eos(4));
  EXPECT_FALSE(t.is_eos(-1));
  // No post-processor in tokenizer.json: transformers installs "$A".
  EXPECT_FALSE(t.add_bos_token);
  EXPECT_EQ(t.tokenizer->encode("hi", true), std::vector<int32_t>{3});
}

TEST(LoadTokenizer, ChatTemplateSources) {
  TempModel m;
  m.write_json("tokenizer.json", tiny_tokenizer_json());
  json templates = json::array();
  templates.push_back({{"name", "default"}, {"template", "D"}});
  templates.push_back({{"name", "tool_use"}, {"template", "T"}});
  m.write_json("tokenizer_config.json", {{"chat_template", templates}});
  auto t = load_tokenizer(m.dir());
  ASSERT_EQ(t.chat_templates.size(), 2u);
  EXPECT_EQ(t.chat_template()->source, "D");
  EXPECT_EQ(t.chat_template({}, /*with_tools=*/true)->source, "T");
  EXPECT_EQ(t.chat_template("tool_use")->source, "T");
  EXPECT_EQ(t.chat_template("nope"), nullptr);
  // chat_template.jinja takes precedence over the config's default.
  m.write("chat_template.jinja", "J{{ x }}");
  m.write("additional_chat_templates/rag.jinja", "R");
  t = load_tokenizer(m.dir());
  EXPECT_EQ(t.chat_template()->source, "J{{ x }}");
  EXPECT_EQ(t.chat_template("rag")->source, "R");
  // Given the path of tokenizer.json itself.
  EXPECT_EQ(load_tokenizer(m.dir() / "tokenizer.json").chat_template()->source, "J{{ x }}");
}

TEST(LoadTokenizer, Gguf) {
  auto t = load_tokenizer(testing::shared_fixtures() / "gguf" / "tiny-llama-q4_k_m.gguf");
  ASSERT_TRUE(t.bos && t.eos);
  EXPECT_EQ(t.bos->id, 1016);
  EXPECT_EQ(t.eos->id, 1017);
  EXPECT_EQ(t.eos_ids, (std::vector<int32_t>{1017, 1018}));
  EXPECT_TRUE(t.add_bos_token);
  auto ids = t.tokenizer->encode("hello world", true);
  EXPECT_EQ(ids.front(), 1016);
  EXPECT_EQ(t.tokenizer->decode(ids, true), "hello world");
  EXPECT_TRUE(t.chat_templates.empty());

  auto spm = load_tokenizer(testing::shared_fixtures() / "gguf" / "ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(spm.bos->text, "<s>");
  EXPECT_EQ(spm.tokenizer->encode("Hello world", true), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(spm.tokenizer->decode(spm.tokenizer->encode("Hello world", true), true), "Hello world");
}

void expect_error(const fs::path& p, const std::string& needle) {
  try {
    load_tokenizer(p);
    ADD_FAILURE() << "no error for " << p;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(LoadTokenizer, Errors) {
  expect_error("/no/such/model", "does not exist");
  TempModel m;
  expect_error(m.dir(), "no tokenizer.json");
  m.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [");
  expect_error(m.dir(), "malformed JSON");
  json bad = tiny_tokenizer_json();
  bad["model"]["type"] = "Quantum";
  m.write_json("tokenizer.json", bad);
  expect_error(m.dir(), "'Quantum'");
  bad = tiny_tokenizer_json();
  bad["pre_tokenizer"] = {{"type", "Telepathy"}};
  m.write_json("tokenizer.json", bad);
  expect_error(m.dir(), "'Telepathy'");
  m.write_json("tokenizer.json", tiny_tokenizer_json());
  m.write("tokenizer_config.json", "{not json");
  expect_error(m.dir(), "tokenizer_config.json");
  m.write("notes.txt", "hello");
  expect_error(m.dir() / "notes.txt", "neither");
}

// `depth` Sequence normalizers inside each other around one Lowercase.
std::string nested_normalizer_json(int depth) {
  std::string n;
  for (int i = 0; i < depth; ++i) n += R"({"type":"Sequence","normalizers":[)";
  n += R"({"type":"Lowercase"})";
  for (int i = 0; i < depth; ++i) n += "]}";
  json t = tiny_tokenizer_json();
  t.erase("normalizer");
  std::string text = t.dump();
  return text.substr(0, text.size() - 1) + R"(,"normalizer":)" + n + "}";
}

// Found with the fuzz_tokenizer harness (a hand-made input): 20000 nested
// Sequence normalizers overflowed the stack while the components were built.
// Like Hugging Face tokenizers (serde_json's recursion limit), nesting beyond
// 128 levels is an error.
TEST(TokenizerJson, DeepNestingIsRejected) {
  // Each Sequence level is two JSON levels (the object and its list).
  for (int depth : {64, 200, 20000}) {
    try {
      Tokenizer::from_json(nested_normalizer_json(depth), "deep.json");
      ADD_FAILURE() << "depth " << depth << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(
                    "deep.json: section 'normalizer' nests deeper than 128 levels"),
                std::string::npos)
          << e.what();
    }
  }
  // 63 Sequence levels (126 JSON levels), Lowercase and the top-level object
  // make 128 levels: accepted, and the innermost Lowercase still applies
  // ("HI" -> "hi" = id 3).
  Tokenizer tok = Tokenizer::from_json(nested_normalizer_json(63), "ok.json");
  EXPECT_EQ(tok.encode("HI hi", false), (std::vector<int32_t>{3, 3}));
}

}  // namespace
}  // namespace uma::text::tokenizer
