// Names, equivalence, shapes and the gradient rules of the quantized family.
// Only x of quantized_matmul and gather_qmm is differentiable so far (the
// weights are frozen codes, as in MLX's QuantizedLinear); the rules are the
// same products again. dequantize is differentiable in its float inputs
// (affine scales and biases, nvfp4's global scale), never in the codes.
// quantize has no rule (missing_grad.cpp says why).
#include "uma/core/primitives/quantized.h"

#include <optional>
#include <string>

#include "uma/core/io/gguf.h"
#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/quantized.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/manipulation.h"  // detail::tangent_or_zeros

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

bool GatherQMM::is_equivalent(const Primitive& o) const {
  return same<GatherQMM>(o, [&](const GatherQMM& p) {
    return p.group_size_ == group_size_ && p.bits_ == bits_ && p.mode_ == mode_ &&
           p.transpose_ == transpose_ && p.left_sorted_ == left_sorted_ &&
           p.right_sorted_ == right_sorted_;
  });
}

bool GgufMatmul::is_equivalent(const Primitive& o) const {
  return same<GgufMatmul>(o, [&](const GgufMatmul& p) { return p.type_ == type_; });
}

bool GgufDequantize::is_equivalent(const Primitive& o) const {
  return same<GgufDequantize>(o, [&](const GgufDequantize& p) { return p.type_ == type_ && p.dtype_ == dtype_; });
}

std::vector<Shape> Quantize::output_shapes(const std::vector<array>& inputs) {
  Shape wq = inputs[0].shape(), sc = inputs[0].shape();
  wq.back() = int32_t(int64_t(wq.back()) * bits_ / 32);
  sc.back() = sc.back() / group_size_;
  if (mode_ != QuantizationMode::affine) return {wq, sc};
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

std::vector<Shape> GatherQMM::output_shapes(const std::vector<array>& inputs) {
  const array& x = inputs[0];
  const array& w = inputs[1];
  Shape out = inputs[inputs.size() - 2].shape();
  out.push_back(x.shape(-2));
  out.push_back(transpose_ ? w.shape(-2) : w.shape(-1) * 32 / bits_);
  return {out};
}

std::vector<Shape> GgufMatmul::output_shapes(const std::vector<array>& inputs) {
  Shape out = inputs[0].shape();
  out.back() = inputs[1].shape(0);
  return {out};
}

std::vector<Shape> GgufDequantize::output_shapes(const std::vector<array>& inputs) {
  const auto* t = gguf_traits(type_);
  Shape out = inputs[0].shape();
  out.back() = int32_t(int64_t(out.back()) / t->type_size * t->block_size);
  return {out};
}

namespace {
[[noreturn]] void no_weight_rule(const char* prim, const char* transform) {
  throw not_implemented(
      std::string("[") + prim + "] has no " + transform +
      " rule for the quantized weights, scales, biases or indices yet (only for x)");
}
// The biases input (after x, w, scales) of an affine node; none for the fp modes.
std::optional<array> biases_of(const std::vector<array>& primals, QuantizationMode mode) {
  return mode == QuantizationMode::affine ? std::optional<array>(primals[3]) : std::nullopt;
}
}  // namespace

// d(x @ W^T) = dx @ W^T, and the cotangent of x is cotan @ W: the same
// quantized matrix used the other way round.
std::vector<array> QuantizedMatmul::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                        const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("QuantizedMatmul", "vjp");
    out.push_back(quantized_matmul(cotangents[0], primals[1], primals[2], biases_of(primals, mode_),
                                   !transpose_, group_size_, bits_, quantization_mode_name(mode_),
                                   stream()));
  }
  return out;
}

std::vector<array> QuantizedMatmul::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                        const std::vector<int>& argnums) {
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("QuantizedMatmul", "jvp");
  }
  return {quantized_matmul(tangents[0], primals[1], primals[2], biases_of(primals, mode_),
                           transpose_, group_size_, bits_, quantization_mode_name(mode_),
                           stream())};
}

// out[i] = x[lhs[i]] @ W[rhs[i]]^T: the cotangent of x matrix j is the sum
// over the pairs i with lhs[i] = j of cotan[i] @ W[rhs[i]] (a gather_qmm the
// other way round, then a scatter-add over lhs).
std::vector<array> GatherQMM::vjp(const std::vector<array>& primals,
                                  const std::vector<array>& cotangents,
                                  const std::vector<int>& argnums, const std::vector<array>&) {
  const size_t n = primals.size();
  const array& x = primals[0];
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("GatherQMM", "vjp");
    array pairs = gather_qmm(cotangents[0], primals[1], primals[2], biases_of(primals, mode_),
                             std::nullopt, primals[n - 1], !transpose_, group_size_, bits_,
                             quantization_mode_name(mode_), false, stream());
    const int32_t M = x.shape(-2), K = x.shape(-1);
    const int32_t x_mats = int32_t(x.size() / (size_t(M) * K)),
                  n_pairs = int32_t(pairs.size() / (size_t(M) * K));
    array dx = scatter_add(zeros({x_mats, M, K}, pairs.dtype(), stream()),
                           reshape(primals[n - 2], {n_pairs}, stream()),
                           reshape(pairs, {n_pairs, 1, M, K}, stream()), 0, stream());
    out.push_back(reshape(dx, x.shape(), stream()));
  }
  return out;
}

std::vector<array> GatherQMM::jvp(const std::vector<array>& primals,
                                  const std::vector<array>& tangents,
                                  const std::vector<int>& argnums) {
  for (int arg : argnums) {
    if (arg != 0) no_weight_rule("GatherQMM", "jvp");
  }
  const size_t n = primals.size();
  return {gather_qmm(tangents[0], primals[1], primals[2], biases_of(primals, mode_), primals[n - 2],
                     primals[n - 1], transpose_, group_size_, bits_, quantization_mode_name(mode_),
                     false, stream())};
}

// ------------------------------------------------------------ Dequantize
// Affine: w = scale * q + bias per group, linear in (scales, biases) jointly,
// so the jvp is dequantize of the tangents; the vjp sums the cotangent over
// each group, weighted by the codes q for the scales. nvfp4: w is linear in
// the global scale. The codes and the uint8 scales are integers.

namespace {

[[noreturn]] void dequantize_not_differentiable(const char* what) {
  throw std::invalid_argument(std::string("[Dequantize] is not differentiable with respect to ") + what);
}

// a (..., G * group_size) as float32 (..., G, group_size).
array by_group(const array& a, int group_size, Stream s) {
  Shape shape = a.shape();
  shape.back() /= group_size;
  shape.push_back(group_size);
  return reshape(astype(a, float32, s), shape, s);
}

}  // namespace

std::vector<array> Dequantize::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                   const std::vector<int>& argnums, const std::vector<array>&) {
  Stream s = stream();
  const array& wq = primals[0];
  const array& scales = primals[1];
  const char* mode = quantization_mode_name(mode_);
  array cot = by_group(cotangents[0], group_size_, s);
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg == 0) dequantize_not_differentiable("the packed codes");
    if (mode_ == QuantizationMode::affine && arg == 1) {
      array q = dequantize(wq, ones(scales.shape(), float32, s), zeros(scales.shape(), float32, s), group_size_,
                           bits_, mode, std::nullopt, float32, s);
      out.push_back(astype(sum(multiply(cot, by_group(q, group_size_, s), s), -1, false, s), scales.dtype(), s));
    } else if (mode_ == QuantizationMode::affine) {
      out.push_back(astype(sum(cot, -1, false, s), primals[2].dtype(), s));
    } else if (arg == 1) {
      dequantize_not_differentiable("its uint8 scales");
    } else {
      // w = v * scale * global / (448 * 6): dequantize at global = 448 * 6 is v * scale.
      array enc(448.f * 6.f, float32);
      array unit = dequantize(wq, scales, std::nullopt, group_size_, bits_, mode, enc, float32, s);
      array g = divide(sum(multiply(cot, by_group(unit, group_size_, s), s), false, s), enc, s);
      out.push_back(reshape(g, primals[2].shape(), s));
    }
  }
  return out;
}

std::vector<array> Dequantize::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                   const std::vector<int>& argnums) {
  for (int arg : argnums) {
    if (arg == 0) dequantize_not_differentiable("the packed codes");
    if (arg == 1 && mode_ != QuantizationMode::affine) dequantize_not_differentiable("its uint8 scales");
  }
  // Affine: (codes, scales, biases) -> (codes, their tangents); nvfp4 keeps
  // the codes and scales and takes the global scale's tangent.
  std::vector<array> in = primals;
  for (int i = mode_ == QuantizationMode::affine ? 1 : 2; i < int(in.size()); ++i) {
    in[i] = detail::tangent_or_zeros(i, primals, tangents, argnums);
  }
  Dtype t = mode_ == QuantizationMode::affine ? primals[2].dtype() : product_dtype_;
  return {array(output_shapes(primals)[0], t,
                std::make_shared<Dequantize>(stream(), group_size_, bits_, mode_, product_dtype_), std::move(in))};
}

// ------------------------------------------------------------ GGUF blocks
// x @ W.T with W the decoded blocks: the cotangent of x is cotan @ W (W
// decoded once, in the cotangent's dtype), the tangent the same product of
// the tangent. The blocks themselves are integer codes and scales packed in
// bytes: not differentiable.

std::vector<array> GgufMatmul::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                   const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg != 0) throw std::invalid_argument("[GgufMatmul] is not differentiable with respect to the GGUF blocks");
    const array& cot = cotangents[0];
    out.push_back(matmul(cot, gguf_dequantize(primals[1], type_, cot.dtype(), stream()), stream()));
  }
  return out;
}

std::vector<array> GgufMatmul::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                   const std::vector<int>& argnums) {
  for (int arg : argnums) {
    if (arg != 0) throw std::invalid_argument("[GgufMatmul] is not differentiable with respect to the GGUF blocks");
  }
  return {gguf_matmul(tangents[0], primals[1], type_, stream())};
}

std::vector<array> GgufDequantize::vjp(const std::vector<array>&, const std::vector<array>&,
                                       const std::vector<int>&, const std::vector<array>&) {
  throw std::invalid_argument("[GgufDequantize] is not differentiable with respect to the GGUF blocks");
}

std::vector<array> GgufDequantize::jvp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>&) {
  throw std::invalid_argument("[GgufDequantize] is not differentiable with respect to the GGUF blocks");
}

}  // namespace uma
