// End-to-end runs of `uma generate` on tiny random models: the prompt's
// tokens against the chat template and tokenizer run here, the output
// against the tokenizer's decode, and greedy tokens against argmax steps of
// the library's model without a KV cache.
#include "tiny_models.h"
#include "uma/text/chat_template.h"
#include "uma/lm/load.h"
#include "uma/text/tokenizer/load.h"
#include "uma/uma.h"

namespace uma::cli {
namespace {

using namespace testing;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

ojson generate_json(const std::vector<std::string>& args, const std::string& input = "") {
  std::vector<std::string> all = {"generate", "--json"};
  all.insert(all.end(), args.begin(), args.end());
  Result r = run_uma(all, input);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  return parse_json_output(r);
}

std::vector<int> ids(const ojson& j) { return j.get<std::vector<int>>(); }

ojson message(const char* role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

// The chat template rendered with the tokenizer's special tokens, then
// encoded without adding special tokens (transformers' apply_chat_template).
std::vector<int> templated(const fs::path& dir, const ojson& messages) {
  auto tok = text::tokenizer::load_tokenizer(dir);
  EXPECT_NE(tok.chat_template(), nullptr);
  if (!tok.chat_template()) return {};
  ojson extra = ojson::object();
  if (tok.bos) extra["bos_token"] = tok.bos->text;
  if (tok.eos) extra["eos_token"] = tok.eos->text;
  std::string text =
      text::ChatTemplate(tok.chat_template()->source).apply(messages, nullptr, true, extra);
  auto out = tok.tokenizer->encode(text, /*add_special_tokens=*/false);
  return {out.begin(), out.end()};
}

std::vector<int> encoded(const fs::path& dir, const std::string& text) {
  auto out = text::tokenizer::load_tokenizer(dir).tokenizer->encode(text, /*add_special_tokens=*/true);
  return {out.begin(), out.end()};
}

// The JSON "text" is the tokenizer's decode of "tokens" (special tokens
// skipped), serialized the same way (invalid UTF-8 replaced).
void expect_text_is_decoded_tokens(const fs::path& dir, const ojson& j) {
  auto tok = text::tokenizer::load_tokenizer(dir);
  std::vector<int32_t> t = j["tokens"].get<std::vector<int32_t>>();
  ojson want = tok.tokenizer->decode(t, /*skip_special_tokens=*/true);
  EXPECT_EQ(j["text"].dump(), want.dump(-1, ' ', false, ojson::error_handler_t::replace));
}

void expect_length(const ojson& j, size_t max_tokens) {
  if (j["finish_reason"] == "length") {
    EXPECT_EQ(j["tokens"].size(), max_tokens);
  } else {
    EXPECT_EQ(j["finish_reason"], "stop");
    EXPECT_LT(j["tokens"].size(), max_tokens);
  }
}

TEST(GenerateCli, PromptTokensFollowTheChatTemplate) {
  fs::path dir = tiny_model("tiny-llama", "llama3");
  ojson j = generate_json({"--model", dir.string(), "-p", "hi there", "--temp", "0", "-m", "5"});
  // <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi there<|eot_id|>
  // <|start_header_id|>assistant<|end_header_id|>\n\n
  EXPECT_EQ(ids(j["prompt_tokens"]), (std::vector<int>{128000, 128006, 882, 128007, 271, 6151, 1070,
                                                       128009, 128006, 78191, 128007, 271}));
  EXPECT_EQ(ids(j["prompt_tokens"]), templated(dir, ojson::array({message("user", "hi there")})));
  expect_length(j, 5);
  expect_text_is_decoded_tokens(dir, j);
  for (const char* key : {"prompt_tps", "generation_tps", "peak_memory_gb"})
    EXPECT_TRUE(j[key].is_number()) << key;

  for (int m : {0, 1, 9}) {
    ojson k = generate_json({"--model", dir.string(), "-p", "hi there", "-m", std::to_string(m)});
    expect_length(k, m);
    expect_text_is_decoded_tokens(dir, k);
  }
}

TEST(GenerateCli, SystemPromptAndIgnoringTheTemplate) {
  fs::path dir = tiny_model("tiny-llama", "qwen3");
  ojson j = generate_json(
      {"--model", dir.string(), "-p", "hi", "--system-prompt", "Be brief.", "-m", "3"});
  auto prompt = ids(j["prompt_tokens"]);
  EXPECT_EQ(prompt,
            templated(dir, ojson::array({message("system", "Be brief."), message("user", "hi")})));
  ASSERT_GE(prompt.size(), 6u);
  EXPECT_EQ(std::vector<int>(prompt.begin(), prompt.begin() + 3),
            (std::vector<int>{151644, 8948, 198}));
  EXPECT_EQ(std::vector<int>(prompt.end() - 3, prompt.end()),
            (std::vector<int>{151644, 77091, 198}));
  expect_text_is_decoded_tokens(dir, j);

  ojson raw =
      generate_json({"--model", dir.string(), "-p", "hi", "--ignore-chat-template", "-m", "3"});
  EXPECT_EQ(ids(raw["prompt_tokens"]), encoded(dir, "hi"));
  // Without a template the system prompt is a line before the prompt.
  raw = generate_json({"--model", dir.string(), "-p", "hi", "--system-prompt", "Be brief.",
                       "--ignore-chat-template", "-m", "3"});
  EXPECT_EQ(ids(raw["prompt_tokens"]), encoded(dir, "Be brief.\nhi"));

  // llama2's tokenizer has no template: the prompt is encoded with <s>.
  fs::path l2 = tiny_model("tiny-llama", "llama2");
  ojson plain = generate_json({"--model", l2.string(), "-p", "hi there", "-m", "4"});
  EXPECT_EQ(ids(plain["prompt_tokens"]), encoded(l2, "hi there"));
  EXPECT_EQ(ids(plain["prompt_tokens"]).at(0), 1);
  expect_length(plain, 4);
  expect_text_is_decoded_tokens(l2, plain);
}

TEST(GenerateCli, PromptFromStdin) {
  fs::path dir = tiny_model("tiny-llama", "llama3");
  std::string text = "line one\nline two\n";
  ojson j = generate_json({"--model", dir.string(), "--prompt", "-", "-m", "2"}, text);
  EXPECT_EQ(ids(j["prompt_tokens"]), templated(dir, ojson::array({message("user", text)})));
  ojson same = generate_json({"--model", dir.string(), "--prompt", text, "-m", "2"});
  EXPECT_EQ(j["prompt_tokens"], same["prompt_tokens"]);
  EXPECT_EQ(j["tokens"], same["tokens"]);
}

TEST(GenerateCli, SeedsReproduce) {
  fs::path dir = tiny_model("tiny-llama", "llama3");
  auto sample = [&](const char* seed) {
    return generate_json({"--model", dir.string(), "-p", "hi", "--temp", "0.8", "--seed", seed,
                          "-m", "8"})["tokens"];
  };
  ojson a = sample("1");
  EXPECT_EQ(a.size(), 8u);
  EXPECT_EQ(a, sample("1"));
  EXPECT_NE(a, sample("2"));  // near-uniform over 128k tokens: never the same 8
}

TEST(GenerateCli, GreedyTokensMatchLibraryArgmax) {
  fs::path dir = sharp_model();
  const int n = 12;
  std::string text = "The quick brown fox";
  ojson j = generate_json({"--model", dir.string(), "-p", text, "--ignore-chat-template", "--temp",
                           "0", "-m", std::to_string(n)});
  std::vector<int> prompt = encoded(dir, text);
  ASSERT_EQ(ids(j["prompt_tokens"]), prompt);

  // Full forward passes without a cache, argmax of the last row on the host.
  auto lm = lm::load(dir.string());  // the tokenizer with every EOS id of the folder
  const auto& tok = lm.tokenizer;
  std::vector<int> seq = prompt, want;
  for (int i = 0; i < n; ++i) {
    int T = int(seq.size()), V = lm.model->vocab_size();
    array logits = (*lm.model)(array(seq, {1, T}), nullptr);
    auto last = slice(logits, {0, T - 1, 0}, {1, T, V}).to_vector<float>();
    int next = int(std::max_element(last.begin(), last.end()) - last.begin());
    if (tok.is_eos(next)) break;
    want.push_back(next);
    seq.push_back(next);
  }
  EXPECT_EQ(ids(j["tokens"]), want);
  EXPECT_EQ(j["finish_reason"], int(want.size()) == n ? "length" : "stop");
  std::set<int> distinct(want.begin(), want.end());
  EXPECT_GE(distinct.size(), 3u) << "the model repeats itself: the comparison shows little";
  expect_text_is_decoded_tokens(dir, j);

  // Without --json, stdout is the text and a newline.
  Result r = run_uma({"generate", "--model", dir.string(), "-p", text, "--ignore-chat-template",
                      "-m", std::to_string(n)});
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<int32_t> t(want.begin(), want.end());
  EXPECT_EQ(r.out, tok.tokenizer->decode(t, true) + "\n");
}

}  // namespace
}  // namespace uma::cli
