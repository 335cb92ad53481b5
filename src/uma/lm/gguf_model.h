// GGUF files as models: the checkpoint llama.cpp, Ollama or LM Studio
// downloaded, read as the Hugging Face folder it was converted from.
// general.architecture picks the model (llama, qwen2, qwen3, phi3, gemma2,
// gemma3; Mistral's files say llama), the {arch}.* metadata becomes the
// config.json fields the model reads, and llama.cpp's tensor names
// (blk.N.attn_q.weight, ...) become the Hugging Face ones, undoing what
// llama.cpp's converter changed: the rotary row permutation of Q and K
// (llama), the +1 folded into Gemma's norm weights, llama3 rope scaling
// stored as the rope_freqs tensor.
//
// Types: F32, F16 and BF16 are used as stored (cast to the load dtype);
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K matrices stay the file's
// blocks (a view of the mapping with --mmap when the rows stay in order),
// which gguf_matmul reads as stored, except that without mmap Q4_0 and Q8_0
// linear layers (rows a multiple of 8) get their rows interleaved in eights
// at load (kGgufQ4_0x8, kGgufQ8_0x8, core/ops/quantized.h: the same bytes,
// read about twice as fast by the CPU kernels); on the GPU the 32-value types become MLX
// affine layers with groups of 32 instead (exact: the same values), which
// CUDA's quantized kernels run. Q2_K, Q3_K, IQ4_NL and IQ4_XS are dequantized
// into the load dtype. Any other type is an error naming the tensor and type.
//
// The load dtype is LoadOptions::dtype, else bfloat16 when the file's float
// matrices are BF16, float32 for Gemma (its activations overflow float16),
// else float16 (GGUF scales are float16, so quantized layers stay exact).
//
// Split files (NAME-00001-of-0000N.gguf, as llama.cpp's gguf-split writes
// them) load from any part's path; metadata comes from the first part.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/lm/model.h"

namespace uma::io::gguf {
class File;
}

namespace uma::lm {

// A regular file that starts with GGUF's magic.
bool is_gguf_file(const std::string& path);

struct GgufCheckpoint {
  json config;                             // as config.json would be, with `quantization` when a layer is packed
  std::map<std::string, array> weights;    // Hugging Face names; packed layers as weight/scales/biases
  std::vector<std::string> paths;          // the parts, in order
  size_t file_bytes = 0;                   // all parts together
  std::map<std::string, std::string> types;  // Hugging Face tensor name -> ggml type name, as stored
  std::shared_ptr<const io::gguf::File> first;  // the first part (tokenizer, template)
};

// llama.cpp's and Hugging Face's names of a per-layer tensor part
// (blk.N.<gguf part> <-> model.layers.N.<hf part>) for a general.architecture:
// "attn_q" <-> "self_attn.q_proj", Gemma's "ffn_norm" <->
// "pre_feedforward_layernorm", Phi-3's "ffn_up" <-> "mlp.gate_up_proj", ...;
// "" when there is none. The GGUF writer (lm/convert_gguf.cpp) uses the inverse.
std::string hf_layer_part(const std::string& gguf_part, const std::string& arch);
std::string gguf_layer_part(const std::string& hf_part, const std::string& arch);

// llama.cpp's converter interleaves the rows of Q and K (llama) for its rope:
// result[r] is the stored row that holds Hugging Face's row r (of `rows` in
// `heads` heads). Throws naming `name` and `path` when the rows do not split.
std::vector<int64_t> gguf_qk_rows(int64_t rows, int64_t heads, const std::string& name, const std::string& path);

// The name llama.cpp gives general.file_type `t` ("Q4_K_M" for 15), or ""
// for an id it does not name.
const char* gguf_file_type_name(uint64_t t);
// The general.file_type of the GGUF file at `path` (of its first part, for
// split files) as that name (llama-bench's model column), or "" when the
// key is missing, not an integer or unnamed.
std::string gguf_file_type(const std::string& path);

// Throws std::invalid_argument naming the file and the problem: an
// unsupported architecture or tensor type, missing metadata, a tensor
// llama.cpp's naming does not explain, or split parts that are missing.
GgufCheckpoint read_gguf_checkpoint(const std::string& path, std::optional<Dtype> dtype, bool mmap);

}  // namespace uma::lm
