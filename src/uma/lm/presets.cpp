#include "uma/lm/presets.h"

#include <map>
#include <stdexcept>

namespace uma::lm {

using json = nlohmann::json;

namespace {

json llama3_rope(double factor, int orig) {
  return {{"rope_type", "llama3"}, {"factor", factor}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
          {"original_max_position_embeddings", orig}};
}

const std::map<std::string, json>& presets() {
  static const std::map<std::string, json> p = {
      {"llama-3.2-1b",
       {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", 2048},
        {"intermediate_size", 8192}, {"num_hidden_layers", 16}, {"num_attention_heads", 32},
        {"num_key_value_heads", 8}, {"head_dim", 64}, {"vocab_size", 128256}, {"rms_norm_eps", 1e-5},
        {"rope_theta", 500000.0}, {"rope_scaling", llama3_rope(32.0, 8192)}, {"max_position_embeddings", 131072},
        {"tie_word_embeddings", true}, {"hidden_act", "silu"}}},
      {"llama-3.1-8b",
       {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", 4096},
        {"intermediate_size", 14336}, {"num_hidden_layers", 32}, {"num_attention_heads", 32},
        {"num_key_value_heads", 8}, {"head_dim", 128}, {"vocab_size", 128256}, {"rms_norm_eps", 1e-5},
        {"rope_theta", 500000.0}, {"rope_scaling", llama3_rope(8.0, 8192)}, {"max_position_embeddings", 131072},
        {"tie_word_embeddings", false}, {"hidden_act", "silu"}}},
      {"qwen2.5-0.5b",
       {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"hidden_size", 896},
        {"intermediate_size", 4864}, {"num_hidden_layers", 24}, {"num_attention_heads", 14},
        {"num_key_value_heads", 2}, {"vocab_size", 151936}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
        {"max_position_embeddings", 32768}, {"tie_word_embeddings", true}, {"hidden_act", "silu"}}},
      {"qwen3-0.6b",
       {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 1024},
        {"intermediate_size", 3072}, {"num_hidden_layers", 28}, {"num_attention_heads", 16},
        {"num_key_value_heads", 8}, {"head_dim", 128}, {"vocab_size", 151936}, {"rms_norm_eps", 1e-6},
        {"rope_theta", 1000000.0}, {"max_position_embeddings", 40960}, {"tie_word_embeddings", true},
        {"hidden_act", "silu"}}},
      {"tiny-llama",
       {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", 64},
        {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
        {"num_key_value_heads", 2}, {"vocab_size", 0}, {"rms_norm_eps", 1e-5}, {"rope_theta", 500000.0},
        {"max_position_embeddings", 512}, {"tie_word_embeddings", true}, {"hidden_act", "silu"}}},
      {"tiny-qwen3",
       {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 64},
        {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
        {"num_key_value_heads", 2}, {"head_dim", 16}, {"vocab_size", 0}, {"rms_norm_eps", 1e-6},
        {"rope_theta", 1000000.0}, {"max_position_embeddings", 512}, {"tie_word_embeddings", true},
        {"hidden_act", "silu"}}},
      {"tiny-gemma2",
       {{"architectures", {"Gemma2ForCausalLM"}}, {"model_type", "gemma2"}, {"hidden_size", 64},
        {"intermediate_size", 128}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
        {"num_key_value_heads", 2}, {"head_dim", 16}, {"vocab_size", 0}, {"rms_norm_eps", 1e-6},
        {"rope_theta", 10000.0}, {"max_position_embeddings", 512}, {"tie_word_embeddings", true},
        {"hidden_activation", "gelu_pytorch_tanh"}, {"query_pre_attn_scalar", 16}, {"sliding_window", 16},
        {"final_logit_softcapping", 30.0}, {"attn_logit_softcapping", 50.0}}},
  };
  return p;
}

}  // namespace

json preset_config(const std::string& name) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string known;
    for (auto& [k, _] : presets()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument("[init] unknown preset '" + name + "' (known: " + known + ")");
  }
  return it->second;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  for (auto& [k, _] : presets()) out.push_back(k);
  return out;
}

}  // namespace uma::lm
