#include "uma/nn/transformer.h"

#include <cfloat>
#include <cmath>

#include "uma/core/fast.h"
#include "uma/core/utils.h"

namespace uma::nn {

std::shared_ptr<Linear> mlx_linear(int in_features, int out_features, bool bias) {
  auto l = std::make_shared<Linear>(in_features, out_features, bias);
  float scale = std::sqrt(1.0f / float(in_features));
  l->weight = random::uniform(-scale, scale, {out_features, in_features});
  if (bias) *l->bias_ = random::uniform(-scale, scale, {out_features});
  return l;
}

MultiHeadAttention::MultiHeadAttention(int dims, int num_heads, int query_input_dims, int key_input_dims,
                                       int value_input_dims, int value_dims, int value_output_dims, bool bias)
    : num_heads_(num_heads) {
  if (num_heads <= 0 || dims <= 0 || dims % num_heads != 0) {
    throw std::invalid_argument("[MultiHeadAttention] dims (" + std::to_string(dims) +
                                ") must be a positive multiple of num_heads (" + std::to_string(num_heads) + ")");
  }
  query_input_dims = query_input_dims ? query_input_dims : dims;
  key_input_dims = key_input_dims ? key_input_dims : dims;
  value_input_dims = value_input_dims ? value_input_dims : key_input_dims;
  value_dims = value_dims ? value_dims : dims;
  value_output_dims = value_output_dims ? value_output_dims : dims;
  if (value_dims % num_heads != 0) {
    throw std::invalid_argument("[MultiHeadAttention] value_dims (" + std::to_string(value_dims) +
                                ") must be a multiple of num_heads (" + std::to_string(num_heads) + ")");
  }
  query_proj = mlx_linear(query_input_dims, dims, bias);
  key_proj = mlx_linear(key_input_dims, dims, bias);
  value_proj = mlx_linear(value_input_dims, value_dims, bias);
  out_proj = mlx_linear(value_dims, value_output_dims, bias);
  register_module("query_proj", query_proj);
  register_module("key_proj", key_proj);
  register_module("value_proj", value_proj);
  register_module("out_proj", out_proj);
}

array MultiHeadAttention::operator()(const array& queries, const array& keys, const array& values,
                                     const std::optional<array>& mask) const {
  if (queries.ndim() != 3 || keys.ndim() != 3 || values.ndim() != 3 || keys.shape(1) != values.shape(1)) {
    throw std::invalid_argument("[MultiHeadAttention] expects queries (B, L, D), keys and values (B, S, D) "
                                "with one S, got " + shape_str(queries.shape()) + ", " + shape_str(keys.shape()) +
                                ", " + shape_str(values.shape()));
  }
  // (B, L, H * d) -> (B, H, L, d)
  auto heads = [&](const array& x) { return transpose(unflatten(x, -1, {num_heads_, -1}), {0, 2, 1, 3}); };
  array q = heads((*query_proj)(queries)), k = heads((*key_proj)(keys)), v = heads((*value_proj)(values));
  float scale = 1.0f / std::sqrt(float(q.shape(-1)));
  array o = fast::scaled_dot_product_attention(q, k, v, scale, "", mask);
  return (*out_proj)(flatten(transpose(o, {0, 2, 1, 3}), -2, -1));
}

array MultiHeadAttention::create_additive_causal_mask(int n, Dtype dtype) {
  double lowest = dtype == float64 ? -DBL_MAX : dtype == float16 ? -65504.0 : dtype == bfloat16 ? -3.3895313892515355e38
                                                                                               : -double(FLT_MAX);
  if (!is_floating_point(dtype)) {
    throw std::invalid_argument("[create_additive_causal_mask] needs a floating dtype");
  }
  array idx = arange(n);
  array above = less(reshape(idx, {n, 1}), reshape(idx, {1, n}));
  return multiply(astype(above, dtype), astype(array(lowest), dtype));
}

namespace {

template <typename... Ts>
void check_dims(const char* op, const array& x, int dims, const Ts&... more) {
  for (const array* a : {&x, &more...}) {
    if (a->ndim() != 3 || a->shape(-1) != dims) {
      throw std::invalid_argument(std::string("[") + op + "] expects (B, L, " + std::to_string(dims) + "), got " +
                                  shape_str(a->shape()));
    }
  }
}

template <typename Layer, typename... Args>
std::vector<std::shared_ptr<Layer>> make_layers(int n, const Args&... args) {
  std::vector<std::shared_ptr<Layer>> out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_shared<Layer>(args...));
  return out;
}

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(int dims, int num_heads, int mlp_dims, float dropout,
                                                 ActivationFn activation, bool norm_first)
    : activation_(std::move(activation)), norm_first_(norm_first) {
  mlp_dims = mlp_dims ? mlp_dims : 4 * dims;
  attention = std::make_shared<MultiHeadAttention>(dims, num_heads);
  ln1 = std::make_shared<LayerNorm>(dims);
  ln2 = std::make_shared<LayerNorm>(dims);
  linear1 = mlx_linear(dims, mlp_dims);
  linear2 = mlx_linear(mlp_dims, dims);
  dropout1 = std::make_shared<Dropout>(dropout);
  dropout2 = std::make_shared<Dropout>(dropout);
  register_module("attention", attention);
  register_module("ln1", ln1);
  register_module("ln2", ln2);
  register_module("linear1", linear1);
  register_module("linear2", linear2);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
}

array TransformerEncoderLayer::operator()(const array& x, const std::optional<array>& mask) const {
  check_dims("TransformerEncoderLayer", x, ln1->weight.shape(0));
  auto mlp = [&](const array& h) { return (*linear2)((*dropout2)(activation_((*linear1)(h)))); };
  if (norm_first_) {
    array y = (*ln1)(x);
    array h = add(x, (*dropout1)((*attention)(y, y, y, mask)));
    return add(h, mlp((*ln2)(h)));
  }
  array h = (*ln1)(add(x, (*dropout1)((*attention)(x, x, x, mask))));
  return (*ln2)(add(h, mlp(h)));
}

TransformerEncoder::TransformerEncoder(int num_layers, int dims, int num_heads, int mlp_dims, float dropout,
                                       ActivationFn activation, bool norm_first)
    : layers(make_layers<TransformerEncoderLayer>(num_layers, dims, num_heads, mlp_dims, dropout, activation,
                                                  norm_first)),
      ln(std::make_shared<LayerNorm>(dims)) {
  register_modules("layers", layers);
  register_module("ln", ln);
}

array TransformerEncoder::operator()(const array& x, const std::optional<array>& mask) const {
  array h = x;
  for (auto& l : layers) h = (*l)(h, mask);
  return (*ln)(h);
}

TransformerDecoderLayer::TransformerDecoderLayer(int dims, int num_heads, int mlp_dims, float dropout,
                                                 ActivationFn activation, bool norm_first)
    : activation_(std::move(activation)), norm_first_(norm_first) {
  mlp_dims = mlp_dims ? mlp_dims : 4 * dims;
  self_attention = std::make_shared<MultiHeadAttention>(dims, num_heads);
  cross_attention = std::make_shared<MultiHeadAttention>(dims, num_heads);
  ln1 = std::make_shared<LayerNorm>(dims);
  ln2 = std::make_shared<LayerNorm>(dims);
  ln3 = std::make_shared<LayerNorm>(dims);
  linear1 = mlx_linear(dims, mlp_dims);
  linear2 = mlx_linear(mlp_dims, dims);
  dropout1 = std::make_shared<Dropout>(dropout);
  dropout2 = std::make_shared<Dropout>(dropout);
  dropout3 = std::make_shared<Dropout>(dropout);
  register_module("self_attention", self_attention);
  register_module("cross_attention", cross_attention);
  register_module("ln1", ln1);
  register_module("ln2", ln2);
  register_module("ln3", ln3);
  register_module("linear1", linear1);
  register_module("linear2", linear2);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
  register_module("dropout3", dropout3);
}

array TransformerDecoderLayer::operator()(const array& x, const array& memory, const std::optional<array>& x_mask,
                                          const std::optional<array>& memory_mask) const {
  check_dims("TransformerDecoderLayer", x, ln1->weight.shape(0), memory);
  auto mlp = [&](const array& h) { return (*linear2)((*dropout3)(activation_((*linear1)(h)))); };
  if (norm_first_) {
    array y = (*ln1)(x);
    array h = add(x, (*dropout1)((*self_attention)(y, y, y, x_mask)));
    y = (*ln2)(h);
    h = add(h, (*dropout2)((*cross_attention)(y, memory, memory, memory_mask)));
    return add(h, mlp((*ln3)(h)));
  }
  array h = (*ln1)(add(x, (*dropout1)((*self_attention)(x, x, x, x_mask))));
  h = (*ln2)(add(h, (*dropout2)((*cross_attention)(h, memory, memory, memory_mask))));
  return (*ln3)(add(h, mlp(h)));
}

TransformerDecoder::TransformerDecoder(int num_layers, int dims, int num_heads, int mlp_dims, float dropout,
                                       ActivationFn activation, bool norm_first)
    : layers(make_layers<TransformerDecoderLayer>(num_layers, dims, num_heads, mlp_dims, dropout, activation,
                                                  norm_first)),
      ln(std::make_shared<LayerNorm>(dims)) {
  register_modules("layers", layers);
  register_module("ln", ln);
}

array TransformerDecoder::operator()(const array& x, const array& memory, const std::optional<array>& x_mask,
                                     const std::optional<array>& memory_mask) const {
  array h = x;
  for (auto& l : layers) h = (*l)(h, memory, x_mask, memory_mask);
  return (*ln)(h);
}

Transformer::Transformer(int dims, int num_heads, int num_encoder_layers, int num_decoder_layers, int mlp_dims,
                         float dropout, ActivationFn activation, bool norm_first)
    : encoder(std::make_shared<TransformerEncoder>(num_encoder_layers, dims, num_heads, mlp_dims, dropout, activation,
                                                   norm_first)),
      decoder(std::make_shared<TransformerDecoder>(num_decoder_layers, dims, num_heads, mlp_dims, dropout, activation,
                                                   norm_first)) {
  register_module("encoder", encoder);
  register_module("decoder", decoder);
}

array Transformer::operator()(const array& src, const array& tgt, const std::optional<array>& src_mask,
                              const std::optional<array>& tgt_mask, const std::optional<array>& memory_mask) const {
  return (*decoder)(tgt, (*encoder)(src, src_mask), tgt_mask, memory_mask);
}

}  // namespace uma::nn
