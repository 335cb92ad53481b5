// GroupNorm, BatchNorm and InstanceNorm as mlx.nn's (channels last: the
// feature axis is the last). RMSNorm and LayerNorm live in layers.h.
#pragma once

#include <optional>

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

// Normalizes each of `num_groups` groups of features over the spatial axes
// and the group. MLX's default (pytorch_compatible = false) splits the
// features as (dims / num_groups, num_groups), so a group is every
// num_groups-th feature; pytorch_compatible groups consecutive features as
// PyTorch does. x: (N, ..., dims). affine: weight 1, bias 0 of (dims).
class GroupNorm : public Module {
 public:
  GroupNorm(int num_groups, int dims, float eps = 1e-5f, bool affine = true, bool pytorch_compatible = false);
  array operator()(const array& x) const;

  std::optional<array> weight, bias;

 private:
  int num_groups_, dims_;
  float eps_;
  bool pytorch_compatible_;
};

// Batch normalization over every axis but the last, x: (N, C), (N, L, C)
// or (N, H, W, C). With track_running_stats, running_mean (0) and
// running_var (1) are frozen parameters (saved, loaded, never trained):
// training mode normalizes with the batch's statistics and moves the
// running ones by `momentum` (the unbiased variance, as MLX and PyTorch);
// eval mode normalizes with the running ones.
class BatchNorm : public Module {
 public:
  BatchNorm(int num_features, float eps = 1e-5f, float momentum = 0.1f, bool affine = true,
            bool track_running_stats = true);
  // Not const: in training mode it updates the running statistics.
  array operator()(const array& x);

  std::optional<array> weight, bias;
  std::optional<array> running_mean, running_var;

 private:
  int num_features_;
  float eps_, momentum_;
};

// Normalizes each channel of each sample over the spatial axes, x:
// (N, ..., C) with at least one spatial axis. affine (default off): weight 1,
// bias 0 of (dims).
class InstanceNorm : public Module {
 public:
  InstanceNorm(int dims, float eps = 1e-5f, bool affine = false);
  array operator()(const array& x) const;

  std::optional<array> weight, bias;

 private:
  int dims_;
  float eps_;
};

}  // namespace uma::nn
