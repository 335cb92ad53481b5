#include "uma/optim/adam.h"

#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::optim {

Adam::Adam(LearningRate learning_rate, std::array<float, 2> betas, float eps, bool bias_correction)
    : Adam("Adam", std::move(learning_rate), betas, eps, bias_correction) {}

Adam::Adam(std::string name, LearningRate learning_rate, std::array<float, 2> betas, float eps, bool bias_correction)
    : Optimizer(name, std::move(learning_rate)),
      b1_(decimal(betas[0])),
      b2_(decimal(betas[1])),
      eps_(decimal(eps)),
      bias_correction_(bias_correction) {
  check_betas(name, betas);
  if (!(eps >= 0.0f)) throw std::invalid_argument("[" + name + "] eps must be >= 0, got " + std::to_string(eps));
}

Optimizer::Slots Adam::init_single(const array& param) const {
  return {{"m", zeros_like(param)}, {"v", zeros_like(param)}};
}

array Adam::apply_single(const array& grad, const array& param, Slots& slots) {
  auto dt = grad.dtype();
  auto lr = lr_as(dt);
  array m = b1_ * slots.at("m") + (1 - b1_) * grad;
  array v = b2_ * slots.at("v") + (1 - b2_) * square(grad);
  slots.at("m") = m;
  slots.at("v") = v;
  if (!bias_correction_) return param - lr * m / (sqrt(v) + eps_);
  // As MLX: b^t in float32 (a Python float to the power of the step array).
  array t(static_cast<float>(step_));
  array c1 = astype(lr / (1.0 - power(array(static_cast<float>(b1_)), t)), dt);
  array c2 = astype(rsqrt(1.0 - power(array(static_cast<float>(b2_)), t)), dt);
  return param - (c1 * m) / (sqrt(v) * c2 + eps_);
}

AdamW::AdamW(LearningRate learning_rate, std::array<float, 2> betas, float eps, float weight_decay,
             bool bias_correction)
    : Adam("AdamW", std::move(learning_rate), betas, eps, bias_correction), weight_decay_(decimal(weight_decay)) {}

array AdamW::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  return Adam::apply_single(grad, param * (1.0 - lr * weight_decay_), slots);
}

Adamax::Adamax(LearningRate learning_rate, std::array<float, 2> betas, float eps)
    : Adam("Adamax", std::move(learning_rate), betas, eps, false) {}

array Adamax::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  array m = b1_ * slots.at("m") + (1 - b1_) * grad;
  array v = maximum(b2_ * slots.at("v"), abs(grad));
  slots.at("m") = m;
  slots.at("v") = v;
  return param - lr * m / (v + eps_);
}

}  // namespace uma::optim
