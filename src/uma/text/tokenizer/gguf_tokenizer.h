// Tokenizers embedded in GGUF metadata (tokenizer.ggml.*), built to give the
// ids Hugging Face gives for the original model:
//  - `gpt2`: byte-level BPE from tokens + merges, pre-tokenizer regexes chosen
//    by tokenizer.ggml.pre as llama.cpp does (gpt-2, llama-bpe, qwen2, ...);
//  - `llama`: SentencePiece by scores with <0xNN> byte fallback and
//    add_space_prefix.
// CONTROL / UNKNOWN tokens become special added tokens, USER_DEFINED tokens
// plain added tokens; add_bos_token / add_eos_token set the post-processor.
#pragma once

#include <optional>
#include <string>

#include "uma/text/tokenizer/tokenizer.h"

namespace uma::io::gguf {
class File;
}

namespace uma::text::tokenizer {

struct GgufTokenizerInfo {
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre
  std::optional<int32_t> bos_id, eos_id, eot_id, eom_id, unk_id, pad_id;
  bool add_bos = false, add_eos = false;
};

// Throws std::invalid_argument for a missing vocabulary or an unsupported
// tokenizer model / pre-tokenizer type (naming it).
Tokenizer tokenizer_from_gguf(const io::gguf::File& file, GgufTokenizerInfo* info = nullptr);

// The tokenizer.ggml.pre name that reads back as this pre-tokenizer: the
// regexes split in sequence before byte-level mapping (or GPT-2's own
// byte-level regex), with BPE's ignore_merges and an NFC normalizer or not.
// nullopt when no name of the table above gives exactly that, so that a
// writer never picks a name llama.cpp or uma would read differently.
std::optional<std::string> gguf_pre_name(const std::vector<std::string>& regexes, bool ignore_merges, bool nfc);
// GPT-2's byte-level regex (a ByteLevel pre-tokenizer with use_regex).
const std::string& gpt2_byte_level_regex();
// Llama 3's split regex (tokenizer.ggml.pre `llama3`), also what
// train_byte_level_bpe splits with by default.
const std::string& llama3_split_regex();

}  // namespace uma::text::tokenizer
