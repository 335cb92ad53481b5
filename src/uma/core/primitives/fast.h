// Primitives of the fused fast paths (see fast.h). As MLX's Custom, each one
// carries the same computation composed of plain ops (its `*_reference`
// function bound to its parameters), so that a backend without the kernel,
// and later the transforms, can run that instead.
#pragma once

#include <functional>

#include "uma/core/primitive.h"

namespace uma::fast {

#define UMA_FAST_PRIMITIVES(X) X(RMSNorm) X(LayerNorm) X(RoPE) X(ScaledDotProductAttention)

class Custom : public UnaryPrimitive {
 public:
  // The primitive's inputs -> its outputs, built from ops.
  using Fallback = std::function<std::vector<array>(const std::vector<array>&)>;
  Custom(Stream s, Fallback fallback) : UnaryPrimitive(s), fallback_(std::move(fallback)) {}
  const Fallback& fallback() const { return fallback_; }

 private:
  Fallback fallback_;
};

// inputs: x, [weight]
class RMSNorm : public Custom {
 public:
  RMSNorm(Stream s, Fallback f, float eps, bool has_weight)
      : Custom(s, std::move(f)), eps_(eps), has_weight_(has_weight) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  float eps_;
  bool has_weight_;
};

// inputs: x, [weight], [bias]
class LayerNorm : public Custom {
 public:
  LayerNorm(Stream s, Fallback f, float eps, bool has_weight, bool has_bias)
      : Custom(s, std::move(f)), eps_(eps), has_weight_(has_weight), has_bias_(has_bias) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  float eps_;
  bool has_weight_, has_bias_;
};

// inputs: x (..., T, D), offset (int32 scalar or (B)), [freqs (dims/2)]
class RoPE : public Custom {
 public:
  RoPE(Stream s, Fallback f, int dims, bool traditional, float base, float scale, bool has_freqs)
      : Custom(s, std::move(f)),
        dims_(dims),
        traditional_(traditional),
        base_(base),
        scale_(scale),
        has_freqs_(has_freqs) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int dims_;
  bool traditional_;
  float base_, scale_;
  bool has_freqs_;
};

// inputs: q, k, v, [mask]
class ScaledDotProductAttention : public Custom {
 public:
  ScaledDotProductAttention(Stream s, Fallback f, float scale, bool causal, bool has_mask)
      : Custom(s, std::move(f)), scale_(scale), causal_(causal), has_mask_(has_mask) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  float scale_;
  bool causal_, has_mask_;
};

}  // namespace uma::fast
