#include "uma/nn/layers.h"

#include <cmath>

#include "uma/core/fast.h"

namespace uma::nn {

Linear::Linear(int in_features, int out_features, bool bias, Dtype dtype)
    : weight(zeros({out_features, in_features}, dtype)), in_(in_features), out_(out_features) {
  register_parameter("weight", weight);
  if (bias) {
    bias_ = zeros({out_features}, dtype);
    register_parameter("bias", *bias_);
  }
}

array Linear::operator()(const array& x) const {
  if (x.shape(-1) != in_) {
    throw std::invalid_argument("[Linear] input has " + std::to_string(x.shape(-1)) + " features, the layer expects " +
                                std::to_string(in_));
  }
  array y = matmul(x, transpose(weight));
  if (bias_) y = add(y, *bias_);
  return y;
}

Embedding::Embedding(int num_embeddings, int dims, Dtype dtype) : weight(zeros({num_embeddings, dims}, dtype)) {
  register_parameter("weight", weight);
}

array Embedding::operator()(const array& ids) const { return take(weight, ids, 0); }

array Embedding::as_linear(const array& x) const { return matmul(x, transpose(weight)); }

RMSNorm::RMSNorm(int dims, float eps, float offset, Dtype dtype)
    : weight(ones({dims}, dtype)), eps_(eps), offset_(offset) {
  register_parameter("weight", weight);
}

array RMSNorm::operator()(const array& x) const {
  if (offset_ != 0.0f) {
    // Gemma: x * (1 + w), with 1 + w formed in float32 as transformers does.
    array w = astype(add(astype(weight, float32), array(offset_)), float32);
    array y = fast::rms_norm(astype(x, float32), w, eps_);
    return astype(y, x.dtype());
  }
  return fast::rms_norm(x, astype(weight, x.dtype()), eps_);
}

LayerNorm::LayerNorm(int dims, float eps, bool affine, bool bias, Dtype dtype)
    : eps_(eps), affine_(affine), has_bias_(affine && bias) {
  if (affine_) {
    weight = ones({dims}, dtype);
    register_parameter("weight", weight);
  }
  if (has_bias_) {
    this->bias = zeros({dims}, dtype);
    register_parameter("bias", this->bias);
  }
}

array LayerNorm::operator()(const array& x) const {
  std::optional<array> w, b;
  if (affine_) w = weight;
  if (has_bias_) b = bias;
  return fast::layer_norm(x, w, b, eps_);
}

}  // namespace uma::nn
