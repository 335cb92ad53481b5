#include "uma/optim/rms.h"

#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::optim {

namespace {

void check(bool ok, const char* fn, const char* what, float v) {
  if (!ok) throw std::invalid_argument(std::string("[") + fn + "] " + what + ", got " + std::to_string(v));
}

}  // namespace

RMSprop::RMSprop(LearningRate learning_rate, float alpha, float eps)
    : Optimizer("RMSprop", std::move(learning_rate)), alpha_(decimal(alpha)), eps_(decimal(eps)) {
  check(alpha >= 0.0f, "RMSprop", "alpha must be >= 0", alpha);
  check(eps > 0.0f, "RMSprop", "eps must be > 0", eps);
}

Optimizer::Slots RMSprop::init_single(const array& param) const { return {{"v", zeros_like(param)}}; }

array RMSprop::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  array v = alpha_ * slots.at("v") + (1 - alpha_) * square(grad);
  slots.at("v") = v;
  return param - lr * grad / (sqrt(v) + eps_);
}

Adagrad::Adagrad(LearningRate learning_rate, float eps)
    : Optimizer("Adagrad", std::move(learning_rate)), eps_(decimal(eps)) {
  check(eps > 0.0f, "Adagrad", "eps must be > 0", eps);
}

Optimizer::Slots Adagrad::init_single(const array& param) const { return {{"v", zeros_like(param)}}; }

array Adagrad::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  array v = slots.at("v") + square(grad);
  slots.at("v") = v;
  return param - lr * grad / (sqrt(v) + eps_);
}

AdaDelta::AdaDelta(LearningRate learning_rate, float rho, float eps)
    : Optimizer("AdaDelta", std::move(learning_rate)), rho_(decimal(rho)), eps_(decimal(eps)) {
  check(rho >= 0.0f, "AdaDelta", "rho must be >= 0", rho);
  check(eps > 0.0f, "AdaDelta", "eps must be > 0", eps);
}

Optimizer::Slots AdaDelta::init_single(const array& param) const {
  return {{"v", zeros_like(param)}, {"u", zeros_like(param)}};
}

array AdaDelta::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  array v = rho_ * slots.at("v") + (1 - rho_) * square(grad);
  array d = sqrt(slots.at("u") + eps_) / sqrt(v + eps_) * grad;
  array u = rho_ * slots.at("u") + (1 - rho_) * square(d);
  slots.at("v") = v;
  slots.at("u") = u;
  return param - lr * d;
}

}  // namespace uma::optim
