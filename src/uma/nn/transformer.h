// MultiHeadAttention and the Transformer encoder/decoder as mlx.nn's, with
// MLX's member (checkpoint) names: query_proj/key_proj/value_proj/out_proj;
// layers.N.{attention | self_attention, cross_attention}, ln1..ln3,
// linear1, linear2; a final `ln` on the encoder and the decoder.
// Inputs are (B, L, dims). Masks are additive (or boolean: true = keep),
// broadcastable to (B, heads, L_q, L_k). Dropout layers are children, so
// train/eval reach them. Linear layers here start as MLX's (uniform in
// +-sqrt(1 / in)); nn::Linear's own constructor keeps zeros.
// Not here: MLX's `checkpoint` option and custom encoder/decoder modules.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "uma/nn/dropout.h"
#include "uma/nn/layers.h"

namespace uma::nn {

// Linear(in, out, bias) with MLX's initialization.
std::shared_ptr<Linear> mlx_linear(int in_features, int out_features, bool bias = true);

class MultiHeadAttention : public Module {
 public:
  // A dimension given as 0 takes MLX's default: query/key inputs `dims`,
  // value input the key input's, value_dims and value_output_dims `dims`.
  MultiHeadAttention(int dims, int num_heads, int query_input_dims = 0, int key_input_dims = 0,
                     int value_input_dims = 0, int value_dims = 0, int value_output_dims = 0, bool bias = false);
  array operator()(const array& queries, const array& keys, const array& values,
                   const std::optional<array>& mask = std::nullopt) const;

  // (n, n): 0 on and below the diagonal, the dtype's lowest value above.
  static array create_additive_causal_mask(int n, Dtype dtype = float32);

  std::shared_ptr<Linear> query_proj, key_proj, value_proj, out_proj;

 private:
  int num_heads_;
};

using ActivationFn = std::function<array(const array&)>;

class TransformerEncoderLayer : public Module {
 public:
  // mlp_dims 0: 4 * dims.
  TransformerEncoderLayer(int dims, int num_heads, int mlp_dims = 0, float dropout = 0.0f,
                          ActivationFn activation = relu, bool norm_first = true);
  array operator()(const array& x, const std::optional<array>& mask) const;

  std::shared_ptr<MultiHeadAttention> attention;
  std::shared_ptr<LayerNorm> ln1, ln2;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout1, dropout2;

 private:
  ActivationFn activation_;
  bool norm_first_;
};

class TransformerEncoder : public Module {
 public:
  TransformerEncoder(int num_layers, int dims, int num_heads, int mlp_dims = 0, float dropout = 0.0f,
                     ActivationFn activation = relu, bool norm_first = true);
  array operator()(const array& x, const std::optional<array>& mask) const;

  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers;
  std::shared_ptr<LayerNorm> ln;
};

class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int dims, int num_heads, int mlp_dims = 0, float dropout = 0.0f,
                          ActivationFn activation = relu, bool norm_first = true);
  array operator()(const array& x, const array& memory, const std::optional<array>& x_mask,
                   const std::optional<array>& memory_mask) const;

  std::shared_ptr<MultiHeadAttention> self_attention, cross_attention;
  std::shared_ptr<LayerNorm> ln1, ln2, ln3;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout1, dropout2, dropout3;

 private:
  ActivationFn activation_;
  bool norm_first_;
};

class TransformerDecoder : public Module {
 public:
  TransformerDecoder(int num_layers, int dims, int num_heads, int mlp_dims = 0, float dropout = 0.0f,
                     ActivationFn activation = relu, bool norm_first = true);
  array operator()(const array& x, const array& memory, const std::optional<array>& x_mask,
                   const std::optional<array>& memory_mask) const;

  std::vector<std::shared_ptr<TransformerDecoderLayer>> layers;
  std::shared_ptr<LayerNorm> ln;
};

// MLX's defaults: 512 dims, 8 heads, 6 + 6 layers.
class Transformer : public Module {
 public:
  explicit Transformer(int dims = 512, int num_heads = 8, int num_encoder_layers = 6, int num_decoder_layers = 6,
                       int mlp_dims = 0, float dropout = 0.0f, ActivationFn activation = relu, bool norm_first = true);
  array operator()(const array& src, const array& tgt, const std::optional<array>& src_mask,
                   const std::optional<array>& tgt_mask, const std::optional<array>& memory_mask) const;

  std::shared_ptr<TransformerEncoder> encoder;
  std::shared_ptr<TransformerDecoder> decoder;
};

}  // namespace uma::nn
