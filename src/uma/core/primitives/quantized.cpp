// Names, equivalence, shapes and the gradient rules of the quantized family.
// Only x of quantized_matmul is differentiable so far (the weights are frozen
// codes, as in MLX's QuantizedLinear); its rules are quantized_matmul again.
#include "uma/core/primitives/quantized.h"

#include <string>

#include "uma/core/ops/quantized.h"

namespace uma {

const char* quantization_mode_name(QuantizationMode m) {
  switch (m) {
    case QuantizationMode::affine: return "affine";
    case QuantizationMode::mxfp4: return "mxfp4";
    case QuantizationMode::nvfp4: return "nvfp4";
    case QuantizationMode::mxfp8: return "mxfp8";
  }
  return "?";
}

UMA_QUANTIZED_PRIMITIVES(UMA_PRIMITIVE_NAME)
UMA_QUANTIZED_MULTI_PRIMITIVES(UMA_PRIMITIVE_NAME)

bool Quantize::is_equivalent(const Primitive& o) const {
  return same<Quantize>(
      o, [&](const Quantize& p) { return p.group_size_ == group_size_ && p.bits_ == bits_ && p.mode_ == mode_; });
}

bool Dequantize::is_equivalent(const Primitive& o) const {
  return same<Dequantize>(o, [&](const Dequantize& p) {
    return p.group_size_ == group_size_ && p.bits_ == bits_ && p.mode_ == mode_ && p.product_dtype_ == product_dtype_;
  });
}

bool QuantizedMatmul::is_equivalent(const Primitive& o) const {
  return same<QuantizedMatmul>(o, [&](const QuantizedMatmul& p) {
    return p.group_size_ == group_size_ && p.bits_ == bits_ && p.mode_ == mode_ && p.transpose_ == transpose_;
  });
}

std::vector<Shape> Quantize::output_shapes(const std::vector<array>& inputs) {
  Shape wq = inputs[0].shape(), sc = inputs[0].shape();
  wq.back() = wq.back() / 32 * bits_;
  sc.back() = sc.back() / group_size_;
  return {wq, sc, sc};
}

std::vector<Shape> Dequantize::output_shapes(const std::vector<array>& inputs) {
  Shape out = inputs[0].shape();
  out.back() = out.back() * 32 / bits_;
  return {out};
}

std::vector<Shape> QuantizedMatmul::output_shapes(const std::vector<array>& inputs) {
  Shape out = inputs[0].shape();
  const array& w = inputs[1];
  out.back() = transpose_ ? w.shape(-2) : w.shape(-1) * 32 / bits_;
  return {out};
}

namespace {
[[noreturn]] void no_weight_rule(const char* transform) {
  throw not_implemented(std::string("[QuantizedMatmul] has no ") + transform +
                        " rule for the quantized weights, scales or biases yet (only for x)");
}
}  // namespace

// d(x @ W^T) = dx @ W^T, and the cotangent of x is cotan @ W: the same
// quantized matrix used the other way round.
std::vector<array> QuantizedMatmul::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                        const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("vjp");
    out.push_back(quantized_matmul(cotangents[0], primals[1], primals[2], primals[3], !transpose_, group_size_, bits_,
                                   quantization_mode_name(mode_), stream()));
  }
  return out;
}

std::vector<array> QuantizedMatmul::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                        const std::vector<int>& argnums) {
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("jvp");
  }
  return {quantized_matmul(tangents[0], primals[1], primals[2], primals[3], transpose_, group_size_, bits_,
                           quantization_mode_name(mode_), stream())};
}

}  // namespace uma
