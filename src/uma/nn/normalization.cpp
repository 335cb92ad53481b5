#include "uma/nn/normalization.h"

#include <numeric>

#include "uma/core/fast.h"
#include "uma/core/utils.h"

namespace uma::nn {

namespace {

void check_eps(const char* op, float eps) {
  if (!(eps > 0.0f)) throw std::invalid_argument(std::string("[") + op + "] eps must be positive, got " + std::to_string(eps));
}

void check_features(const char* op, const array& x, int dims, int min_ndim, int max_ndim = 64) {
  if (int(x.ndim()) < min_ndim || int(x.ndim()) > max_ndim || x.shape(-1) != dims) {
    throw std::invalid_argument(std::string("[") + op + "] expects input with " + std::to_string(min_ndim) +
                                (max_ndim < 64 ? " to " + std::to_string(max_ndim) : std::string(" or more")) +
                                " dimensions and " + std::to_string(dims) + " features last, got " +
                                shape_str(x.shape()));
  }
}

array affine(const array& x, const std::optional<array>& weight, const std::optional<array>& bias) {
  return weight ? add(multiply(*weight, x), *bias) : x;
}

}  // namespace

GroupNorm::GroupNorm(int num_groups, int dims, float eps, bool affine, bool pytorch_compatible)
    : num_groups_(num_groups), dims_(dims), eps_(eps), pytorch_compatible_(pytorch_compatible) {
  check_eps("GroupNorm", eps);
  if (num_groups <= 0 || dims <= 0 || dims % num_groups != 0) {
    throw std::invalid_argument("[GroupNorm] the number of features (" + std::to_string(dims) +
                                ") must be a positive multiple of the number of groups (" +
                                std::to_string(num_groups) + ")");
  }
  if (affine) {
    register_parameter("weight", weight, ones({dims}));
    register_parameter("bias", bias, zeros({dims}));
  }
}

array GroupNorm::operator()(const array& x) const {
  check_features("GroupNorm", x, dims_, 2);
  int batch = x.shape(0), g = num_groups_, gs = dims_ / num_groups_;
  array y = x;
  if (pytorch_compatible_) {
    // (B, rest, g, gs) -> (B, g, rest * gs): consecutive features form a group.
    y = transpose(reshape(x, {batch, -1, g, gs}), {0, 2, 1, 3});
    y = fast::layer_norm(reshape(y, {batch, g, -1}), std::nullopt, std::nullopt, eps_);
    y = transpose(reshape(y, {batch, g, -1, gs}), {0, 2, 1, 3});
  } else {
    // (B, rest * gs, g): features i and i + g share nothing; i and i + k g share a group.
    y = reshape(x, {batch, -1, g});
    array mu = mean(y, 1, true), v = var(y, 1, true);
    y = multiply(subtract(y, mu), rsqrt(add(v, array(eps_, v.dtype()))));
  }
  return affine(reshape(y, x.shape()), weight, bias);
}

BatchNorm::BatchNorm(int num_features, float eps, float momentum, bool affine, bool track_running_stats)
    : num_features_(num_features), eps_(eps), momentum_(momentum) {
  check_eps("BatchNorm", eps);
  if (num_features <= 0) {
    throw std::invalid_argument("[BatchNorm] num_features must be positive, got " + std::to_string(num_features));
  }
  if (affine) {
    register_parameter("weight", weight, ones({num_features}));
    register_parameter("bias", bias, zeros({num_features}));
  }
  if (track_running_stats) {
    running_mean = zeros({num_features});
    running_var = ones({num_features});
    register_buffer("running_mean", *running_mean);
    register_buffer("running_var", *running_var);
  }
}

array BatchNorm::operator()(const array& x) {
  check_features("BatchNorm", x, num_features_, 2, 4);
  std::vector<int> axes(x.ndim() - 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (training() && x.size() / size_t(num_features_) <= 1) {
    throw std::invalid_argument("[BatchNorm] training needs more than one value per channel, got input " +
                                shape_str(x.shape()));
  }
  array mu = mean(x, axes), v = var(x, axes);
  if (training() && running_mean) {
    array m(momentum_), keep(1.0f - momentum_);
    *running_mean = add(multiply(keep, *running_mean), multiply(m, mu));
    *running_var = add(multiply(keep, *running_var), multiply(m, var(x, axes, false, 1)));
  } else if (running_mean) {
    mu = *running_mean;
    v = *running_var;
  }
  array y = multiply(subtract(x, mu), rsqrt(add(v, array(eps_, v.dtype()))));
  return affine(y, weight, bias);
}

InstanceNorm::InstanceNorm(int dims, float eps, bool affine) : dims_(dims), eps_(eps) {
  check_eps("InstanceNorm", eps);
  if (affine) {
    register_parameter("weight", weight, ones({dims}));
    register_parameter("bias", bias, zeros({dims}));
  }
}

array InstanceNorm::operator()(const array& x) const {
  check_features("InstanceNorm", x, dims_, 3);
  // (N, spatial..., C) -> (N, C, spatial) normalized over the last axis.
  int batch = x.shape(0);
  array y = reshape(moveaxis(x, -1, 1), {batch, dims_, -1});
  y = fast::layer_norm(y, std::nullopt, std::nullopt, eps_);
  Shape cf{batch, dims_};
  cf.insert(cf.end(), x.shape().begin() + 1, x.shape().end() - 1);
  y = moveaxis(reshape(y, cf), 1, -1);
  return affine(y, weight, bias);
}

}  // namespace uma::nn
