// Gradient rules of Convolution, written as convolutions (MLX's approach), so
// that they differentiate again. Per spatial dimension, with stride S,
// padding lo, kernel dilation Dk, input dilation Din, kernel K, input I and
// output O:
//   input:  the cotangent dilated by S, correlated with the kernel flipped
//           and its channels swapped within each group; stride Din.
//   weight: the input (batch and channels swapped) correlated with the
//           cotangent (likewise) as the kernel; stride Dk, kernel dilation S.
#include <numeric>

#include "uma/core/ops/conv.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/conv.h"

namespace uma {

namespace {

// (C, spatial..., N) from (N, spatial..., C): batch and channels swap.
array swap_batch_channels(const array& x, Stream s) {
  std::vector<int> axes(x.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes.front(), axes.back());
  return transpose(x, axes, s);
}

// x reversed along its spatial axes 1..nd.
array flip_spatial(const array& x, Stream s) {
  int nd = int(x.ndim()) - 2;
  Shape start(x.ndim(), 0), stop = x.shape(), step(x.ndim(), 1);
  for (int d = 1; d <= nd; ++d) {
    start[d] = x.shape(d) - 1;
    stop[d] = -x.shape(d) - 1;
    step[d] = -1;
  }
  return slice(x, start, stop, step, s);
}

}  // namespace

std::vector<array> Convolution::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const array& x = primals[0];
  const array& w = primals[1];
  const array& dy = cotangents[0];
  int nd = int(x.ndim()) - 2;
  int G = groups_;
  std::vector<array> grads;
  for (int arg : argnums) {
    if (arg == 0) {
      // (G * Cout_g, K..., Cin_g) -> (G * Cin_g, K..., Cout_g)
      Shape gs = w.shape();
      gs[0] /= G;
      gs.insert(gs.begin(), G);
      std::vector<int> axes{0, nd + 2};
      for (int d = 0; d < nd; ++d) axes.push_back(d + 2);
      axes.push_back(1);
      Shape ts = w.shape();
      ts[0] = G * w.shape(-1);
      ts.back() = w.shape(0) / G;
      array wt = reshape(transpose(reshape(w, gs, stream()), axes, stream()), ts, stream());
      std::vector<int> lo(nd), hi(nd);
      for (int d = 0; d < nd; ++d) {
        int K = w.shape(d + 1), I = x.shape(d + 1), O = dy.shape(d + 1);
        lo[d] = (K - 1) * kernel_dilation_[d] - padding_lo_[d];
        hi[d] = (I - 1) * input_dilation_[d] + padding_lo_[d] - (O - 1) * stride_[d];
      }
      // The kernel flipped as an array (it is small) rather than by the
      // primitive: the unflipped kernel's im2col copies whole runs.
      if (!flip_) wt = flip_spatial(wt, stream());
      grads.push_back(conv_general(dy, wt, input_dilation_, lo, hi, kernel_dilation_, stride_, G, false, stream()));
    } else {
      std::vector<int> lo(nd), hi(nd);
      for (int d = 0; d < nd; ++d) {
        int K = w.shape(d + 1), I = x.shape(d + 1), O = dy.shape(d + 1);
        lo[d] = padding_lo_[d];
        hi[d] = (K - 1) * kernel_dilation_[d] + (O - 1) * stride_[d] - (I - 1) * input_dilation_[d] - padding_lo_[d];
      }
      array xt = swap_batch_channels(x, stream()), dyt = swap_batch_channels(dy, stream());
      // (Cin_g, K..., Cout_g) per group -> (Cout_g, K..., Cin_g), stacked on the output channels.
      auto one = [&](const array& a, const array& b) {
        array r = conv_general(a, b, kernel_dilation_, lo, hi, stride_, input_dilation_, 1, false, stream());
        return swap_batch_channels(r, stream());
      };
      array dw = [&] {
        if (G == 1) return one(xt, dyt);
        std::vector<array> parts;
        int cin_g = int(x.shape(-1)) / G, cout_g = int(w.shape(0)) / G;
        for (int g = 0; g < G; ++g) {
          Shape xs(x.ndim(), 0), xe = xt.shape(), ys(x.ndim(), 0), ye = dyt.shape();
          xs[0] = g * cin_g, xe[0] = (g + 1) * cin_g;
          ys[0] = g * cout_g, ye[0] = (g + 1) * cout_g;
          parts.push_back(one(slice(xt, xs, xe, stream()), slice(dyt, ys, ye, stream())));
        }
        return concatenate(parts, 0, stream());
      }();
      grads.push_back(flip_ ? flip_spatial(dw, stream()) : dw);
    }
  }
  return grads;
}

// Linear in each input: d conv(x, w) = conv(dx, w) + conv(x, dw).
std::vector<array> Convolution::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  std::vector<array> terms;
  for (size_t i = 0; i < argnums.size(); ++i) {
    const array& a = argnums[i] == 0 ? tangents[i] : primals[0];
    const array& b = argnums[i] == 0 ? primals[1] : tangents[i];
    terms.push_back(conv_general(a, b, stride_, padding_lo_, padding_hi_, kernel_dilation_, input_dilation_, groups_,
                                 flip_, stream()));
  }
  return {terms.size() == 1 ? terms[0] : add(terms[0], terms[1], stream())};
}

}  // namespace uma
