// Optimizers that scale by a running measure of squared gradients, as MLX's
// optim.RMSprop, Adagrad and AdaDelta (each equal to torch.optim's with its
// defaults of zero weight decay, no momentum, not centered).
//   RMSprop:  v = alpha v + (1 - alpha) g^2;  w = w - lr g / (sqrt(v) + eps)
//   Adagrad:  v = v + g^2;                    w = w - lr g / (sqrt(v) + eps)
//   AdaDelta: v = rho v + (1 - rho) g^2;  d = sqrt(u + eps) / sqrt(v + eps) g;
//             u = rho u + (1 - rho) d^2;  w = w - lr d
#pragma once

#include "uma/optim/optimizer.h"

namespace uma::optim {

class RMSprop : public Optimizer {
 public:
  RMSprop(LearningRate learning_rate, float alpha = 0.99f, float eps = 1e-8f);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"v"}; }

 private:
  double alpha_, eps_;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(LearningRate learning_rate, float eps = 1e-8f);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"v"}; }

 private:
  double eps_;
};

class AdaDelta : public Optimizer {
 public:
  AdaDelta(LearningRate learning_rate, float rho = 0.9f, float eps = 1e-6f);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"v", "u"}; }

 private:
  double rho_, eps_;
};

}  // namespace uma::optim
