#include "uma/core/ops/conv.h"

#include <climits>
#include <stdexcept>
#include <string>

#include "uma/core/ops/shape.h"
#include "uma/core/primitives/conv.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

std::string tag(int nd) { return nd >= 1 && nd <= 3 ? "[conv" + std::to_string(nd) + "d] " : "[conv] "; }

// Checks ranks, channels and groups; `name` is the op's tag.
void check_conv(const array& in, const array& wt, int nd, int groups, const std::string& name) {
  if (in.ndim() != size_t(nd) + 2) {
    throw std::invalid_argument(name + "the input " + shape_str(in.shape()) + " must have " +
                                std::to_string(nd + 2) + " dimensions (N, spatial..., C_in)");
  }
  if (wt.ndim() != size_t(nd) + 2) {
    throw std::invalid_argument(name + "the weight " + shape_str(wt.shape()) + " must have " +
                                std::to_string(nd + 2) + " dimensions (C_out, kernel spatial..., C_in / groups)");
  }
  for (Dtype t : {in.dtype(), wt.dtype()}) {
    if (!is_floating_point(t)) {
      throw std::invalid_argument(name + "only floating point types convolve, got " + dtype_name(t) +
                                  "; cast with astype first");
    }
  }
  if (groups < 1) throw std::invalid_argument(name + "groups must be at least 1, got " + std::to_string(groups));
  int64_t cin = in.shape(-1), cout = wt.shape(0);
  if (cin % groups != 0) {
    throw std::invalid_argument(name + "the input channels " + std::to_string(cin) + " of " +
                                shape_str(in.shape()) + " must divide into groups=" + std::to_string(groups));
  }
  if (cout % groups != 0) {
    throw std::invalid_argument(name + "the output channels " + std::to_string(cout) + " of the weight " +
                                shape_str(wt.shape()) + " must divide into groups=" + std::to_string(groups));
  }
  if (cin != int64_t(groups) * wt.shape(-1)) {
    throw std::invalid_argument(name + "the input " + shape_str(in.shape()) + " has " + std::to_string(cin) +
                                " channels, but the weight " + shape_str(wt.shape()) + " with groups=" +
                                std::to_string(groups) + " expects " + std::to_string(groups * wt.shape(-1)));
  }
}

std::vector<int> per_dim(std::vector<int> v, int nd, int fallback, const char* what, const std::string& name,
                         int min_value) {
  if (v.empty()) v.push_back(fallback);
  if (v.size() == 1) v.assign(size_t(nd), v[0]);
  if (v.size() != size_t(nd)) {
    throw std::invalid_argument(name + what + " has " + std::to_string(v.size()) + " values for " +
                                std::to_string(nd) + " spatial dimensions");
  }
  for (int x : v) {
    if (x < min_value) {
      throw std::invalid_argument(name + what + " must be at least " + std::to_string(min_value) + ", got " +
                                  std::to_string(x));
    }
  }
  return v;
}

array conv_transpose_general(const array& in, const array& wt, std::vector<int> stride, std::vector<int> padding,
                             std::vector<int> dilation, std::vector<int> output_padding, int groups, StreamOrDevice s) {
  int nd = int(stride.size());
  std::string name = "[conv_transpose" + std::to_string(nd) + "d] ";
  check_conv(in, wt, nd, groups, name);
  std::vector<int> lo(nd), hi(nd);
  for (int d = 0; d < nd; ++d) {
    if (stride[d] < 1 || dilation[d] < 1 || padding[d] < 0 || output_padding[d] < 0) {
      throw std::invalid_argument(name + "stride and dilation must be positive, padding and output_padding "
                                         "not negative");
    }
    // The input gradient of a stride-s convolution: the input dilated by the
    // stride, correlated with the flipped kernel.
    int kernel = dilation[d] * (wt.shape(d + 1) - 1) + 1;
    lo[d] = kernel - 1 - padding[d];
    hi[d] = kernel - 1 - padding[d] + output_padding[d];
  }
  return conv_general(in, wt, std::vector<int>(size_t(nd), 1), lo, hi, dilation, stride, groups, true, s);
}

}  // namespace

array conv_general(array in, array wt, std::vector<int> stride, std::vector<int> padding_lo,
                   std::vector<int> padding_hi, std::vector<int> kernel_dilation, std::vector<int> input_dilation,
                   int groups, bool flip, StreamOrDevice s) {
  int nd = int(in.ndim()) - 2;
  std::string name = tag(nd);
  if (nd < 1 || nd > 3) {
    throw std::invalid_argument("[conv] the input " + shape_str(in.shape()) +
                                " must have 1 to 3 spatial dimensions (N, spatial..., C_in)");
  }
  check_conv(in, wt, nd, groups, name);
  stride = per_dim(std::move(stride), nd, 1, "stride", name, 1);
  padding_lo = per_dim(std::move(padding_lo), nd, 0, "padding_lo", name, INT32_MIN);
  padding_hi = per_dim(std::move(padding_hi), nd, 0, "padding_hi", name, INT32_MIN);
  kernel_dilation = per_dim(std::move(kernel_dilation), nd, 1, "kernel_dilation", name, 1);
  input_dilation = per_dim(std::move(input_dilation), nd, 1, "input_dilation", name, 1);

  Dtype t = promote_types(in.dtype(), wt.dtype());
  in = astype(in, t, s);
  wt = astype(wt, t, s);
  Shape out = Convolution::conv_out_shape(in.shape(), wt.shape(), stride, padding_lo, padding_hi, kernel_dilation,
                                          input_dilation);
  return array(std::move(out), t,
               std::make_shared<Convolution>(to_stream(s), std::move(stride), std::move(padding_lo),
                                             std::move(padding_hi), std::move(kernel_dilation),
                                             std::move(input_dilation), groups, flip),
               {in, wt});
}

array conv1d(const array& in, const array& wt, int stride, int padding, int dilation, int groups, StreamOrDevice s) {
  if (in.ndim() != 3) check_conv(in, wt, 1, groups, "[conv1d] ");
  return conv_general(in, wt, {stride}, {padding}, {padding}, {dilation}, {1}, groups, false, s);
}

array conv2d(const array& in, const array& wt, const std::pair<int, int>& stride, const std::pair<int, int>& padding,
             const std::pair<int, int>& dilation, int groups, StreamOrDevice s) {
  if (in.ndim() != 4) check_conv(in, wt, 2, groups, "[conv2d] ");
  std::vector<int> pad{padding.first, padding.second};
  return conv_general(in, wt, {stride.first, stride.second}, pad, pad, {dilation.first, dilation.second}, {1, 1},
                      groups, false, s);
}

array conv3d(const array& in, const array& wt, const std::tuple<int, int, int>& stride,
             const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation, int groups,
             StreamOrDevice s) {
  if (in.ndim() != 5) check_conv(in, wt, 3, groups, "[conv3d] ");
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_general(in, wt, v(stride), v(padding), v(padding), v(dilation), {1, 1, 1}, groups, false, s);
}

array conv_transpose1d(const array& in, const array& wt, int stride, int padding, int dilation, int output_padding,
                       int groups, StreamOrDevice s) {
  return conv_transpose_general(in, wt, {stride}, {padding}, {dilation}, {output_padding}, groups, s);
}

array conv_transpose2d(const array& in, const array& wt, const std::pair<int, int>& stride,
                       const std::pair<int, int>& padding, const std::pair<int, int>& dilation,
                       const std::pair<int, int>& output_padding, int groups, StreamOrDevice s) {
  return conv_transpose_general(in, wt, {stride.first, stride.second}, {padding.first, padding.second},
                                {dilation.first, dilation.second}, {output_padding.first, output_padding.second},
                                groups, s);
}

array conv_transpose3d(const array& in, const array& wt, const std::tuple<int, int, int>& stride,
                       const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation,
                       const std::tuple<int, int, int>& output_padding, int groups, StreamOrDevice s) {
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_transpose_general(in, wt, v(stride), v(padding), v(dilation), v(output_padding), groups, s);
}

}  // namespace uma
