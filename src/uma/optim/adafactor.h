// Adafactor (Shazeer & Stern 2018, "Adaptive Learning Rates with Sublinear
// Memory Cost"), as MLX's optim.Adafactor. Parameters of 2 or more dims keep
// the second moment factored, as row and column means of g^2 + eps1 over the
// last two axes; the update is clipped to RMS <= clip_threshold. With
// relative_step the rate is min(1e-2, 1/sqrt(t)) (min(1e-6 t, 1/sqrt(t)) with
// warmup_init) and learning_rate is ignored; with scale_parameter it is
// multiplied by max(eps2, RMS(w)). beta2 = 1 - t^decay_rate.
#pragma once

#include <array>
#include <optional>

#include "uma/optim/optimizer.h"

namespace uma::optim {

class Adafactor : public Optimizer {
 public:
  // A learning rate is needed unless relative_step.
  Adafactor(std::optional<LearningRate> learning_rate = std::nullopt, std::array<float, 2> eps = {1e-30f, 1e-3f},
            float clip_threshold = 1.0f, float decay_rate = -0.8f, std::optional<float> beta_1 = std::nullopt,
            float weight_decay = 0.0f, bool scale_parameter = true, bool relative_step = true,
            bool warmup_init = false);

 protected:
  Slots init_single(const array& param) const override;
  array apply_single(const array& grad, const array& param, Slots& slots) override;
  std::set<std::string> slot_names() const override {
    return {"exp_avg_sq_row", "exp_avg_sq_col", "exp_avg_sq", "exp_avg"};
  }

 private:
  array step_size(const array& param_rms) const;

  double eps1_, eps2_, clip_threshold_, decay_rate_;
  std::optional<double> beta_1_;
  double weight_decay_;
  bool scale_parameter_, relative_step_, warmup_init_;
};

}  // namespace uma::optim
