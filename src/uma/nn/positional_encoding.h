// Positional encodings as mlx.nn's: RoPE (through fast::rope),
// SinusoidalPositionalEncoding and ALiBi. None has parameters.
#pragma once

#include <optional>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

// Rotary embedding of the first `dims` features of x (..., L, D) at
// positions offset..offset+L-1; traditional rotates interleaved pairs,
// otherwise the two halves (fast::rope has the formulas).
class RoPE : public Module {
 public:
  explicit RoPE(int dims, bool traditional = false, float base = 10000.0f, float scale = 1.0f);
  array operator()(const array& x, int offset = 0) const;

 private:
  int dims_;
  bool traditional_;
  float base_, scale_;
};

// x (...) -> (..., dims): sin(x sigma_i) then cos(x sigma_i) (cos first
// with cos_first), sigma_i geometric from max_freq (i = 0) down to min_freq
// (i = dims/2 - 1), times 2 pi with full_turns; all times `scale`
// (default sqrt(2 / dims)).
class SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(int dims, float min_freq = 0.0001f, float max_freq = 1.0f,
                                        std::optional<float> scale = std::nullopt, bool cos_first = false,
                                        bool full_turns = false);
  array operator()(const array& x) const;

 private:
  array sigmas_{0.0f};  // not a parameter (MLX's `_sigmas`)
  float scale_;
  bool cos_first_;
};

// Attention with linear biases: adds -slope_h * |i - j| to scores
// (B, H, L_q, L_k), query positions offset..offset+L_q-1.
class ALiBi : public Module {
 public:
  ALiBi() = default;
  array operator()(const array& attention_scores, int offset = 0,
                   const std::optional<array>& mask = std::nullopt) const;

  // (1, H, L_q - offset, L_k): query positions offset..q_sequence_length-1.
  static array create_alibi_matrix(int q_sequence_length, int k_sequence_length, int num_heads, int offset,
                                   Dtype dtype = float32);
  // (H, 1, 1): 2^(-8 h / n) for n heads a power of two, else the slopes of
  // the power of two below and every other slope of the one above.
  static array create_alibi_slope(int num_heads, Dtype dtype = float32);
};

}  // namespace uma::nn
