// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"),
// as MLX's optim.Lion:
//   c = b1 m + (1 - b1) g;  m = b2 m + (1 - b2) g
//   w = w (1 - lr weight_decay) - lr sign(c)
// Its updates have unit magnitude per element: use a rate 3-10x below AdamW's.
#pragma once

#include <array>

#include "uma/optim/optimizer.h"

namespace uma::optim {

class Lion : public Optimizer {
 public:
  Lion(LearningRate learning_rate, std::array<float, 2> betas = {0.9f, 0.99f}, float weight_decay = 0.0f);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"m"}; }

 private:
  double b1_, b2_, weight_decay_;
};

}  // namespace uma::optim
