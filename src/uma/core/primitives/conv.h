// The convolution primitive (MLX's Convolution). Layouts are MLX's:
// input (N, spatial..., C_in), weight (C_out, kernel spatial..., C_in / groups),
// output (N, out spatial..., C_out); 1 to 3 spatial dimensions. The op
// (ops/conv.cpp) checks shapes and promotes both inputs to one floating dtype.
#pragma once

#include <vector>

#include "uma/core/primitive.h"

namespace uma {

#define UMA_CONV_PRIMITIVES(X) X(Convolution)

// Per spatial dimension d, the input is dilated (input_dilation - 1 zeros
// between elements), padded by padding_lo / padding_hi zeros (negative
// padding crops), and correlated with the kernel dilated by kernel_dilation,
// taking every stride-th position. flip reverses the kernel's spatial axes
// (a true convolution; the transposed convolutions use it). Channels split
// into `groups` groups; output group g sees only input group g.
class Convolution : public UnaryPrimitive {
 public:
  Convolution(Stream s, std::vector<int> stride, std::vector<int> padding_lo, std::vector<int> padding_hi,
              std::vector<int> kernel_dilation, std::vector<int> input_dilation, int groups, bool flip)
      : UnaryPrimitive(s),
        stride_(std::move(stride)),
        padding_lo_(std::move(padding_lo)),
        padding_hi_(std::move(padding_hi)),
        kernel_dilation_(std::move(kernel_dilation)),
        input_dilation_(std::move(input_dilation)),
        groups_(groups),
        flip_(flip) {}
  UMA_DECLARE_PRIMITIVE()

  const std::vector<int>& stride() const { return stride_; }
  const std::vector<int>& padding_lo() const { return padding_lo_; }
  const std::vector<int>& padding_hi() const { return padding_hi_; }
  const std::vector<int>& kernel_dilation() const { return kernel_dilation_; }
  const std::vector<int>& input_dilation() const { return input_dilation_; }
  int groups() const { return groups_; }
  bool flip() const { return flip_; }

  // (N, out spatial..., C_out) of input and weight shapes; throws
  // invalid_argument ("[conv] ...") when the dilated kernel is larger than
  // the dilated, padded input.
  static Shape conv_out_shape(const Shape& in, const Shape& wt, const std::vector<int>& stride,
                              const std::vector<int>& padding_lo, const std::vector<int>& padding_hi,
                              const std::vector<int>& kernel_dilation, const std::vector<int>& input_dilation);

 private:
  std::vector<int> stride_, padding_lo_, padding_hi_, kernel_dilation_, input_dilation_;
  int groups_;
  bool flip_;
};

}  // namespace uma
