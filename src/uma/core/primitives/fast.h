// Primitives of the fused fast paths (see fast.h).
#pragma once

#include "uma/core/primitive.h"

namespace uma::fast {

// inputs: x, [weight]
class RMSNorm : public UnaryPrimitive {
 public:
  RMSNorm(Stream s, float eps, bool has_weight) : UnaryPrimitive(s), eps_(eps), has_weight_(has_weight) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "RMSNorm"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  float eps_;
  bool has_weight_;
};

// inputs: x, [weight], [bias]
class LayerNorm : public UnaryPrimitive {
 public:
  LayerNorm(Stream s, float eps, bool has_weight, bool has_bias)
      : UnaryPrimitive(s), eps_(eps), has_weight_(has_weight), has_bias_(has_bias) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "LayerNorm"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  float eps_;
  bool has_weight_, has_bias_;
};

// inputs: x (..., T, D), offset (int32 scalar or (B)), [freqs (dims/2)]
class RoPE : public UnaryPrimitive {
 public:
  RoPE(Stream s, int dims, bool traditional, float base, float scale, bool has_freqs)
      : UnaryPrimitive(s), dims_(dims), traditional_(traditional), base_(base), scale_(scale), has_freqs_(has_freqs) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "RoPE"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  int dims_;
  bool traditional_;
  float base_, scale_;
  bool has_freqs_;
};

// inputs: q, k, v, [mask]
class ScaledDotProductAttention : public UnaryPrimitive {
 public:
  ScaledDotProductAttention(Stream s, float scale, bool causal, bool has_mask)
      : UnaryPrimitive(s), scale_(scale), causal_(causal), has_mask_(has_mask) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  const char* name() const override { return "ScaledDotProductAttention"; }
  bool is_equivalent(const Primitive& o) const override;

 private:
  float scale_;
  bool causal_, has_mask_;
};

}  // namespace uma::fast
