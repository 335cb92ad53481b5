// Grammar-constrained generation through stream_generate: a model whose
// logits are random (so every allowed token gets its chance) on Llama 3's
// 128k vocabulary and on Llama 2's SentencePiece one, sampled at temperature
// 1 with several seeds, must give text that parses and satisfies the schema
// (checked by hand-written rules); the processor's -inf entries are exactly
// the tokens the matcher refuses; EOS only when the grammar can end; a
// complete grammar stops the generation.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "text/tokenizer/test_util.h"
#include "uma/lm/stream.h"
#include "uma/text/grammar/json_schema.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

using ojson = nlohmann::ordered_json;

// Logits drawn at random on every call (seeded), optionally with one token
// favoured, so that sampling walks everywhere the grammar allows.
class RandomModel : public Model {
 public:
  RandomModel(int vocab, uint32_t seed, int favoured = -1) : vocab_(vocab), rng_(seed), favoured_(favoured) {}
  array operator()(const array& inputs, CacheList* cache) override {
    array row = reshape(last_logits(inputs, cache), {1, 1, vocab_});
    return broadcast_to(row, {1, inputs.shape(1), vocab_});
  }
  array last_logits(const array&, CacheList*) override {
    std::normal_distribution<float> n(0.0f, 2.0f);
    std::vector<float> row(static_cast<size_t>(vocab_));
    for (auto& x : row) x = n(rng_);
    if (favoured_ >= 0) row[size_t(favoured_)] += 30.0f;
    return array(row.data(), {1, vocab_});
  }
  int num_layers() const override { return 0; }
  int vocab_size() const override { return vocab_; }

 private:
  int vocab_;
  std::mt19937 rng_;
  int favoured_;
};

const text::tokenizer::LoadedTokenizer& npm_loaded(const std::string& name) {
  static std::map<std::string, text::tokenizer::LoadedTokenizer> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    it = cache.emplace(name, text::tokenizer::load_tokenizer(text::tokenizer::testing::npm_model_dir(name))).first;
  }
  return it->second;
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "count": {"type": "integer", "minimum": 1, "maximum": 20},
    "kind": {"enum": ["cat", "dog", "bird"]},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
    "ok": {"type": ["boolean", "null"]}
  },
  "required": ["name", "count", "kind", "tags", "ok"],
  "additionalProperties": false
})";

// The schema's rules, written out by hand.
void expect_satisfies(const ojson& v) {
  ASSERT_TRUE(v.is_object()) << v.dump();
  EXPECT_EQ(v.size(), 5u) << v.dump();
  auto chars = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  ASSERT_TRUE(v["name"].is_string());
  EXPECT_GE(chars(v["name"].get<std::string>()), 1u);
  EXPECT_LE(chars(v["name"].get<std::string>()), 12u);
  ASSERT_TRUE(v["count"].is_number_integer());
  EXPECT_GE(v["count"].get<int>(), 1);
  EXPECT_LE(v["count"].get<int>(), 20);
  EXPECT_TRUE(v["kind"] == "cat" || v["kind"] == "dog" || v["kind"] == "bird") << v["kind"];
  ASSERT_TRUE(v["tags"].is_array());
  EXPECT_LE(v["tags"].size(), 3u);
  for (auto& t : v["tags"]) EXPECT_TRUE(t.is_string() && chars(t.get<std::string>()) <= 5) << t;
  EXPECT_TRUE(v["ok"].is_boolean() || v["ok"].is_null());
}

TextResult generate_with(const std::string& tok_name, const std::string& gbnf, uint32_t seed, int max_tokens,
                         int favoured = -1) {
  const auto& tok = npm_loaded(tok_name);
  RandomModel model(int(tok.tokenizer->id_limit()) + 8, seed, favoured);  // logits past the vocabulary too
  TextOptions o;
  o.gen.max_tokens = max_tokens;
  o.gen.sampler.temp = 1.0f;
  o.gen.sampler.seed = seed;
  o.grammar = compile_grammar(gbnf);
  std::string streamed;
  TextResult r = stream_generate(model, tok, {1}, o, [&](const TextResponse& t) {
    streamed += t.text;
    return true;
  });
  EXPECT_EQ(streamed, r.text);
  return r;
}

// Generations under kSchema's grammar with random logits, one per seed, on
// `tokenizer`'s vocabulary: each stops by itself and satisfies the schema.
void expect_valid_json(const char* tokenizer, std::initializer_list<uint32_t> seeds) {
  std::string gbnf = text::grammar::json_schema_to_grammar(ojson::parse(kSchema));
  for (uint32_t seed : seeds) {
    SCOPED_TRACE(seed);
    TextResult r = generate_with(tokenizer, gbnf, seed, 400);
    EXPECT_EQ(r.finish_reason, "stop") << r.text;
    ojson v;
    ASSERT_NO_THROW(v = ojson::parse(r.text)) << r.text;
    expect_satisfies(v);
  }
}

TEST(GrammarGenerate, RandomLogitsGiveValidJsonOnLlama3) { expect_valid_json("llama3", {1u, 2u, 3u, 4u}); }

TEST(GrammarGenerate, RandomLogitsGiveValidJsonOnLlama2) { expect_valid_json("llama2", {5u, 6u, 7u}); }

TEST(GrammarGenerate, ACompleteGrammarStopsAndEosWaitsForIt) {
  // EOS is favoured by the model, yet it cannot come before the grammar is
  // complete; once it is, generation stops without it.
  const auto& tok = npm_loaded("llama3");
  ASSERT_FALSE(tok.eos_ids.empty());
  for (uint32_t seed : {1u, 2u, 3u}) {
    TextResult r = generate_with("llama3", R"(root ::= "yes" | "no" | "maybe")", seed, 50, tok.eos_ids[0]);
    EXPECT_TRUE(r.text == "yes" || r.text == "no" || r.text == "maybe") << r.text;
    EXPECT_EQ(r.finish_reason, "stop");
  }
  // A grammar that may go on ends at the favoured EOS as soon as it can.
  TextResult r = generate_with("llama3", R"(root ::= [a-z]+ ("." [a-z]+)*)", 9, 50, tok.eos_ids[0]);
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_FALSE(r.text.empty());
  for (char c : r.text) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '.') << r.text;
  EXPECT_LE(r.tokens.size(), 2u);  // one word token, then EOS
}

TEST(GrammarGenerate, ProcessorMasksExactlyWhatTheMatcherRefuses) {
  const auto& tok = npm_loaded("llama3");
  auto gbnf = text::grammar::json_schema_to_grammar(ojson::parse(kSchema));
  auto grammar = compile_grammar(gbnf);
  auto trie = grammar_vocabulary(tok, std::vector<int>(tok.eos_ids.begin(), tok.eos_ids.end()));
  EXPECT_EQ(trie, grammar_vocabulary(tok, std::vector<int>(tok.eos_ids.begin(), tok.eos_ids.end())));  // cached
  GrammarProcessor p(grammar, trie);
  const int V = trie->vocab_size() + 8;
  std::vector<int> history = {1, 2};  // the prompt
  const std::string prefix = R"({"name": "Ab", "count": 1)";
  std::vector<int32_t> ids = tok.tokenizer->encode(prefix, false);
  text::grammar::GrammarMatcher reference(grammar);
  for (size_t step = 0; step <= ids.size(); ++step) {
    array out = p(history, zeros({1, V}));
    eval(out);
    const float* x = out.data<float>();
    for (int id = 0; id < V; ++id) {
      bool allowed = false;
      if (id < trie->vocab_size() && !trie->bytes(id).empty()) {
        auto saved = reference.state();
        allowed = reference.accept(trie->bytes(id));
        reference.restore(saved);
      }
      ASSERT_EQ(std::isfinite(x[id]), allowed) << "step " << step << " token " << id;
    }
    if (step == ids.size()) break;
    history.push_back(ids[step]);
    ASSERT_TRUE(reference.accept(trie->bytes(ids[step])));
  }
  // A token the grammar refuses is an error, not silently accepted.
  history.push_back(*tok.tokenizer->token_to_id("}"));
  history.push_back(*tok.tokenizer->token_to_id("}"));
  EXPECT_THROW(p(history, zeros({1, V})), std::runtime_error);
}

}  // namespace
