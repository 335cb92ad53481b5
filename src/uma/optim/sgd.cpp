#include "uma/optim/sgd.h"

#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::optim {

SGD::SGD(LearningRate learning_rate, float momentum, float weight_decay, float dampening, bool nesterov)
    : Optimizer("SGD", std::move(learning_rate)),
      momentum_(decimal(momentum)),
      weight_decay_(decimal(weight_decay)),
      dampening_(decimal(dampening)),
      nesterov_(nesterov) {
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw std::invalid_argument("[SGD] Nesterov momentum requires a momentum > 0 and zero dampening, got momentum " +
                                std::to_string(momentum) + ", dampening " + std::to_string(dampening));
}

Optimizer::Slots SGD::init_single(const array& param) const { return {{"v", zeros_like(param)}}; }

array SGD::apply_single(const array& grad, const array& param, Slots& slots) {
  array g = grad;
  if (weight_decay_ != 0) g = g + weight_decay_ * param;
  auto lr = lr_as(g.dtype());
  // MLX keeps (and never updates) the zero slot when there is no momentum.
  if (momentum_ <= 0) return param - lr * g;
  array v = momentum_ * slots.at("v");
  v = dampening_ > 0 ? v + (1 - dampening_) * g : v + g;
  slots.at("v") = v;
  return param - lr * (nesterov_ ? g + momentum_ * v : v);
}

}  // namespace uma::optim
