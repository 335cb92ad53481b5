// vmap rule of Convolution. A batched input folds its batch axis into N; a
// batched weight becomes more groups: the batch goes next to the channels of
// the input (broadcast there when unbatched) and in front of the weight's
// output channels, so that batch element b is the groups b*G .. b*G + G - 1.
#include "uma/core/ops/conv.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/conv.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Convolution::vmap(const std::vector<array>& inputs,
                                                                  const std::vector<int>& axes) {
  Stream s = stream();
  int B = detail::vmap_size(inputs, axes);
  auto conv = [&](const array& x, const array& w, int groups) {
    return conv_general(x, w, stride_, padding_lo_, padding_hi_, kernel_dilation_, input_dilation_, groups, flip_, s);
  };
  if (axes[1] < 0) {
    array x = detail::batch_to_front(inputs[0], axes[0], -1, s);  // (B, N, S..., C)
    Shape xs(x.shape().begin() + 1, x.shape().end());
    xs[0] *= B;
    array out = conv(reshape(x, xs, s), inputs[1], groups_);
    Shape os = out.shape();
    os[0] /= B;
    os.insert(os.begin(), B);
    return {{reshape(out, os, s)}, {0}};
  }
  array x = detail::batch_to_front(inputs[0], axes[0], B, s);  // (B, N, S..., Cin)
  array w = detail::batch_to_front(inputs[1], axes[1], -1, s);  // (B, Cout, K..., Cin_g)
  int nd = int(w.ndim()) - 3;
  int cin = x.shape(-1);
  x = moveaxis(x, 0, -2, s);  // (N, S..., B, Cin)
  Shape xs(x.shape().begin(), x.shape().end() - 1);
  xs.back() = B * cin;
  Shape ws(w.shape().begin() + 1, w.shape().end());
  ws[0] *= B;
  array out = conv(reshape(x, xs, s), reshape(w, ws, s), groups_ * B);  // (N, O..., B * Cout)
  Shape os = out.shape();
  os.back() /= B;
  os.insert(os.end() - 1, B);
  return {{reshape(out, os, s)}, {nd + 1}};
}

}  // namespace uma
