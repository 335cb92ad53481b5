// End-to-end runs of `uma template` against the transformers goldens of the
// shared chat templates (a model folder is made for each template, with the
// bos/eos tokens the goldens were rendered with).
#include <nlohmann/json.hpp>

#include <cstring>

#include "cli_util.h"

namespace uma::cli {
namespace {

using namespace testing;
using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

fs::path fixtures() { return fs::path(UMA_SHARED_DIR) / "fixtures"; }

bool engine_built() {
  auto r = run_uma({"template", "--help"});
  return r.rc == 0;
}

ojson conversation(const std::string& name) {
  auto msg = [](const char* role, const std::string& content) { return ojson{{"role", role}, {"content", content}}; };
  if (name == "single") return ojson::array({msg("user", "Hello!")});
  if (name == "system") return ojson::array({msg("system", "You are a helpful assistant."), msg("user", "What is 2+2?")});
  if (name == "multi") {
    return ojson::array({msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello. How can I help?"),
                         msg("user", "Name a prime.")});
  }
  if (name == "unicode") return ojson::array({msg("user", "  \u00dcn\u00efc\u00f6d\u00e9 \u2014 \u4e2d\u6587 \U0001F600\n\nline2  ")});
  ojson call = {{"id", "call_1"},
                {"type", "function"},
                {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}};
  return ojson::array({msg("user", "Weather in Paris?"),
                       {{"role", "assistant"}, {"content", ""}, {"tool_calls", ojson::array({call})}},
                       {{"role", "tool"}, {"tool_call_id", "call_1"}, {"name", "get_weather"}, {"content", "22C and sunny"}}});
}

ojson tools() {
  return ojson::array({{{"type", "function"},
                        {"function",
                         {{"name", "get_weather"},
                          {"description", "Get the weather for a city."},
                          {"parameters",
                           {{"type", "object"},
                            {"properties", {{"city", {{"type", "string"}, {"description", "City name"}}}}},
                            {"required", ojson::array({"city"})}}}}}}});
}

TEST(TemplateCli, MatchesTransformersGoldens) {
  if (!engine_built()) GTEST_SKIP() << "uma was built without the chat template engine";
  std::ifstream gf(fixtures() / "chat_template_goldens.json");
  ojson goldens = ojson::parse(gf);
  fs::path dir = fs::temp_directory_path() / ("uma_template_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(npm_model("llama2") / "tokenizer.json", dir / "tokenizer.json", fs::copy_options::overwrite_existing);
  int checked = 0, mismatched = 0;
  for (const char* file : {"Qwen-Qwen3-0.6B.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja",
                           "microsoft-Phi-3.5-mini-instruct.jinja", "mistralai-Mistral-Nemo-Instruct-2407.jinja"}) {
    std::ifstream tf(fixtures() / "chat_templates" / file);
    std::string source((std::istreambuf_iterator<char>(tf)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "tokenizer_config.json")
        << ojson{{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}, {"chat_template", source}}.dump();
    for (auto it = goldens[file].begin(); it != goldens[file].end(); ++it) {
      const std::string key = it.key();  // "<conversation>|gen=<0|1>"
      std::string conv = key.substr(0, key.find('|'));
      bool gen = key.back() == '1';
      auto messages = write_temp("messages.json", conversation(conv).dump());
      std::vector<std::string> args = {"template", "--model", dir.string(), "--messages", messages.string()};
      if (conv == "tools") {
        args.push_back("--tools");
        args.push_back(write_temp("tools.json", tools().dump()).string());
      }
      if (!gen) args.push_back("--no-generation-prompt");
      auto r = run_uma(args);
      SCOPED_TRACE(std::string(file) + " " + key);
      ++checked;
      if (it.value().contains("text")) {
        EXPECT_EQ(r.rc, 0) << r.err;
        if (r.out != it.value()["text"].get<std::string>()) {
          ++mismatched;
          ADD_FAILURE() << "got:\n" << r.out << "\nwant:\n" << it.value()["text"].get<std::string>();
        }
      } else {
        expect_one_line_error(r, "");
      }
    }
  }
  EXPECT_EQ(checked, 40);
  EXPECT_EQ(mismatched, 0);
  fs::remove_all(dir);
}

TEST(TemplateCli, KwargsAndErrors) {
  if (!engine_built()) GTEST_SKIP() << "uma was built without the chat template engine";
  auto model = npm_model("qwen3").string();
  auto messages = write_temp("m.json", R"([{"role": "user", "content": "Hi"}])");
  auto r = run_uma({"template", "--model", model, "--messages", messages.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto kwargs = write_temp("k.json", R"({"enable_thinking": false})");
  r = run_uma({"template", "--model", model, "--messages", messages.string(), "--kwargs", kwargs.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  // A {"messages": ..., "tools": ...} file works too.
  auto both = write_temp("b.json", R"({"messages": [{"role": "user", "content": "Hi"}]})");
  r = run_uma({"template", "--model", model, "--messages", both.string(), "--no-generation-prompt"});
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n");

  expect_one_line_error(run_uma({"template", "--model", npm_model("llama2").string(), "--messages", messages.string()}),
                        "has no chat template");
  auto bad = write_temp("bad.json", "[{");
  expect_one_line_error(run_uma({"template", "--model", model, "--messages", bad.string()}), "malformed JSON");
  auto obj = write_temp("obj.json", R"({"role": "user"})");
  expect_one_line_error(run_uma({"template", "--model", model, "--messages", obj.string()}), "list of messages");
  expect_one_line_error(run_uma({"template", "--model", "/no/model", "--messages", messages.string()}), "does not exist");
  // A template that raises: the command fails with the template's message.
  fs::path dir = fs::temp_directory_path() / ("uma_template_raise_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(npm_model("llama2") / "tokenizer.json", dir / "tokenizer.json", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json")
      << ojson{{"chat_template", "{{ raise_exception('roles must alternate') }}"}}.dump();
  expect_one_line_error(run_uma({"template", "--model", dir.string(), "--messages", messages.string()}),
                        "roles must alternate");
  fs::remove_all(dir);
}

// A GGUF file's own chat template (tokenizer.chat_template) and special
// tokens: the vocabulary-only llama-spm GGUF (no tensors, so its key/value
// section runs to the end of the file) with one string key appended.
TEST(TemplateCli, GgufModel) {
  if (!engine_built()) GTEST_SKIP() << "uma was built without the chat template engine";
  std::ifstream in(fixtures() / "gguf" / "ggml-vocab-llama-spm.gguf", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 24u);
  uint64_t n_tensors = 0, n_kv = 0;
  std::memcpy(&n_tensors, bytes.data() + 8, 8);
  std::memcpy(&n_kv, bytes.data() + 16, 8);
  ASSERT_EQ(n_tensors, 0u);
  ++n_kv;
  std::memcpy(bytes.data() + 16, &n_kv, 8);
  auto put_string = [&](const std::string& s) {
    uint64_t n = s.size();
    bytes.append(reinterpret_cast<const char*>(&n), 8).append(s);
  };
  put_string("tokenizer.chat_template");
  uint32_t string_type = 8;
  bytes.append(reinterpret_cast<const char*>(&string_type), 4);
  put_string("{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{{ eos_token }}{% endfor %}"
             "{% if add_generation_prompt %}[assistant]{% endif %}");
  auto gguf = write_temp("chat.gguf", bytes);
  auto messages = write_temp("gm.json", R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])");
  auto r = run_uma({"template", "--model", gguf.string(), "--messages", messages.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "<s>[user] Hi</s>[assistant] Yo</s>[assistant]");
  r = run_uma({"template", "--model", gguf.string(), "--messages", messages.string(), "--no-generation-prompt"});
  EXPECT_EQ(r.out, "<s>[user] Hi</s>[assistant] Yo</s>");
  fs::remove(gguf);
  fs::remove(messages);
}

}  // namespace
}  // namespace uma::cli
