// Bilinear as mlx.nn's: y = x1^T W_o x2 + b_o for each output o, weight
// (output_dims, input2_dims, input1_dims) (a PyTorch weight (out, in1, in2)
// loads transposed (0, 2, 1)); init uniform in +-sqrt(1 / input1_dims).
// Identity is in containers.h.
#pragma once

#include <optional>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

class Bilinear : public Module {
 public:
  Bilinear(int input1_dims, int input2_dims, int output_dims, bool bias = true);
  // x1: (..., input1_dims), x2: (..., input2_dims) with the same leading axes.
  array operator()(const array& x1, const array& x2) const;

  array weight{0.0f};
  std::optional<array> bias;
};

}  // namespace uma::nn
