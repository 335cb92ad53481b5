// Muon (Keller Jordan 2024, "Muon: An optimizer for hidden layers in neural
// networks"), as MLX's optim.Muon: SGD momentum whose update, for parameters
// of 2 or more dims, is orthogonalized by ns_steps of a quintic Newton-Schulz
// iteration (coefficients 3.4445, -4.7750, 2.0315) on the update reshaped to
// (shape[0], -1), and scaled by sqrt(max(1, rows / cols)) of its last two dims.
//   g' = g + weight_decay w;  v = momentum v + (1 - momentum) g'
//   u  = nesterov ? (1 - momentum) g' + momentum v : v
// Meant for hidden matrices: give embeddings, the head and 0-/1-d parameters
// another optimizer (MultiOptimizer).
#pragma once

#include "uma/optim/optimizer.h"

namespace uma::optim {

class Muon : public Optimizer {
 public:
  Muon(LearningRate learning_rate, float momentum = 0.95f, float weight_decay = 0.01f, bool nesterov = true,
       int ns_steps = 5);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"v"}; }

 private:
  double momentum_, weight_decay_;
  bool nesterov_;
  int ns_steps_;
};

// The Newton-Schulz orthogonalization Muon applies to a 2-d x (about U V^T
// of x's SVD, singular values pushed into roughly [0.7, 1.2]).
array newton_schulz5(const array& x, int steps);

}  // namespace uma::optim
