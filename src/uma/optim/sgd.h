// SGD with momentum, dampening, Nesterov momentum and weight decay, as MLX's
// optim.SGD:
//   g' = g + weight_decay * w
//   v  = momentum * v + (1 - dampening) * g'     (momentum > 0)
//   w  = w - lr * (nesterov ? g' + momentum * v : v)    (or lr * g' without momentum)
// Unlike torch.optim.SGD, the first step dampens too (v starts at zero).
#pragma once

#include "uma/optim/optimizer.h"

namespace uma::optim {

class SGD : public Optimizer {
 public:
  SGD(LearningRate learning_rate, float momentum = 0.0f, float weight_decay = 0.0f, float dampening = 0.0f,
      bool nesterov = false);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"v"}; }

 private:
  double momentum_, weight_decay_, dampening_;
  bool nesterov_;
};

}  // namespace uma::optim
