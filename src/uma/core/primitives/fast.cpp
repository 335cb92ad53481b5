// Names, equivalence and shapes of the fast primitives. Equivalence compares
// the parameters only: the fallback is a function of them.
#include "uma/core/primitives/fast.h"

namespace uma::fast {

UMA_FAST_PRIMITIVES(UMA_PRIMITIVE_NAME)

bool RMSNorm::is_equivalent(const Primitive& o) const {
  return same<RMSNorm>(o, [&](const RMSNorm& p) { return p.eps_ == eps_ && p.has_weight_ == has_weight_; });
}
UMA_OUTPUT_SHAPE_OF_INPUT(RMSNorm)

bool LayerNorm::is_equivalent(const Primitive& o) const {
  return same<LayerNorm>(o, [&](const LayerNorm& p) {
    return p.eps_ == eps_ && p.has_weight_ == has_weight_ && p.has_bias_ == has_bias_;
  });
}
UMA_OUTPUT_SHAPE_OF_INPUT(LayerNorm)

bool RoPE::is_equivalent(const Primitive& o) const {
  return same<RoPE>(o, [&](const RoPE& p) {
    return p.dims_ == dims_ && p.traditional_ == traditional_ && p.base_ == base_ && p.scale_ == scale_ &&
           p.has_freqs_ == has_freqs_;
  });
}
UMA_OUTPUT_SHAPE_OF_INPUT(RoPE)

bool ScaledDotProductAttention::is_equivalent(const Primitive& o) const {
  return same<ScaledDotProductAttention>(o, [&](const ScaledDotProductAttention& p) {
    return p.scale_ == scale_ && p.causal_ == causal_ && p.has_mask_ == has_mask_;
  });
}
// q (B, Hq, Tq, D), v (B, Hkv, Tk, Dv) -> (B, Hq, Tq, Dv)
std::vector<Shape> ScaledDotProductAttention::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s.back() = inputs[2].shape(-1);
  return {s};
}

}  // namespace uma::fast
