// Convolution layers as mlx.nn's Conv1d/2d/3d and ConvTranspose1d/2d/3d:
// channels last. Input (N, spatial..., C_in), output (N, spatial..., C_out),
// weight (C_out, kernel..., C_in / groups) for convolutions and
// (C_out, kernel..., C_in) for transposed ones (MLX's layout: a PyTorch
// weight (C_out, C_in, k...) loads as its permutation (0, 2, ..., 1)).
// Init as MLX: weight uniform in +-sqrt(1 / (C_in * prod(kernel))), bias 0.
#pragma once

#include <optional>

#include "uma/core/ops.h"
#include "uma/nn/module.h"
#include "uma/nn/spatial.h"

namespace uma::nn {

// The shared body of the six layers: `dims` spatial dimensions.
class ConvBase : public Module {
 public:
  array operator()(const array& x) const;

  array weight{0.0f};
  std::optional<array> bias;

 protected:
  ConvBase(const char* name, int dims, int in_channels, int out_channels, std::vector<int> kernel,
           std::vector<int> stride, std::vector<int> padding, std::vector<int> dilation, int groups, bool has_bias,
           bool transpose, std::vector<int> output_padding);

 private:
  const char* name_;
  int dims_, in_channels_, groups_;
  bool transpose_;
  std::vector<int> stride_, padding_, dilation_, output_padding_;
};

class Conv1d : public ConvBase {
 public:
  Conv1d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         int groups = 1, bool bias = true);
};

class Conv2d : public ConvBase {
 public:
  Conv2d(int in_channels, int out_channels, Ints<2> kernel_size, Ints<2> stride = 1, Ints<2> padding = 0,
         Ints<2> dilation = 1, int groups = 1, bool bias = true);
};

// MLX's Conv3d has no groups; uma's core conv3d does, so the layer takes them.
class Conv3d : public ConvBase {
 public:
  Conv3d(int in_channels, int out_channels, Ints<3> kernel_size, Ints<3> stride = 1, Ints<3> padding = 0,
         Ints<3> dilation = 1, bool bias = true, int groups = 1);
};

class ConvTranspose1d : public ConvBase {
 public:
  ConvTranspose1d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                  int dilation = 1, int output_padding = 0, bool bias = true);
};

class ConvTranspose2d : public ConvBase {
 public:
  ConvTranspose2d(int in_channels, int out_channels, Ints<2> kernel_size, Ints<2> stride = 1, Ints<2> padding = 0,
                  Ints<2> dilation = 1, Ints<2> output_padding = 0, bool bias = true);
};

class ConvTranspose3d : public ConvBase {
 public:
  ConvTranspose3d(int in_channels, int out_channels, Ints<3> kernel_size, Ints<3> stride = 1, Ints<3> padding = 0,
                  Ints<3> dilation = 1, Ints<3> output_padding = 0, bool bias = true);
};

}  // namespace uma::nn
