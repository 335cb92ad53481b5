// Upsample as mlx.nn's: x (N, spatial..., C) scaled by scale_factor per
// spatial dimension (out = int(scale * size)), mode "nearest", "linear"
// (linear/bilinear/trilinear) or "cubic" (a = -0.75, PyTorch's bicubic),
// with or without align_corners, or antialiased (linear and cubic, not with
// align_corners): downsampling widens the kernel to cover every input.
#pragma once

#include <string>
#include <vector>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

// One scale per spatial dimension.
array upsample_nearest(const array& x, const std::vector<float>& scale_factor);
array upsample_linear(const array& x, const std::vector<float>& scale_factor, bool align_corners = false,
                      bool antialias = false);
array upsample_cubic(const array& x, const std::vector<float>& scale_factor, bool align_corners = false,
                     bool antialias = false);

class Upsample : public Module {
 public:
  // One factor for every spatial dimension, or one per dimension.
  explicit Upsample(float scale_factor, const std::string& mode = "nearest", bool align_corners = false,
                    bool antialias = false);
  explicit Upsample(std::vector<float> scale_factor, const std::string& mode = "nearest", bool align_corners = false,
                    bool antialias = false);
  array operator()(const array& x) const;

 private:
  std::vector<float> scale_;
  std::string mode_;
  bool align_corners_, antialias_;
};

}  // namespace uma::nn
