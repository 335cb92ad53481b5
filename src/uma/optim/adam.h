// The Adam family, as MLX's optim.Adam, AdamW and Adamax. MLX's defaults
// differ from PyTorch's: no bias correction unless asked for.
//   Adam:   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//           w = w - lr m / (sqrt(v) + eps)
//           bias_correction: w = w - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   AdamW:  Adam applied to w (1 - lr weight_decay)
//   Adamax: m as Adam; v = max(b2 v, |g|);  w = w - lr m / (v + eps)
#pragma once

#include <array>

#include "uma/optim/optimizer.h"

namespace uma::optim {

class Adam : public Optimizer {
 public:
  Adam(LearningRate learning_rate, std::array<float, 2> betas = {0.9f, 0.999f}, float eps = 1e-8f,
       bool bias_correction = false);

 protected:
  Adam(std::string name, LearningRate learning_rate, std::array<float, 2> betas, float eps, bool bias_correction);
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override { return {"m", "v"}; }

  double b1_, b2_, eps_;
  bool bias_correction_;
};

class AdamW : public Adam {
 public:
  AdamW(LearningRate learning_rate, std::array<float, 2> betas = {0.9f, 0.999f}, float eps = 1e-8f,
        float weight_decay = 0.01f, bool bias_correction = false);

 protected:
  array apply_single(const array& grad, const array& param, Slots& slots) override;

 private:
  double weight_decay_;
};

class Adamax : public Adam {
 public:
  Adamax(LearningRate learning_rate, std::array<float, 2> betas = {0.9f, 0.999f}, float eps = 1e-8f);

 protected:
  array apply_single(const array& grad, const array& param, Slots& slots) override;
};

}  // namespace uma::optim
