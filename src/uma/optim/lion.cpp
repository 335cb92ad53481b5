#include "uma/optim/lion.h"

#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::optim {

Lion::Lion(LearningRate learning_rate, std::array<float, 2> betas, float weight_decay)
    : Optimizer("Lion", std::move(learning_rate)),
      b1_(decimal(betas[0])),
      b2_(decimal(betas[1])),
      weight_decay_(decimal(weight_decay)) {
  check_betas("Lion", betas);
}

Optimizer::Slots Lion::init_single(const array& param) const { return {{"m", zeros_like(param)}}; }

array Lion::apply_single(const array& grad, const array& param, Slots& slots) {
  auto lr = lr_as(grad.dtype());
  const array& m = slots.at("m");
  array c = b1_ * m + (1 - b1_) * grad;
  slots.at("m") = b2_ * m + (1 - b2_) * grad;
  array w = weight_decay_ > 0 ? (1.0 - lr * weight_decay_) * param : param;
  return w - lr * sign(c);
}

}  // namespace uma::optim
