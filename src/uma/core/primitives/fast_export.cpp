// Serialization of the fast primitives. Their fallbacks are functions of
// their parameters, so a reader rebuilds a node with its op (rms_norm, rope,
// ...) from placeholders of the node's inputs: the op checks the inputs and
// gives the primitive its fallback.
#include "uma/core/fast.h"
#include "uma/core/primitives/fast.h"
#include "uma/core/primitives/serialize.h"

namespace uma::fast {

namespace {
using Arrays = std::vector<array>;
std::optional<array> input_if(bool present, const Arrays& in, size_t i) {
  return present && i < in.size() ? std::optional(in[i]) : std::nullopt;
}
}  // namespace

void RMSNorm::serialize(PrimitiveWriter& w) const { w.fields(*this, &RMSNorm::eps_, &RMSNorm::has_weight_); }
std::shared_ptr<Primitive> RMSNorm::deserialize(Stream s, PrimitiveReader& r) {
  auto eps = r.get<float>();
  auto has_weight = r.get<bool>();
  r.inputs(1 + has_weight);
  return r.same_as_op(RMSNorm(s, {}, eps, has_weight), [&](const Arrays& in) {
    return Arrays{rms_norm(in[0], input_if(has_weight, in, 1), eps, s)};
  });
}

void LayerNorm::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &LayerNorm::eps_, &LayerNorm::has_weight_, &LayerNorm::has_bias_);
}
std::shared_ptr<Primitive> LayerNorm::deserialize(Stream s, PrimitiveReader& r) {
  auto eps = r.get<float>();
  auto has_weight = r.get<bool>();
  auto has_bias = r.get<bool>();
  r.inputs(1 + has_weight + has_bias);
  return r.same_as_op(LayerNorm(s, {}, eps, has_weight, has_bias), [&](const Arrays& in) {
    return Arrays{layer_norm(in[0], input_if(has_weight, in, 1), input_if(has_bias, in, 1 + has_weight), eps, s)};
  });
}

void RoPE::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &RoPE::dims_, &RoPE::traditional_, &RoPE::base_, &RoPE::scale_, &RoPE::has_freqs_);
}
std::shared_ptr<Primitive> RoPE::deserialize(Stream s, PrimitiveReader& r) {
  auto dims = r.get<int>();
  auto traditional = r.get<bool>();
  auto base = r.get<float>();
  auto scale = r.get<float>();
  auto has_freqs = r.get<bool>();
  r.inputs(2 + has_freqs);
  return r.same_as_op(RoPE(s, {}, dims, traditional, base, scale, has_freqs), [&](const Arrays& in) {
    std::optional<float> b = has_freqs ? std::nullopt : std::optional(base);
    return Arrays{rope(in[0], dims, traditional, b, scale, in[1], input_if(has_freqs, in, 2), s)};
  });
}

void ScaledDotProductAttention::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &ScaledDotProductAttention::scale_, &ScaledDotProductAttention::causal_,
           &ScaledDotProductAttention::has_mask_);
}
std::shared_ptr<Primitive> ScaledDotProductAttention::deserialize(Stream s, PrimitiveReader& r) {
  auto scale = r.get<float>();
  auto causal = r.get<bool>();
  auto has_mask = r.get<bool>();
  r.inputs(3 + has_mask);
  return r.same_as_op(ScaledDotProductAttention(s, {}, scale, causal, has_mask), [&](const Arrays& in) {
    return Arrays{scaled_dot_product_attention(in[0], in[1], in[2], scale, causal ? "causal" : "",
                                               input_if(has_mask, in, 3), s)};
  });
}

}  // namespace uma::fast
