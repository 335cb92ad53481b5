#include "uma/nn/conv.h"

#include <cmath>

#include "uma/core/utils.h"

namespace uma::nn {

ConvBase::ConvBase(const char* name, int dims, int in_channels, int out_channels, std::vector<int> kernel,
                   std::vector<int> stride, std::vector<int> padding, std::vector<int> dilation, int groups,
                   bool has_bias, bool transpose, std::vector<int> output_padding)
    : name_(name),
      dims_(dims),
      in_channels_(in_channels),
      groups_(groups),
      transpose_(transpose),
      stride_(std::move(stride)),
      padding_(std::move(padding)),
      dilation_(std::move(dilation)),
      output_padding_(std::move(output_padding)) {
  std::string n = std::string("[") + name + "] ";
  if (in_channels <= 0 || out_channels <= 0) {
    throw std::invalid_argument(n + "channels must be positive, got in_channels=" + std::to_string(in_channels) +
                                ", out_channels=" + std::to_string(out_channels));
  }
  if (groups <= 0 || in_channels % groups != 0) {
    throw std::invalid_argument(n + "the number of input channels (" + std::to_string(in_channels) +
                                ") must be divisible by the number of groups (" + std::to_string(groups) + ")");
  }
  int k = 1;
  for (int x : kernel) {
    if (x <= 0) throw std::invalid_argument(n + "kernel sizes must be positive, got " + std::to_string(x));
    k *= x;
  }
  float scale = std::sqrt(1.0f / float(in_channels * k));
  Shape shape{out_channels};
  shape.insert(shape.end(), kernel.begin(), kernel.end());
  shape.push_back(transpose ? in_channels : in_channels / groups);
  weight = random::uniform(-scale, scale, shape);
  register_parameter("weight", weight);
  if (has_bias) {
    register_parameter("bias", bias, zeros({out_channels}));
  }
}

array ConvBase::operator()(const array& x) const {
  if (x.ndim() != dims_ + 2 || x.shape(-1) != in_channels_) {
    throw std::invalid_argument(std::string("[") + name_ + "] expects input (N, " + std::to_string(dims_) +
                                " spatial dims, C=" + std::to_string(in_channels_) + "), got " +
                                shape_str(x.shape()));
  }
  array y = x;
  const auto &s = stride_, &p = padding_, &d = dilation_, &o = output_padding_;
  if (!transpose_) {
    y = conv_general(x, weight, s, p, d, {}, groups_);
  } else if (dims_ == 1) {
    y = conv_transpose1d(x, weight, s[0], p[0], d[0], o[0]);
  } else if (dims_ == 2) {
    y = conv_transpose2d(x, weight, {s[0], s[1]}, {p[0], p[1]}, {d[0], d[1]}, {o[0], o[1]});
  } else {
    y = conv_transpose3d(x, weight, {s[0], s[1], s[2]}, {p[0], p[1], p[2]}, {d[0], d[1], d[2]},
                         {o[0], o[1], o[2]});
  }
  return bias ? add(y, *bias) : y;
}

Conv1d::Conv1d(int in_channels, int out_channels, int kernel_size, int stride, int padding, int dilation, int groups,
               bool bias)
    : ConvBase("Conv1d", 1, in_channels, out_channels, {kernel_size}, {stride}, {padding}, {dilation}, groups, bias,
               false, {0}) {}

Conv2d::Conv2d(int in_channels, int out_channels, Ints<2> kernel_size, Ints<2> stride, Ints<2> padding,
               Ints<2> dilation, int groups, bool bias)
    : ConvBase("Conv2d", 2, in_channels, out_channels, kernel_size.vec(), stride.vec(), padding.vec(),
               dilation.vec(), groups, bias, false, {0, 0}) {}

Conv3d::Conv3d(int in_channels, int out_channels, Ints<3> kernel_size, Ints<3> stride, Ints<3> padding,
               Ints<3> dilation, bool bias, int groups)
    : ConvBase("Conv3d", 3, in_channels, out_channels, kernel_size.vec(), stride.vec(), padding.vec(),
               dilation.vec(), groups, bias, false, {0, 0, 0}) {}

ConvTranspose1d::ConvTranspose1d(int in_channels, int out_channels, int kernel_size, int stride, int padding,
                                 int dilation, int output_padding, bool bias)
    : ConvBase("ConvTranspose1d", 1, in_channels, out_channels, {kernel_size}, {stride}, {padding}, {dilation}, 1,
               bias, true, {output_padding}) {}

ConvTranspose2d::ConvTranspose2d(int in_channels, int out_channels, Ints<2> kernel_size, Ints<2> stride,
                                 Ints<2> padding, Ints<2> dilation, Ints<2> output_padding, bool bias)
    : ConvBase("ConvTranspose2d", 2, in_channels, out_channels, kernel_size.vec(), stride.vec(), padding.vec(),
               dilation.vec(), 1, bias, true, output_padding.vec()) {}

ConvTranspose3d::ConvTranspose3d(int in_channels, int out_channels, Ints<3> kernel_size, Ints<3> stride,
                                 Ints<3> padding, Ints<3> dilation, Ints<3> output_padding, bool bias)
    : ConvBase("ConvTranspose3d", 3, in_channels, out_channels, kernel_size.vec(), stride.vec(), padding.vec(),
               dilation.vec(), 1, bias, true, output_padding.vec()) {}

}  // namespace uma::nn
