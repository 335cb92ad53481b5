// vmap rules of the fused fast primitives. The norms work on the last axis
// of any leading shape, so a batched x alone (weight and bias shared) keeps
// the kernel; everything else vmaps the primitive's fallback (a function of
// ops, as MLX's Custom::vmap does).
#include "uma/core/primitives/fast.h"
#include "uma/core/primitives/vmap_util.h"
#include "uma/core/transforms.h"

namespace uma::fast {

namespace {

detail::VmapResult vmap_fallback(const Custom& p, const std::vector<array>& inputs, const std::vector<int>& axes) {
  auto outs = uma::vmap(p.fallback(), axes, std::vector<int>(1, 0))(inputs);
  return {outs, {0}};
}

// Only x (input 0) batched.
bool x_only(const std::vector<int>& axes) {
  for (size_t i = 1; i < axes.size(); ++i) {
    if (axes[i] >= 0) return false;
  }
  return axes[0] >= 0;
}

// x with its batch axis off the normalized last axis.
std::pair<array, int> batch_off_last(const array& x, int b, Stream s) {
  if (b != int(x.ndim()) - 1) return {x, b};
  return {detail::batch_to_front(x, b, -1, s), 0};
}

}  // namespace

std::pair<std::vector<array>, std::vector<int>> RMSNorm::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  if (!x_only(axes)) return vmap_fallback(*this, inputs, axes);
  auto [x, b] = batch_off_last(inputs[0], axes[0], stream());
  std::vector<array> in = inputs;
  in[0] = x;
  auto p = std::make_shared<RMSNorm>(stream(), fallback(), eps_, has_weight_);
  return {{detail::make_node(p, std::move(in), x.dtype())}, {b}};
}

std::pair<std::vector<array>, std::vector<int>> LayerNorm::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  if (!x_only(axes)) return vmap_fallback(*this, inputs, axes);
  auto [x, b] = batch_off_last(inputs[0], axes[0], stream());
  std::vector<array> in = inputs;
  in[0] = x;
  auto p = std::make_shared<LayerNorm>(stream(), fallback(), eps_, has_weight_, has_bias_);
  return {{detail::make_node(p, std::move(in), x.dtype())}, {b}};
}

// RoPE's offsets and attention's (B, H, T, D) layout tie the leading axes to
// the other inputs: the fallback handles every case.
std::pair<std::vector<array>, std::vector<int>> RoPE::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  return vmap_fallback(*this, inputs, axes);
}

std::pair<std::vector<array>, std::vector<int>> ScaledDotProductAttention::vmap(const std::vector<array>& inputs,
                                                                                const std::vector<int>& axes) {
  return vmap_fallback(*this, inputs, axes);
}

}  // namespace uma::fast
