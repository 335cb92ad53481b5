// stream_generate must flush the streaming detokenizer when generation ends:
// the streamed text equals tokenizer.decode(generated ids) exactly, also when
// the last tokens are a partial UTF-8 character (byte fallback, byte-level
// BPE) that the detokenizer holds back until finish(). A scripted model makes
// the generated ids whatever the test needs.
#include <gtest/gtest.h>

#include "text/tokenizer/test_util.h"
#include "uma/lm/stream.h"
#include "uma/text/tokenizer/unicode.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

// Greedy decoding of this model yields script[0], script[1], ...: call n of
// last_logits is one-hot on script[n] (the last entry repeats).
class ScriptedModel : public Model {
 public:
  ScriptedModel(std::vector<int> script, int vocab) : script_(std::move(script)), vocab_(vocab) {}
  array operator()(const array& inputs, CacheList* cache) override {
    array row = reshape(last_logits(inputs, cache), {1, 1, vocab_});
    return broadcast_to(row, {1, inputs.shape(1), vocab_});
  }
  array last_logits(const array&, CacheList*) override {
    int t = script_.at(std::min(calls_++, script_.size() - 1));
    std::vector<float> row(size_t(vocab_), 0.f);
    row[size_t(t)] = 10.f;
    return array(row.data(), {1, vocab_});
  }
  int num_layers() const override { return 0; }
  int vocab_size() const override { return vocab_; }

 private:
  std::vector<int> script_;
  int vocab_;
  size_t calls_ = 0;
};

text::tokenizer::LoadedTokenizer npm_loaded(const std::string& name) {
  return text::tokenizer::load_tokenizer(text::tokenizer::testing::npm_model_dir(name));
}

// The ids of `text` cut after the first token that leaves a partial UTF-8
// character at the end (decode ends with U+FFFD), so the detokenizer must
// hold that token back until finish().
std::vector<int> ids_ending_mid_character(const text::tokenizer::Tokenizer& tok,
                                          const std::string& text) {
  auto ids = tok.encode(text, false);
  for (size_t k = 1; k <= ids.size(); ++k) {
    std::vector<int32_t> head(ids.begin(), ids.begin() + k);
    std::string d = tok.decode(head, true);
    if (d.size() >= 3 && d.compare(d.size() - 3, 3, kReplacement) == 0)
      return std::vector<int>(head.begin(), head.end());
  }
  ADD_FAILURE() << "no prefix of the ids of '" << text << "' ends inside a character";
  return {};
}

struct Streamed {
  TextResult result;
  std::string concatenated;
  std::vector<TextResponse> events;
};

Streamed run(const text::tokenizer::LoadedTokenizer& tok, std::vector<int> script, TextOptions opts,
             int stop_after_events = -1) {
  ScriptedModel model(std::move(script), int(tok.tokenizer->vocab_size()) + 8);
  Streamed s;
  s.result = stream_generate(model, tok, {1}, opts, [&](const TextResponse& r) {
    EXPECT_TRUE(text::tokenizer::unicode::is_valid_utf8(r.text)) << r.text;
    s.concatenated += r.text;
    s.events.push_back(r);
    return stop_after_events < 0 || int(s.events.size()) < stop_after_events;
  });
  EXPECT_EQ(s.concatenated, s.result.text);
  EXPECT_FALSE(s.events.empty());
  if (!s.events.empty()) {
    EXPECT_EQ(s.events.back().finish_reason, s.result.finish_reason);
  }
  return s;
}

std::string decode(const text::tokenizer::LoadedTokenizer& tok, const std::vector<int>& ids) {
  return tok.tokenizer->decode(std::vector<int32_t>(ids.begin(), ids.end()), true);
}

class StreamFlush : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(StreamFlush, EndByMaxTokensFlushesThePartialCharacter) {
  auto tok = npm_loaded(GetParam());
  auto ids = ids_ending_mid_character(*tok.tokenizer, "Hi there \U0001F99C\U0001D11E!");
  ASSERT_FALSE(ids.empty());
  std::string want = decode(tok, ids);
  ASSERT_EQ(want.compare(0, 9, "Hi there "), 0) << want;
  TextOptions opts;
  opts.gen.max_tokens = int(ids.size());
  auto s = run(tok, ids, opts);
  EXPECT_EQ(s.result.tokens, ids);
  EXPECT_EQ(s.result.finish_reason, "length");
  EXPECT_EQ(s.concatenated, want);
}

TEST_P(StreamFlush, EndByEosFlushesThePartialCharacter) {
  auto tok = npm_loaded(GetParam());
  ASSERT_FALSE(tok.eos_ids.empty());
  auto ids = ids_ending_mid_character(*tok.tokenizer, "ok \U0001F99C");
  ASSERT_FALSE(ids.empty());
  auto script = ids;
  script.push_back(tok.eos_ids[0]);
  TextOptions opts;
  opts.gen.max_tokens = 100;
  auto s = run(tok, script, opts);
  EXPECT_EQ(s.result.tokens, ids);  // EOS excluded
  EXPECT_EQ(s.result.finish_reason, "stop");
  EXPECT_EQ(s.concatenated, decode(tok, ids));
}

TEST_P(StreamFlush, EndByCallbackFlushesThePartialCharacter) {
  auto tok = npm_loaded(GetParam());
  auto ids = ids_ending_mid_character(*tok.tokenizer, "ok \U0001F99C");
  ASSERT_FALSE(ids.empty());
  TextOptions opts;
  opts.gen.max_tokens = 100;
  // The callback says stop at the event of the last scripted id.
  auto s = run(tok, ids, opts, int(ids.size()));
  EXPECT_EQ(s.result.tokens, ids);
  EXPECT_EQ(s.result.finish_reason, "stop");
  EXPECT_EQ(s.concatenated, decode(tok, ids));
}

TEST_P(StreamFlush, HeldBackStopPrefixAndPartialCharacterAreFlushed) {
  auto tok = npm_loaded(GetParam());
  auto ids = ids_ending_mid_character(*tok.tokenizer, "Hi there \U0001F99C");
  ASSERT_FALSE(ids.empty());
  std::string want = decode(tok, ids);
  // "re " could still become the stop string, so it waits; then generation
  // ends and both it and the partial character must come out.
  for (int end : {0, 1}) {
    SCOPED_TRACE(end ? "eos" : "max_tokens");
    TextOptions opts;
    opts.stop_strings = {"re \xF0\x9F\x98\x80"};
    auto script = ids;
    if (end) script.push_back(tok.eos_ids.at(0));
    opts.gen.max_tokens = end ? 100 : int(ids.size());
    auto s = run(tok, script, opts);
    EXPECT_EQ(s.result.finish_reason, end ? "stop" : "length");
    EXPECT_EQ(s.concatenated, want);
  }
}

TEST_P(StreamFlush, StopStringEndsTheTextBeforeIt) {
  auto tok = npm_loaded(GetParam());
  auto ids = tok.tokenizer->encode("Hi \U0001F99C there, and more text", false);
  std::vector<int> script(ids.begin(), ids.end());
  TextOptions opts;
  opts.stop_strings = {"there"};
  opts.gen.max_tokens = int(script.size());
  auto s = run(tok, script, opts);
  EXPECT_EQ(s.result.finish_reason, "stop");
  std::string full = decode(tok, script);
  ASSERT_NE(full.find("there"), std::string::npos);
  EXPECT_EQ(s.concatenated, full.substr(0, full.find("there")));
  EXPECT_EQ(s.concatenated, "Hi \U0001F99C ");
  // Generation stopped at the token that completed "there".
  EXPECT_LT(s.result.tokens.size(), script.size());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, StreamFlush, ::testing::Values("llama2", "llama3", "qwen3"));
