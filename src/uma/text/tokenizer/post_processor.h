// Post-processors of Hugging Face `tokenizers` for single sequences:
// TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel (no change
// to ids) and Sequence. They add special tokens around the encoded ids when
// add_special_tokens is set.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace uma::text::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens of a single sequence around `ids`.
  virtual void process(std::vector<int32_t>& ids, bool add_special_tokens) const = 0;
};

using PostProcessorPtr = std::unique_ptr<PostProcessor>;

PostProcessorPtr make_post_processor(const nlohmann::json& config);

// Template "prefix $A suffix" with fixed special token ids (what transformers
// builds from add_bos_token / add_eos_token).
PostProcessorPtr make_template_post_processor(std::vector<int32_t> prefix,
                                              std::vector<int32_t> suffix);

}  // namespace uma::text::tokenizer
