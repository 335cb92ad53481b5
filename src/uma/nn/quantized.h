// Quantized layers and model quantization, as mlx.nn's QuantizedLinear,
// QuantizedEmbedding and nn.quantize, with MLX checkpoints' parameter names:
// `weight` (packed uint32 codes), `scales`, `biases` (affine mode only) and,
// for Linear, `bias`.
//
//   nn::quantize(model, 64, 4);   // every Linear and Embedding child, in place
//   nn::quantize(model, 64, 4, "affine", [](const std::string& path, const nn::Module& m)
//                -> nn::QuantizePredicateResult {
//     if (path.ends_with("lm_head")) return nn::QuantizeSpec{64, 8};  // per-layer settings
//     return true;
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "uma/nn/layers.h"

namespace uma::nn {

// How one layer is quantized (core/ops/quantized.h has the modes): affine
// (bits 2-6 or 8, groups 32, 64, 128; scales and biases in the weight's
// dtype) or mxfp4 (groups of 32, 4 bits), nvfp4 (16, 4), mxfp8 (32, 8) with
// uint8 scales and no biases.
//
// Mode "gguf" holds a GGUF file's block-quantized matrix as the file stores
// it (gguf_type a ggml type id, core/ops/quantized.h gguf_matmul): weight is
// uint8 (out, bytes of a row's blocks), without scales or biases; group_size
// and bits are not used.
struct QuantizeSpec {
  int group_size = 64;
  int bits = 4;
  std::string mode = "affine";
  uint32_t gguf_type = 0;

  bool affine() const { return mode == "affine"; }
  bool gguf() const { return mode == "gguf"; }
};
// The mode's default settings (affine 64/4, as MLX), for absent fields.
QuantizeSpec default_spec(const std::string& mode);

// x @ W.T + b with W quantized. A Linear, so models holding
// std::shared_ptr<Linear> take it in place of a float layer.
class QuantizedLinear : public Linear {
 public:
  // Zero parameters of the packed shapes, for loading a checkpoint into:
  // weight (out, in * bits / 32) uint32, scales and biases (out, in / group_size)
  // of `dtype` (fp modes: uint8 scales, no biases), bias (out) of `dtype`.
  QuantizedLinear(int in_features, int out_features, bool bias = true, QuantizeSpec spec = {}, Dtype dtype = float32);
  // Quantizes a float layer's weight (lazily, as an op); the bias is shared.
  static std::shared_ptr<QuantizedLinear> from_linear(const Linear& linear, QuantizeSpec spec = {});

  array operator()(const array& x) const override;
  const QuantizeSpec& spec() const { return spec_; }
  // biases for the ops: the array in affine mode, none in the fp modes.
  std::optional<array> op_biases() const { return spec_.affine() ? std::optional<array>(biases) : std::nullopt; }
  // The float weight the layer holds packed (scales' dtype; fp modes
  // bfloat16; gguf the constructor's dtype), as an op.
  array dequantized_weight() const;
  // gguf mode: the float dtype of the weight as dequantized (the model's:
  // there are no scales to take it from).
  void set_float_dtype(Dtype d) { dtype_ = d; }

  array scales{0.0f}, biases{0.0f};

 private:
  QuantizedLinear(int in_features, int out_features, QuantizeSpec spec);
  void register_all();
  QuantizeSpec spec_;
  Dtype dtype_ = float32;  // gguf mode's float dtype
};

// Embedding rows stored quantized: a lookup dequantizes only the rows asked
// for; as_linear (tied output heads) is a quantized matmul.
class QuantizedEmbedding : public Embedding {
 public:
  QuantizedEmbedding(int num_embeddings, int dims, QuantizeSpec spec = {}, Dtype dtype = float32);
  static std::shared_ptr<QuantizedEmbedding> from_embedding(const Embedding& embedding, QuantizeSpec spec = {});

  // ids of any shape -> ids.shape + (dims), in the scales' dtype (fp
  // modes: bfloat16, as MLX's dequantize; gguf: the constructor's dtype).
  array operator()(const array& ids) const override;
  array as_linear(const array& x) const override;
  // The float table (as QuantizedLinear::dequantized_weight).
  array dequantized_weight() const;
  const QuantizeSpec& spec() const { return spec_; }
  std::optional<array> op_biases() const { return spec_.affine() ? std::optional<array>(biases) : std::nullopt; }
  int num_embeddings() const { return num_; }
  int dims() const { return dims_; }
  // gguf mode: the float dtype of looked-up rows (the model's activations').
  void set_float_dtype(Dtype d) { dtype_ = d; }

  array scales{0.0f}, biases{0.0f};

 private:
  QuantizeSpec spec_;
  int num_ = 0, dims_ = 0;
  Dtype dtype_;  // of looked-up rows in gguf mode (no scales to take it from)
};

// A class predicate's answer for one layer: false leaves it, true quantizes
// it with quantize()'s arguments, a QuantizeSpec with its own.
using QuantizePredicateResult = std::variant<bool, QuantizeSpec>;
// (path of the layer, "layers.0.mlp.up_proj"; the layer) -> answer.
using QuantizePredicate = std::function<QuantizePredicateResult(const std::string& path, const Module& m)>;

// Replaces, in place, every Linear and Embedding below `model` (not already
// quantized) that the predicate accepts (all of them without one) by its
// quantized version, as mlx.nn.quantize does. A predicate that accepts a leaf
// module that cannot be quantized is an error, as in MLX.
void quantize(Module& model, int group_size = 64, int bits = 4, const std::string& mode = "affine",
              const QuantizePredicate& class_predicate = {});

}  // namespace uma::nn
