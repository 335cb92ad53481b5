// A Hugging Face folder's tokenizer written as GGUF metadata
// (tokenizer.ggml.*), as llama.cpp's converter writes it and as
// tokenizer_from_gguf (and llama.cpp) read it back to the same ids:
//  - byte-level BPE -> `gpt2`: tokens, token_type, merges, and `pre`, the
//    tokenizer.ggml.pre name whose regexes equal tokenizer.json's
//    pre-tokenizer (gguf_pre_name), so both readers split text the same way;
//  - BPE with byte fallback (SentencePiece converted) and Unigram -> `llama`:
//    tokens, scores (BPE: -rank of the merge that makes the token, so that
//    merging by score is merging by rank; Unigram: its log probabilities),
//    token_type (<0xNN> BYTE, the unk token UNKNOWN), add_space_prefix.
// Ids the embedding has beyond the tokenizer's become "[PAD<id>]" UNUSED
// tokens, as llama.cpp writes them. Special ids, add_bos/add_eos and the
// chat templates come from load_tokenizer (tokenizer_config.json,
// chat_template.jinja, ...).
#pragma once

#include <cstdint>
#include <filesystem>

namespace uma::io::gguf {
class Writer;
}

namespace uma::text::tokenizer {

// Throws std::invalid_argument naming the folder and what cannot be written
// (an unsupported tokenizer model or pre-tokenizer, more tokens than the
// model's n_vocab embedding rows).
void add_gguf_tokenizer(io::gguf::Writer& writer, const std::filesystem::path& dir, int64_t n_vocab);

}  // namespace uma::text::tokenizer
