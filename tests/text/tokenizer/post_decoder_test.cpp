// Post-processors and decoders (expected values from the Hugging Face
// `tokenizers` documentation and tests).
#include <gtest/gtest.h>

#include "uma/text/tokenizer/decoder.h"
#include "uma/text/tokenizer/post_processor.h"

namespace uma::text::tokenizer {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

Ids post(const json& config, Ids ids, bool add_special = true) {
  make_post_processor(config)->process(ids, add_special);
  return ids;
}

std::string dec(const json& config, std::vector<std::string> tokens) {
  make_decoder(config)->decode_chain(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

TEST(PostProcessor, Template) {
  json t = {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", "[CLS]"}, {"type_id", 0}}}},
                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                        {{"SpecialToken", {{"id", "[SEP]"}, {"type_id", 0}}}}}},
            {"pair", nullptr},
            {"special_tokens", {{"[CLS]", {{"id", "[CLS]"}, {"ids", {101}}, {"tokens", {"[CLS]"}}}},
                                {"[SEP]", {{"id", "[SEP]"}, {"ids", {102}}, {"tokens", {"[SEP]"}}}}}}};
  EXPECT_EQ(post(t, {7, 8}), (Ids{101, 7, 8, 102}));
  EXPECT_EQ(post(t, {7, 8}, false), (Ids{7, 8}));
  EXPECT_EQ(post(t, {}), (Ids{101, 102}));
  // The string form of templates, and special tokens with several ids.
  json s = {{"type", "TemplateProcessing"},
            {"single", "<s> $A </s>:1"},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}},
                                {"</s>", {{"id", "</s>"}, {"ids", {2, 3}}, {"tokens", {"</", "s>"}}}}}}};
  EXPECT_EQ(post(s, {9}), (Ids{1, 9, 2, 3}));
  json missing = s;
  missing["special_tokens"].erase("</s>");
  EXPECT_THROW(make_post_processor(missing), std::invalid_argument);
}

TEST(PostProcessor, BertRobertaByteLevelSequence) {
  json bert = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 102}}, {"cls", {"[CLS]", 101}}};
  EXPECT_EQ(post(bert, {5}), (Ids{101, 5, 102}));
  json roberta = {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}},
                  {"trim_offsets", true}, {"add_prefix_space", true}};
  EXPECT_EQ(post(roberta, {5, 6}), (Ids{0, 5, 6, 2}));
  EXPECT_EQ(post(roberta, {5, 6}, false), (Ids{5, 6}));
  json bl = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
  EXPECT_EQ(post(bl, {5}), Ids{5});
  json seq = {{"type", "Sequence"}, {"processors", {bl, bert}}};
  EXPECT_EQ(post(seq, {5}), (Ids{101, 5, 102}));
  EXPECT_THROW(make_post_processor({{"type", "Mystery"}}), std::invalid_argument);
}

TEST(Decoder, ByteLevel) {
  json bl = {{"type", "ByteLevel"}};
  EXPECT_EQ(dec(bl, {"Hello", "\u0120my", "\u0120fri", "end", ","}), "Hello my friend,");
  EXPECT_EQ(dec(bl, {"\u00c3\u00a9", "\u010a"}), "\u00e9\n");
  // A lone lead byte becomes U+FFFD; a token outside the alphabet passes raw.
  EXPECT_EQ(dec(bl, {"\u00e2", "a"}), "\ufffda");
  EXPECT_EQ(dec(bl, {"<|im_end|>", "\u0120x"}), "<|im_end|> x");
}

TEST(Decoder, MetaspaceAndReplaceStrip) {
  json m = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}, {"split", true}};
  EXPECT_EQ(dec(m, {"\u2581Hey", "\u2581friend!"}), "Hey friend!");
  m["prepend_scheme"] = "never";
  EXPECT_EQ(dec(m, {"\u2581Hey", "\u2581friend!"}), " Hey friend!");
  json llama = {{"type", "Sequence"},
                {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                              {{"type", "ByteFallback"}},
                              {{"type", "Fuse"}},
                              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  EXPECT_EQ(dec(llama, {"\u2581Hello", "\u2581", "<0xC3>", "<0xA9>", "!"}), "Hello \u00e9!");
  EXPECT_EQ(dec(llama, {"\u2581\u2581x"}), " x");  // strips one space only
}

TEST(Decoder, ByteFallback) {
  json bf = {{"type", "ByteFallback"}};
  EXPECT_EQ(dec(bf, {"<0x61>"}), "a");
  EXPECT_EQ(dec(bf, {"<0xE5>", "<0x8f>", "<0xab>", "a"}), "\u53eba");
  // An invalid run gives one U+FFFD per byte.
  EXPECT_EQ(dec(bf, {"<0xE5>", "<0x8f>", "a"}), "\ufffd\ufffda");
  EXPECT_EQ(dec(bf, {"<0x>", "<0xZZ>"}), "<0x><0xZZ>");
}

TEST(Decoder, WordPieceAndBpe) {
  json wp = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  EXPECT_EQ(dec(wp, {"##uelo", "Ara", "##\u00fa", "##j", "##o", "No", "##guera"}), "##uelo Ara\u00fajo Noguera");
  EXPECT_EQ(dec(wp, {"I", "do", "n't", "know", "."}), "I don't know.");
  EXPECT_EQ(dec({{"type", "BPEDecoder"}, {"suffix", "</w>"}}, {"My</w>", "na", "me</w>", "is</w>"}),
            "My name is");
  EXPECT_THROW(make_decoder({{"type", "CTCx"}}), std::invalid_argument);
}

}  // namespace
}  // namespace uma::text::tokenizer
