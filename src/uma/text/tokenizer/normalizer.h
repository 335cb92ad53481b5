// Normalizers of Hugging Face `tokenizers`: NFC, NFD, NFKC, NFKD, Lowercase,
// Strip, StripAccents, Replace, Prepend, BertNormalizer, Nmt, ByteLevel and
// Sequence. They rewrite the text of one split (alignments are not tracked:
// uma encodes to ids, not offsets).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace uma::text::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `text` (valid UTF-8) in place.
  virtual void normalize(std::string& text) const = 0;
};

using NormalizerPtr = std::unique_ptr<Normalizer>;

// Builds a normalizer from its tokenizer.json object; null JSON gives null.
// Throws std::invalid_argument naming an unknown or unsupported type.
NormalizerPtr make_normalizer(const nlohmann::json& config);

// Direct constructors (used by the GGUF loader and tests).
enum class UnicodeForm { NFC, NFD, NFKC, NFKD };
NormalizerPtr make_unicode_normalizer(UnicodeForm form);
NormalizerPtr make_prepend_normalizer(std::string prepend);
// Replaces every occurrence of `literal` (not a regex) by `content`.
NormalizerPtr make_replace_normalizer(const std::string& literal, std::string content);
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> normalizers);

}  // namespace uma::text::tokenizer
