#include "uma/nn/linear_extra.h"

#include <cmath>

#include "uma/core/utils.h"

namespace uma::nn {

Bilinear::Bilinear(int input1_dims, int input2_dims, int output_dims, bool has_bias) {
  if (input1_dims <= 0 || input2_dims <= 0 || output_dims <= 0) {
    throw std::invalid_argument("[Bilinear] dims must be positive, got " + std::to_string(input1_dims) + ", " +
                                std::to_string(input2_dims) + ", " + std::to_string(output_dims));
  }
  float scale = std::sqrt(1.0f / float(input1_dims));
  weight = random::uniform(-scale, scale, {output_dims, input2_dims, input1_dims});
  register_parameter("weight", weight);
  if (has_bias) {
    register_parameter("bias", bias, random::uniform(-scale, scale, {output_dims}));
  }
}

array Bilinear::operator()(const array& x1, const array& x2) const {
  int out = weight.shape(0), in2 = weight.shape(1), in1 = weight.shape(2);
  Shape lead1(x1.shape().begin(), x1.shape().end() - (x1.ndim() ? 1 : 0));
  Shape lead2(x2.shape().begin(), x2.shape().end() - (x2.ndim() ? 1 : 0));
  if (x1.ndim() == 0 || x2.ndim() == 0 || x1.shape(-1) != in1 || x2.shape(-1) != in2 || lead1 != lead2) {
    throw std::invalid_argument("[Bilinear] expects inputs (..., " + std::to_string(in1) + ") and (..., " +
                                std::to_string(in2) + ") with the same leading axes, got " + shape_str(x1.shape()) +
                                " and " + shape_str(x2.shape()));
  }
  // (n, in1) @ (in1, out * in2) -> (n, in2, out): then each row dots x2.
  array y = matmul(reshape(x1, {-1, in1}), transpose(reshape(weight, {out * in2, in1})));
  y = swapaxes(reshape(y, {-1, out, in2}), -2, -1);
  y = squeeze(matmul(reshape(x2, {-1, 1, in2}), y), 1);
  Shape shape = lead1;
  shape.push_back(out);
  y = reshape(y, shape);
  return bias ? add(y, *bias) : y;
}

}  // namespace uma::nn
