// The decoder-only transformer shared by the Llama family: Llama, Mistral,
// Qwen2, Qwen3, Phi-3 and Gemma 2/3 are this block with different options.
// Each architecture file turns its config.json into DecoderOptions and names
// its quirks in sanitize(); member names equal the checkpoint's names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "uma/lm/model.h"
#include "uma/lm/rope.h"
#include "uma/nn/layers.h"

namespace uma::lm {

struct DecoderOptions {
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  float norm_eps = 1e-5f;
  float norm_offset = 0.0f;       // Gemma stores norm weights as w - 1
  std::string hidden_act = "silu";
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;           // Qwen3, Gemma 3: RMSNorm over each head
  bool fused_qkv = false;         // Phi-3: qkv_proj
  bool fused_gate_up = false;     // Phi-3: gate_up_proj
  bool sandwich_norms = false;    // Gemma 2/3: norms after attention and around the MLP
  // Gemma 2 declares post_attention_layernorm after the MLP's norms. Only the
  // parameter order changes, which is the tensor order mlx-lm (and `uma
  // convert`) shards a checkpoint by.
  bool post_attention_norm_last = false;
  bool scale_embeddings = false;  // Gemma: h = embed * sqrt(hidden)
  bool tie_word_embeddings = false;
  float attn_scale = 0.0f;        // 0: 1/sqrt(head_dim)
  std::optional<float> attn_logit_softcap;
  std::optional<float> final_logit_softcap;
  // Per layer: sliding window (nullopt = full attention) and rope.
  std::vector<std::optional<int>> layer_window;
  std::vector<RopeSpec> layer_rope;
  int max_position_embeddings = 0;
};

class DecoderAttention : public nn::Module {
 public:
  DecoderAttention(const DecoderOptions& o, int layer);
  // x: (B, L, hidden). With a BatchKVCache (kv_cache_batch.h) each row
  // attends over its own cache with its own positions and mask (`mask`
  // unused); a packed batch is x (1, N, hidden), rows one after another.
  array operator()(const array& x, const AttentionMask& mask, KVCache* cache);

  std::shared_ptr<nn::Linear> q_proj, k_proj, v_proj, qkv_proj, o_proj;
  std::shared_ptr<nn::RMSNorm> q_norm, k_norm;

 private:
  const DecoderOptions& o_;
  RotaryEmbedding rope_;
  std::optional<int> window_;  // sliding window of this layer (rows of a BatchKVCache mask by it)
  float scale_;
};

class DecoderMlp : public nn::Module {
 public:
  explicit DecoderMlp(const DecoderOptions& o);
  array operator()(const array& x);

  std::shared_ptr<nn::Linear> gate_proj, up_proj, gate_up_proj, down_proj;

 private:
  const DecoderOptions& o_;
};

class DecoderLayer : public nn::Module {
 public:
  DecoderLayer(const DecoderOptions& o, int layer);
  array operator()(const array& x, const AttentionMask& mask, KVCache* cache);

  std::shared_ptr<DecoderAttention> self_attn;
  std::shared_ptr<DecoderMlp> mlp;
  std::shared_ptr<nn::RMSNorm> input_layernorm, post_attention_layernorm;
  std::shared_ptr<nn::RMSNorm> pre_feedforward_layernorm, post_feedforward_layernorm;

 private:
  const DecoderOptions& o_;
};

class DecoderBody : public nn::Module {
 public:
  explicit DecoderBody(const DecoderOptions& o);
  // Hidden states after the final norm: (B, T, hidden).
  array operator()(const array& inputs, CacheList* cache);

  std::shared_ptr<nn::Embedding> embed_tokens;
  std::vector<std::shared_ptr<DecoderLayer>> layers;
  std::shared_ptr<nn::RMSNorm> norm;

 private:
  const DecoderOptions& o_;
};

// A decoder with the Hugging Face layout: model.* and lm_head.
class DecoderModel : public Model {
 public:
  DecoderModel(DecoderOptions o, const json& config);
  array operator()(const array& inputs, CacheList* cache) override;
  array last_logits(const array& inputs, CacheList* cache) override;
  // The name of the first tensor on the forward pass of `inputs` (no cache)
  // that holds NaN or inf: "model.embed_tokens", "model.layers.<i>",
  // "model.norm" or "lm_head"; empty when all are finite. A debug tap for
  // errors: it evaluates after every layer.
  std::string first_nonfinite(const array& inputs);
  CacheList make_cache(std::optional<int> max_kv_size) const override;
  std::map<std::string, array> sanitize(std::map<std::string, array> weights) const override;
  int num_layers() const override { return o_.num_layers; }
  int vocab_size() const override { return o_.vocab_size; }
  int max_context() const override { return o_.max_position_embeddings; }
  int kv_heads() const override { return o_.num_kv_heads; }
  int kv_head_dim() const override { return o_.head_dim; }
  const DecoderOptions& options() const { return o_; }

  std::shared_ptr<DecoderBody> model;
  std::shared_ptr<nn::Linear> lm_head;

 private:
  array hidden(const array& inputs, CacheList* cache);  // checked, final-normed
  array head(const array& h);                            // lm_head (or tied) and soft-cap
  DecoderOptions o_;
};

// Reads the fields every Llama-family config has (sizes, eps, act, tie,
// rope), each type- and range-checked (config_reader.h): an error names
// config.json and the key (prefixed by `where`, e.g. "text_config.").
DecoderOptions decoder_options_from_config(const json& config, const std::string& where = "");
// sliding_window as a positive integer; nullopt when absent or null.
std::optional<int> sliding_window_from_config(const json& config, const std::string& where = "");

// Gemma 2 and 3 (gemma2.cpp): (1 + w) norms, sandwich norms, scaled
// embeddings, attention scale and final soft-capping from config.
void apply_gemma_common(DecoderOptions& o, const json& config, const std::string& where = "");
// Which of n layers attend within a sliding window: layer_types when given,
// else every layer but each `pattern`-th.
std::vector<bool> gemma_sliding_layers(const json& config, int n, int pattern);

}  // namespace uma::lm
