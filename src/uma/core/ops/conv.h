// Convolutions (MLX names, layouts and semantics): input (N, spatial..., C_in),
// weight (C_out, kernel spatial..., C_in / groups), output
// (N, out spatial..., C_out). Only floating dtypes convolve; mixed dtypes
// promote. bfloat16/float16 accumulate in float32.
// Differences from MLX: groups work for 3-D convolutions too, and negative
// padding crops the dilated input (MLX crops the undilated one).
#pragma once

#include <tuple>
#include <utility>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

array conv1d(const array& input, const array& weight, int stride = 1, int padding = 0, int dilation = 1,
             int groups = 1, StreamOrDevice s = {});

array conv2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
             const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
             int groups = 1, StreamOrDevice s = {});

array conv3d(const array& input, const array& weight, const std::tuple<int, int, int>& stride = {1, 1, 1},
             const std::tuple<int, int, int>& padding = {0, 0, 0},
             const std::tuple<int, int, int>& dilation = {1, 1, 1}, int groups = 1, StreamOrDevice s = {});

// The general convolution: per spatial dimension a stride, zero padding
// before and after (after input dilation), kernel dilation and input
// dilation; a vector of one value (or none: the default) applies to every
// dimension. flip reverses the kernel's spatial axes.
array conv_general(array input, array weight, std::vector<int> stride, std::vector<int> padding_lo,
                   std::vector<int> padding_hi, std::vector<int> kernel_dilation = {},
                   std::vector<int> input_dilation = {}, int groups = 1, bool flip = false, StreamOrDevice s = {});

// Symmetric padding.
inline array conv_general(const array& input, const array& weight, std::vector<int> stride = {},
                          std::vector<int> padding = {}, std::vector<int> kernel_dilation = {},
                          std::vector<int> input_dilation = {}, int groups = 1, bool flip = false,
                          StreamOrDevice s = {}) {
  return conv_general(input, weight, std::move(stride), padding, padding, std::move(kernel_dilation),
                      std::move(input_dilation), groups, flip, s);
}

// Transposed convolutions (the gradient of a convolution with respect to its
// input): weight (C_out, kernel spatial..., C_in / groups), output spatial
// size (in - 1) * stride - 2 * padding + dilation * (k - 1) + 1 + output_padding.
array conv_transpose1d(const array& input, const array& weight, int stride = 1, int padding = 0, int dilation = 1,
                       int output_padding = 0, int groups = 1, StreamOrDevice s = {});

array conv_transpose2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
                       const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
                       const std::pair<int, int>& output_padding = {0, 0}, int groups = 1, StreamOrDevice s = {});

array conv_transpose3d(const array& input, const array& weight,
                       const std::tuple<int, int, int>& stride = {1, 1, 1},
                       const std::tuple<int, int, int>& padding = {0, 0, 0},
                       const std::tuple<int, int, int>& dilation = {1, 1, 1},
                       const std::tuple<int, int, int>& output_padding = {0, 0, 0}, int groups = 1,
                       StreamOrDevice s = {});

}  // namespace uma
