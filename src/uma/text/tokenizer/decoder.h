// Decoders of Hugging Face `tokenizers`: ByteLevel, Metaspace, ByteFallback,
// Fuse, Strip, Replace, WordPiece, BPEDecoder and Sequence. Each rewrites the
// list of token strings; the results are concatenated.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace uma::text::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

using DecoderPtr = std::unique_ptr<Decoder>;

DecoderPtr make_decoder(const nlohmann::json& config);

// Direct constructors (GGUF loader).
DecoderPtr make_byte_level_decoder();
// Replace "▁" by " ", join <0xNN> bytes, fuse, and strip one leading space
// when `strip_leading_space` (the SentencePiece / Llama decoder).
DecoderPtr make_sentencepiece_decoder(bool strip_leading_space);

}  // namespace uma::text::tokenizer
