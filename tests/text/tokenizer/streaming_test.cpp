// StreamingDetokenizer invariants: every chunk is valid UTF-8 and the chunks
// concatenate to decode(all ids), on the golden corpus (emoji, CJK, byte
// fallback, SentencePiece leading spaces) for every tokenizer.
#include <gtest/gtest.h>

#include "test_util.h"
#include "uma/core/io/gguf.h"
#include "uma/text/tokenizer/gguf_tokenizer.h"
#include "uma/text/tokenizer/streaming.h"
#include "uma/text/tokenizer/unicode.h"

namespace uma::text::tokenizer {
namespace {

// Streams ids and checks the invariants; returns the chunks.
std::vector<std::string> stream_all(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  StreamingDetokenizer s(tok, skip);
  std::vector<std::string> chunks;
  std::string all;
  for (int32_t id : ids) {
    std::string c = s.add(id);
    EXPECT_TRUE(unicode::is_valid_utf8(c));
    all += c;
    EXPECT_EQ(all, s.text());
    chunks.push_back(c);
  }
  std::string tail = s.finish();
  EXPECT_TRUE(unicode::is_valid_utf8(tail));
  chunks.push_back(tail);
  all += tail;
  EXPECT_EQ(all, tok.decode(ids, skip));
  return chunks;
}

class StreamingGoldens : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamingGoldens, ConcatenationEqualsDecode) {
  const Tokenizer& tok = testing::npm_tokenizer(GetParam());
  auto corpus = testing::read_json(testing::shared_fixtures() / "tokenizer_corpus.json");
  ASSERT_GT(corpus.size(), 300u);
  for (const auto& t : corpus) {
    std::string text = t.get<std::string>();
    auto ids = tok.encode(text, true);
    SCOPED_TRACE(text);
    stream_all(tok, ids, false);
    stream_all(tok, ids, true);
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, StreamingGoldens, ::testing::Values("llama3", "qwen3", "llama2"));

TEST(Streaming, HoldsBackSplitCharacters) {
  // Llama-2 spells an emoji with four byte-fallback tokens: nothing may come
  // out until the last one.
  const Tokenizer& tok = testing::npm_tokenizer("llama2");
  auto ids = tok.encode("a \U0001F99C", false);
  auto chunks = stream_all(tok, ids, false);
  // "▁a", "▁", then four byte tokens.
  ASSERT_EQ(chunks.size(), 7u);
  EXPECT_EQ(chunks[0], "a");
  EXPECT_EQ(chunks[1], " ");
  EXPECT_EQ(chunks[2], "");
  EXPECT_EQ(chunks[3], "");
  EXPECT_EQ(chunks[4], "");
  EXPECT_EQ(chunks[5], "\U0001F99C");
  EXPECT_EQ(chunks[6], "");
}

TEST(Streaming, ByteLevelSplitCharacter) {
  const Tokenizer& tok = testing::npm_tokenizer("llama3");
  // Force a character split over two byte-level tokens: "é" as bytes C3 A9.
  auto c3 = tok.token_to_id("\u00c3");
  auto a9 = tok.token_to_id("\u00a9");
  ASSERT_TRUE(c3 && a9);
  auto chunks = stream_all(tok, {*c3, *a9, *c3}, false);
  EXPECT_EQ(chunks[0], "");
  EXPECT_EQ(chunks[1], "\u00e9");
  EXPECT_EQ(chunks[2], "");
  EXPECT_EQ(chunks[3], "\ufffd");  // the dangling byte is flushed by finish()
}

TEST(Streaming, SentencePieceLeadingSpace) {
  const Tokenizer& tok = testing::npm_tokenizer("llama2");
  auto ids = tok.encode("Hello world, again", false);
  auto chunks = stream_all(tok, ids, false);
  EXPECT_EQ(chunks[0], "Hello");
  EXPECT_EQ(chunks[1], " world");
}

TEST(Streaming, GgufTokenizers) {
  for (const char* name : {"tiny-llama-q8_0.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
    SCOPED_TRACE(name);
    auto f = io::gguf::File::open(testing::shared_fixtures() / "gguf" / name);
    Tokenizer tok = tokenizer_from_gguf(f);
    for (std::string text : {"Hello world! \u00e9\u00e8 \u4e2d\u6587 \U0001F600\U0001F680 x", "  two  spaces\n\nnew"}) {
      stream_all(tok, tok.encode(text, true), false);
    }
  }
}

}  // namespace
}  // namespace uma::text::tokenizer
