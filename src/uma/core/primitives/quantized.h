// Primitives of the quantized family (MLX's layout; see core/ops/quantized.h):
// weights packed as an LSB-first bit stream of `bits`-bit codes in
// little-endian uint32 words, one scale (and for affine one bias) per run of
// `group_size` elements along the last axis: w = scale * q + bias (affine),
// w = scale * value(q) with uint8 scales (mxfp4, nvfp4, mxfp8).
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_QUANTIZED_PRIMITIVES(X) X(Dequantize) X(QuantizedMatmul) X(GatherQMM) X(GgufMatmul) X(GgufDequantize)
// Several outputs: listed apart (UMA_DECLARE_MULTI_PRIMITIVE).
#define UMA_QUANTIZED_MULTI_PRIMITIVES(X) X(Quantize)

// The quantization schemes MLX names (core/ops/quantized.h describes them).
enum class QuantizationMode : uint8_t { affine, mxfp4, nvfp4, mxfp8 };
const char* quantization_mode_name(QuantizationMode m);

// inputs: w (..., K) float -> outputs: wq (..., K * bits / 32) uint32,
// scales and biases (..., K / group_size) in w's dtype (affine), or wq and
// uint8 scales (fp modes; nvfp4 takes a float32 global scale as a 2nd input).
class Quantize : public Primitive {
 public:
  Quantize(Stream s, int group_size, int bits, QuantizationMode mode)
      : Primitive(s), group_size_(group_size), bits_(bits), mode_(mode) {}
  UMA_DECLARE_MULTI_PRIMITIVE()

 private:
  int group_size_, bits_;
  QuantizationMode mode_;
};

// inputs: wq (..., Kp) uint32, scales (..., G), biases (..., G) in the output
// dtype -> (..., G * group_size). As MLX's CPU path computes it: the product
// scale * q is rounded to the scales' dtype `product_dtype_`, then the bias is
// added and the sum rounded to the output dtype. fp modes: wq, uint8 scales
// (and nvfp4's float32 global scale) -> value(q) * scale in the output dtype
// (product_dtype_ is the output dtype).
class Dequantize : public UnaryPrimitive {
 public:
  Dequantize(Stream s, int group_size, int bits, QuantizationMode mode, Dtype product_dtype)
      : UnaryPrimitive(s), group_size_(group_size), bits_(bits), mode_(mode), product_dtype_(product_dtype) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int group_size_, bits_;
  QuantizationMode mode_;
  Dtype product_dtype_;
};

// inputs: x (..., M, K), wq, scales, biases (the last three all of x's dtype
// but wq; fp modes: x, wq, uint8 scales) -> x @ W.T (transpose, W stored
// (N, K)) or x @ W (W stored (K, N)). Batch dims of a 3-D+ wq are broadcast
// with x's by the op.
class QuantizedMatmul : public UnaryPrimitive {
 public:
  QuantizedMatmul(Stream s, int group_size, int bits, QuantizationMode mode, bool transpose)
      : UnaryPrimitive(s), group_size_(group_size), bits_(bits), mode_(mode), transpose_(transpose) {}
  UMA_DECLARE_PRIMITIVE()
  int group_size() const { return group_size_; }
  int bits() const { return bits_; }
  bool transpose() const { return transpose_; }

 private:
  int group_size_, bits_;
  QuantizationMode mode_;
  bool transpose_;
};

// quantized_matmul of gathered matrices (mixture of experts). inputs: x
// (..., M, K), wq (E..., ., .), scales[, biases] as QuantizedMatmul's, then
// lhs_indices and rhs_indices (integer, both of the output's batch shape I)
// -> (I..., M, N): out[i] = x[lhs[i]] @ W[rhs[i]] (.T), indices into the
// flattened batch dims of x and of wq. The sorted flags only say the caller
// sorted the indices (MLX's GPU kernels use that; equality compares them).
class GatherQMM : public UnaryPrimitive {
 public:
  GatherQMM(Stream s, int group_size, int bits, QuantizationMode mode, bool transpose,
            bool left_sorted = false, bool right_sorted = false)
      : UnaryPrimitive(s),
        group_size_(group_size),
        bits_(bits),
        mode_(mode),
        transpose_(transpose),
        left_sorted_(left_sorted),
        right_sorted_(right_sorted) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int group_size_, bits_;
  QuantizationMode mode_;
  bool transpose_, left_sorted_, right_sorted_;
};

// GGUF's block types (llama.cpp's ggml_type ids: Q4_K, Q5_K, Q6_K, ...),
// multiplied and decoded as the file stores them (core/ops/quantized.h,
// gguf_matmul). inputs: x (..., K) float, w (N, Kb) uint8, each row of w the
// blocks of one row of K values -> x @ W.T (..., N) in x's dtype.
class GgufMatmul : public UnaryPrimitive {
 public:
  GgufMatmul(Stream s, uint32_t type) : UnaryPrimitive(s), type_(type) {}
  UMA_DECLARE_PRIMITIVE()
  uint32_t type() const { return type_; }

 private:
  uint32_t type_;
};

// inputs: w (..., Kb) uint8 blocks of `type_` -> (..., K) values in the
// output dtype (float32, float16 or bfloat16), decoded in float32 and rounded
// once.
class GgufDequantize : public UnaryPrimitive {
 public:
  GgufDequantize(Stream s, uint32_t type, Dtype dtype) : UnaryPrimitive(s), type_(type), dtype_(dtype) {}
  UMA_DECLARE_PRIMITIVE()
  uint32_t type() const { return type_; }

 private:
  uint32_t type_;
  Dtype dtype_;
};

}  // namespace uma
