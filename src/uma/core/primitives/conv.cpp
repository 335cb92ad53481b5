// Name, equivalence and output shapes of the convolution primitive; its
// rules are in conv_grad.cpp and conv_vmap.cpp.
#include "uma/core/primitives/conv.h"

#include <stdexcept>
#include <string>

#include "uma/core/utils.h"

namespace uma {

UMA_CONV_PRIMITIVES(UMA_PRIMITIVE_NAME)

Shape Convolution::conv_out_shape(const Shape& in, const Shape& wt, const std::vector<int>& stride,
                                  const std::vector<int>& padding_lo, const std::vector<int>& padding_hi,
                                  const std::vector<int>& kernel_dilation, const std::vector<int>& input_dilation) {
  int nd = int(in.size()) - 2;
  Shape out(in.size());
  out[0] = in[0];
  out.back() = wt[0];
  for (int d = 0; d < nd; ++d) {
    int64_t size = in[d + 1] == 0 ? 0 : int64_t(in[d + 1] - 1) * input_dilation[d] + 1;
    int64_t padded = size + padding_lo[d] + padding_hi[d];
    int64_t kernel = int64_t(wt[d + 1] - 1) * kernel_dilation[d] + 1;
    if (padded < kernel) {
      throw std::invalid_argument("[conv] spatial dimension " + std::to_string(d) + " of the input " +
                                  shape_str(in) + " after dilation and padding (" + std::to_string(padded) +
                                  ") is smaller than the dilated kernel (" + std::to_string(kernel) +
                                  ") of the weight " + shape_str(wt));
    }
    out[d + 1] = int32_t((padded - kernel) / stride[d] + 1);
  }
  return out;
}

bool Convolution::is_equivalent(const Primitive& o) const {
  return same<Convolution>(o, [&](const Convolution& p) {
    return p.stride_ == stride_ && p.padding_lo_ == padding_lo_ && p.padding_hi_ == padding_hi_ &&
           p.kernel_dilation_ == kernel_dilation_ && p.input_dilation_ == input_dilation_ && p.groups_ == groups_ &&
           p.flip_ == flip_;
  });
}

std::vector<Shape> Convolution::output_shapes(const std::vector<array>& inputs) {
  return {conv_out_shape(inputs[0].shape(), inputs[1].shape(), stride_, padding_lo_, padding_hi_, kernel_dilation_,
                         input_dilation_)};
}

}  // namespace uma
