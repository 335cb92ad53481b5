// vmap rules of the quantized family (MLX has none for the matmuls). Packing
// and scales run along the last axis, so a batch axis elsewhere stays put.
// The matmuls move every batch in front: quantized_matmul broadcasts it as
// one more batch dimension, gather_qmm folds it into the flattened batch of
// x or of W and offsets the indices into them.
#include "uma/core/ops/linalg_impl.h"
#include "uma/core/ops/quantized.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/quantized.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

using detail::with_matrix;

// A batched global scale (nvfp4) is one scalar per batch element: looped.
std::pair<std::vector<array>, std::vector<int>> Quantize::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  if (inputs.size() > 1 && axes[1] >= 0) {
    auto f = [this](const std::vector<array>& xs) {
      return quantize(xs[0], group_size_, bits_, quantization_mode_name(mode_), xs[1], stream());
    };
    return detail::vmap_by_loop(inputs, axes, f, stream());
  }
  array w = inputs[0];
  int b = axes[0];
  if (b == int(w.ndim()) - 1) {
    w = detail::batch_to_front(w, b, -1, stream());
    b = 0;
  }
  std::vector<array> in{w};
  if (inputs.size() > 1) in.push_back(inputs[1]);
  auto p = std::make_shared<Quantize>(stream(), group_size_, bits_, mode_);
  std::vector<Shape> shapes = p->output_shapes(in);
  std::vector<Dtype> dtypes{uint32, w.dtype(), w.dtype()};
  if (mode_ != QuantizationMode::affine) dtypes = {uint32, uint8};
  auto outs = array::make_arrays(std::move(shapes), std::move(dtypes), p, std::move(in));
  return {outs, std::vector<int>(outs.size(), b)};
}

// inputs: wq, scales, biases (affine) or wq, scales[, global scale] (fp).
std::pair<std::vector<array>, std::vector<int>> Dequantize::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  bool affine = mode_ == QuantizationMode::affine;
  Dtype out_dtype = affine ? inputs[2].dtype() : product_dtype_;
  if (!affine && inputs.size() > 2 && axes[2] >= 0) {
    auto f = [this](const std::vector<array>& xs) {
      return std::vector<array>{dequantize(xs[0], xs[1], std::nullopt, group_size_, bits_,
                                           quantization_mode_name(mode_), xs[2], product_dtype_, stream())};
    };
    return detail::vmap_by_loop(inputs, axes, f, stream());
  }
  int n = detail::vmap_size(inputs, axes);
  size_t packed = affine ? 3 : 2;  // wq, scales (and biases) share their leading dims
  std::vector<array> in;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in.push_back(i < packed ? detail::batch_to_front(inputs[i], axes[i], n, stream()) : inputs[i]);
  }
  auto p = std::make_shared<Dequantize>(stream(), group_size_, bits_, mode_, product_dtype_);
  return {{detail::make_node(p, std::move(in), out_dtype)}, {0}};
}

// inputs: x, wq, scales[, biases].
std::pair<std::vector<array>, std::vector<int>> QuantizedMatmul::vmap(const std::vector<array>& inputs,
                                                                      const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  bool w_batched = false;
  for (size_t i = 1; i < axes.size(); ++i) w_batched = w_batched || axes[i] >= 0;
  auto p = std::make_shared<QuantizedMatmul>(stream(), group_size_, bits_, mode_, transpose_);
  array x = axes[0] >= 0 ? detail::batch_to_front(inputs[0], axes[0], -1, stream()) : inputs[0];
  if (!w_batched && inputs[1].ndim() == 2) {
    std::vector<array> in = inputs;
    in[0] = x;
    return {{detail::make_node(p, std::move(in), x.dtype())}, {0}};
  }
  // Batched matrices: every operand gets the batch in front (size 1 when
  // unbatched), x its M axis, and the batch dims are broadcast together.
  bool vector_x = int(inputs[0].ndim()) - (axes[0] >= 0 ? 1 : 0) == 1;
  if (axes[0] < 0) x = expand_dims(x, 0, stream());
  if (vector_x) x = expand_dims(x, -2, stream());
  std::vector<array> in{x};
  for (size_t i = 1; i < inputs.size(); ++i) in.push_back(detail::batch_to_front(inputs[i], axes[i], -1, stream()));
  size_t nd = 0;
  for (auto& a : in) nd = std::max(nd, a.ndim());
  Shape batch{n};
  for (auto& a : in) {
    if (a.ndim() < nd) {
      Shape s = a.shape();
      s.insert(s.begin() + 1, nd - a.ndim(), 1);
      a = reshape(a, s, stream());
    }
  }
  for (size_t d = 1; d + 2 < nd; ++d) {
    int32_t m = 1;
    for (auto& a : in) m = std::max(m, a.shape(int(d)));
    batch.push_back(m);
  }
  for (auto& a : in) a = broadcast_to(a, with_matrix(batch, a.shape(-2), a.shape(-1)), stream());
  array out = detail::make_node(p, std::move(in), x.dtype());
  if (vector_x) out = squeeze(out, -2, stream());
  return {{out}, {0}};
}

// inputs: x, wq, scales[, biases], lhs_indices, rhs_indices.
std::pair<std::vector<array>, std::vector<int>> GatherQMM::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  size_t li = inputs.size() - 2, ri = inputs.size() - 1;
  // Index arrays (I...) -> (n, I...), offset into the batched operands.
  auto front = [&](size_t k) { return detail::batch_to_front(inputs[k], axes[k], n, stream()); };
  array lhs = front(li), rhs = front(ri);
  std::vector<array> in{inputs[0]};
  if (axes[0] >= 0) {
    in[0] = detail::batch_to_front(inputs[0], axes[0], -1, stream());
    lhs = detail::offset_batch_indices(lhs, detail::matrices_per_element(in[0]), stream());
  }
  bool w_batched = false;
  for (size_t i = 1; i < li; ++i) w_batched = w_batched || axes[i] >= 0;
  for (size_t i = 1; i < li; ++i) in.push_back(w_batched ? front(i) : inputs[i]);
  if (w_batched) rhs = detail::offset_batch_indices(rhs, detail::matrices_per_element(in[1]), stream());
  in.push_back(lhs);
  in.push_back(rhs);
  auto p = std::make_shared<GatherQMM>(stream(), group_size_, bits_, mode_, transpose_);
  Dtype dt = in[0].dtype();
  return {{detail::make_node(p, std::move(in), dt)}, {0}};
}

// inputs: x (..., K), w (N, Kb). A batched x moves its batch in front (one
// more leading dim); a batched w is one matrix per element: looped.
std::pair<std::vector<array>, std::vector<int>> GgufMatmul::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  if (axes[1] >= 0) {
    auto f = [this](const std::vector<array>& xs) {
      return std::vector<array>{gguf_matmul(xs[0], xs[1], type_, stream())};
    };
    return detail::vmap_by_loop(inputs, axes, f, stream());
  }
  array x = detail::batch_to_front(inputs[0], axes[0], -1, stream());
  auto p = std::make_shared<GgufMatmul>(stream(), type_);
  return {{detail::make_node(p, {x, inputs[1]}, x.dtype())}, {0}};
}

// Blocks run along the last axis, and the interleaved layouts (Q4_0x8,
// Q8_0x8) group eight rows along the one before it: a batch axis in either
// place moves to the front, one elsewhere stays put.
std::pair<std::vector<array>, std::vector<int>> GgufDequantize::vmap(const std::vector<array>& inputs,
                                                                     const std::vector<int>& axes) {
  array w = inputs[0];
  int b = axes[0];
  const bool interleaved = gguf_stored_type(type_) != type_;
  if (b == int(w.ndim()) - 1 || (interleaved && b == int(w.ndim()) - 2)) {
    w = detail::batch_to_front(w, b, -1, stream());
    b = 0;
  }
  auto p = std::make_shared<GgufDequantize>(stream(), type_, dtype_);
  return {{detail::make_node(p, {w}, dtype_)}, {b}};
}

}  // namespace uma
