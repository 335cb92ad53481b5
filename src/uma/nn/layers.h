// Layers for inference (and, later, training): Linear, Embedding, norms,
// rotary embeddings and activations. Member names equal checkpoint names.
#pragma once

#include <optional>
#include <string>

#include "uma/core/ops.h"
#include "uma/nn/activations.h"  // the activations moved there; included for callers
#include "uma/nn/module.h"

namespace uma::nn {

// y = x W^T + b, W: (out, in). Quantized and LoRA layers derive from it, so
// models hold std::shared_ptr<Linear> and loading can swap the kind.
class Linear : public Module {
 public:
  Linear(int in_features, int out_features, bool bias = true, Dtype dtype = float32);
  virtual array operator()(const array& x) const;
  int in_features() const { return in_; }
  int out_features() const { return out_; }
  bool has_bias() const { return bias_.has_value(); }

  array weight{0.0f};
  std::optional<array> bias_;

 protected:
  Linear() = default;  // for subclasses that register their own parameters
  int in_ = 0, out_ = 0;
};

class Embedding : public Module {
 public:
  Embedding(int num_embeddings, int dims, Dtype dtype = float32);
  virtual array operator()(const array& ids) const;
  // x @ weight^T: the tied output head.
  virtual array as_linear(const array& x) const;

  array weight{0.0f};
};

class RMSNorm : public Module {
 public:
  // offset = 1 for Gemma, whose checkpoints store w - 1.
  RMSNorm(int dims, float eps = 1e-5f, float offset = 0.0f, Dtype dtype = float32);
  array operator()(const array& x) const;

  array weight{0.0f};

 private:
  float eps_, offset_;
};

class LayerNorm : public Module {
 public:
  LayerNorm(int dims, float eps = 1e-5f, bool affine = true, bool bias = true, Dtype dtype = float32);
  array operator()(const array& x) const;

  array weight{0.0f}, bias{0.0f};

 private:
  float eps_;
  bool affine_, has_bias_;
};

}  // namespace uma::nn
