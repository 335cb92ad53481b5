// Token masks on real vocabularies (Llama 3's 128k byte-level BPE, Llama 2's
// SentencePiece with byte fallback): each token's bytes against the
// tokenizer's own encoding, and every mask against a brute-force reference
// (each token's bytes tried on a copy of the matcher's state) at many states
// of a realistic schema and of json_object.
#include <gtest/gtest.h>

#include "text/tokenizer/test_util.h"
#include "uma/text/grammar/json_schema.h"
#include "uma/text/grammar/token_mask.h"

namespace uma::text::grammar {
namespace {

using tokenizer::testing::npm_tokenizer;

const TokenVocab& vocab(const std::string& name) {
  static std::map<std::string, TokenVocab> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, token_vocab(npm_tokenizer(name))).first;
  return it->second;
}

std::vector<uint32_t> brute_force(GrammarMatcher& m, const TokenTrie& trie) {
  std::vector<uint32_t> bits((size_t(trie.vocab_size()) + 31) / 32, 0);
  const MatcherState start = m.state();
  for (int32_t id = 0; id < trie.vocab_size(); ++id) {
    const std::string& b = trie.bytes(id);
    bool ok = !b.empty() && m.accept(b);
    m.restore(start);
    bool eos = std::find(trie.eos_ids().begin(), trie.eos_ids().end(), id) != trie.eos_ids().end() && m.can_end();
    if (ok || eos) bits[size_t(id) >> 5] |= 1u << (id & 31);
  }
  return bits;
}

size_t popcount(const std::vector<uint32_t>& bits) {
  size_t n = 0;
  for (uint32_t w : bits) n += size_t(__builtin_popcount(w));
  return n;
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 40},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "format": "uuid"},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 3},
    "score": {"type": "number"},
    "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                "required": ["city", "zip"], "additionalProperties": false}
  },
  "required": ["name", "age", "tags", "score", "address"],
  "additionalProperties": false
})";
const char* kDocument =
    R"({"name": "Zoë \"Z\" 😀", "age": 42, "email": "123e4567-e89b-12d3-a456-426614174000", "tags": ["red", "blue"], "score": -1.5e3, "address": {"city": "Paris", "zip": "75001"}})";

// The mask at every prefix of `doc` (as the tokenizer splits it) equals the
// brute force; each next token of the document is allowed.
void check_masks(const std::string& tok_name, const std::string& gbnf, const std::string& doc, int32_t eos) {
  const auto& tok = npm_tokenizer(tok_name);
  auto trie = std::make_shared<TokenTrie>(vocab(tok_name), std::vector<int32_t>{eos});
  GrammarMatcher m(parse_gbnf(gbnf));
  TokenMasker masker(trie);
  std::vector<int32_t> ids = tok.encode(doc, false);
  std::string text;
  for (int32_t id : ids) text += trie->bytes(id);
  // SentencePiece adds a leading space the document does not have.
  if (text != doc && text.size() == doc.size() + 1 && text[0] == ' ') {
    // The first token loses its space: its characters as one token each.
    std::string first = trie->bytes(ids[0]).substr(1);
    ids.erase(ids.begin());
    for (size_t k = first.size(); k-- > 0;) {
      auto one = tok.token_to_id(first.substr(k, 1));
      ASSERT_TRUE(one) << first;
      ids.insert(ids.begin(), *one);
    }
  }
  size_t checked = 0;
  for (size_t i = 0; i <= ids.size(); ++i) {
    // Brute force is 128k accepts: a long document checks a spread of steps.
    if (ids.size() < 30 || i % 3 == 0 || i == ids.size()) {
      auto want = brute_force(m, *trie);
      const auto& got = masker.allowed(m);
      ASSERT_EQ(got, want) << "step " << i << ": " << popcount(got) << " allowed, brute force " << popcount(want);
      ++checked;
    }
    if (i == ids.size()) break;
    const auto& bits = masker.allowed(m);
    ASSERT_TRUE(bits[size_t(ids[i]) >> 5] >> (ids[i] & 31) & 1) << "token " << ids[i] << " '" << trie->bytes(ids[i]) << "'";
    ASSERT_TRUE(m.accept(trie->bytes(ids[i])));
  }
  EXPECT_TRUE(m.can_end());
  const auto& end = masker.allowed(m);
  EXPECT_TRUE(end[size_t(eos) >> 5] >> (eos & 31) & 1);
  EXPECT_GE(checked, std::min<size_t>(ids.size() + 1, 6));
}

TEST(TokenVocab, Llama3BytesSpellTheEncoding) {
  const auto& tok = npm_tokenizer("llama3");
  const auto& v = vocab("llama3");
  EXPECT_EQ(v.bytes.size(), size_t(tok.id_limit()));
  for (std::string text : {"Hello world", " {\"a\": [1, 2.5]}\n", "héllo wörld 😀 日本語", "\t\t  x"}) {
    std::string joined;
    for (int32_t id : tok.encode(text, false)) joined += v.bytes[size_t(id)];
    EXPECT_EQ(joined, text);
  }
  auto bos = tok.token_to_id("<|begin_of_text|>");
  ASSERT_TRUE(bos);
  EXPECT_TRUE(v.special[size_t(*bos)]);
  // A token that is part of a character keeps its raw bytes.
  auto ids = tok.encode("😀", false);
  ASSERT_GT(ids.size(), 0u);
  std::string joined;
  for (int32_t id : ids) joined += v.bytes[size_t(id)];
  EXPECT_EQ(joined, "\xF0\x9F\x98\x80");
}

TEST(TokenVocab, Llama2SentencePieceBytes) {
  const auto& tok = npm_tokenizer("llama2");
  const auto& v = vocab("llama2");
  // ▁ is a space, <0x0A> a newline byte, and the first token keeps its space.
  auto nl = tok.token_to_id("<0x0A>");
  ASSERT_TRUE(nl);
  EXPECT_EQ(v.bytes[size_t(*nl)], "\n");
  auto hello = tok.token_to_id("\xE2\x96\x81Hello");
  ASSERT_TRUE(hello);
  EXPECT_EQ(v.bytes[size_t(*hello)], " Hello");
  auto f0 = tok.token_to_id("<0xF0>");
  ASSERT_TRUE(f0);
  EXPECT_EQ(v.bytes[size_t(*f0)], "\xF0");
  EXPECT_TRUE(v.special[size_t(*tok.token_to_id("<s>"))]);
  for (std::string text : {"Hello world", "x {\"a\": [1, 2.5]}\nb", "héllo 😀 日本語"}) {
    std::string joined;
    for (int32_t id : tok.encode(text, false)) joined += v.bytes[size_t(id)];
    EXPECT_EQ(joined, " " + text);  // SentencePiece's dummy prefix
  }
}

TEST(TokenMask, Llama3SchemaMatchesBruteForce) {
  auto eos = npm_tokenizer("llama3").token_to_id("<|eot_id|>");
  ASSERT_TRUE(eos);
  check_masks("llama3", json_schema_to_grammar(nlohmann::ordered_json::parse(kSchema)), kDocument, *eos);
}

TEST(TokenMask, Llama2SchemaMatchesBruteForce) {
  auto eos = npm_tokenizer("llama2").token_to_id("</s>");
  ASSERT_TRUE(eos);
  check_masks("llama2", json_schema_to_grammar(nlohmann::ordered_json::parse(kSchema)), kDocument, *eos);
}

TEST(TokenMask, BoundedStringsNearTheirLimitMatchBruteForce) {
  // Whole subtrees are allowed along a chain of counter states: near the
  // limit the chain ends, and multi-byte characters count once.
  auto eos = npm_tokenizer("llama3").token_to_id("<|eot_id|>");
  for (const char* schema : {R"({"type": "string", "maxLength": 6})", R"({"type": "string", "minLength": 3, "maxLength": 9})",
                             R"({"type": "array", "items": {"type": "string", "maxLength": 2}})"}) {
    SCOPED_TRACE(schema);
    std::string gbnf = json_schema_to_grammar(nlohmann::ordered_json::parse(schema));
    check_masks("llama3", gbnf, std::string(schema).find("array") != std::string::npos ? R"(["é😀", "ab", "", "x"])"
                                                                                       : R"("aé 😀b")",
                *eos);
  }
}

TEST(TokenMask, Llama3JsonObjectMatchesBruteForce) {
  auto eos = npm_tokenizer("llama3").token_to_id("<|eot_id|>");
  check_masks("llama3", json_object_grammar(), R"({"a": [1, {"b": null}], "c": "x\ny"})", *eos);
}

TEST(TokenMask, SpecialTokensOnlyEosAndOnlyAtTheEnd) {
  const auto& tok = npm_tokenizer("llama3");
  int32_t eos = *tok.token_to_id("<|eot_id|>");
  auto trie = std::make_shared<TokenTrie>(vocab("llama3"), std::vector<int32_t>{eos});
  GrammarMatcher m(parse_gbnf("root ::= \"ok\""));
  TokenMasker masker(trie);
  auto allowed_ids = [&]() {
    std::vector<int32_t> ids;
    const auto& bits = masker.allowed(m);
    for (int32_t i = 0; i < trie->vocab_size(); ++i) {
      if (bits[size_t(i) >> 5] >> (i & 31) & 1) ids.push_back(i);
    }
    return ids;
  };
  auto first = allowed_ids();
  for (int32_t id : first) EXPECT_TRUE(std::string("ok").rfind(trie->bytes(id), 0) == 0) << trie->bytes(id);
  EXPECT_EQ(std::count(first.begin(), first.end(), eos), 0);
  ASSERT_TRUE(m.accept("ok"));
  EXPECT_EQ(allowed_ids(), std::vector<int32_t>{eos});  // done: only the end
  EXPECT_GT(masker.hits() + masker.misses(), 0u);
}

}  // namespace
}  // namespace uma::text::grammar
