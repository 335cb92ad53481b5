#include "uma/optim/adafactor.h"

#include <stdexcept>

#include "uma/core/ops.h"

namespace uma::optim {

namespace {

array rms(const array& x) { return sqrt(mean(square(x))); }

}  // namespace

Adafactor::Adafactor(std::optional<LearningRate> learning_rate, std::array<float, 2> eps, float clip_threshold,
                     float decay_rate, std::optional<float> beta_1, float weight_decay, bool scale_parameter,
                     bool relative_step, bool warmup_init)
    : Optimizer("Adafactor", std::move(learning_rate)),
      eps1_(decimal(eps[0])),
      eps2_(decimal(eps[1])),
      clip_threshold_(decimal(clip_threshold)),
      decay_rate_(decimal(decay_rate)),
      beta_1_(beta_1 ? std::optional<double>(decimal(*beta_1)) : std::nullopt),
      weight_decay_(decimal(weight_decay)),
      scale_parameter_(scale_parameter),
      relative_step_(relative_step),
      warmup_init_(warmup_init) {
  if (!relative_step && !has_learning_rate())
    throw std::invalid_argument("[Adafactor] relative_step=false needs a learning_rate");
  if (!(clip_threshold > 0.0f))
    throw std::invalid_argument("[Adafactor] clip_threshold must be > 0, got " + std::to_string(clip_threshold));
}

Optimizer::Slots Adafactor::init_single(const array& param) const {
  Slots s;
  if (param.ndim() >= 2) {
    Shape row(param.shape().begin(), param.shape().end() - 1);
    Shape col = row;
    col.back() = param.shape(-1);
    s.emplace("exp_avg_sq_row", zeros(row, param.dtype()));
    s.emplace("exp_avg_sq_col", zeros(col, param.dtype()));
  } else {
    s.emplace("exp_avg_sq", zeros_like(param));
  }
  if (beta_1_) s.emplace("exp_avg", zeros_like(param));
  return s;
}

array Adafactor::step_size(const array& param_rms) const {
  // As MLX: the step array is uint64, so these are float32 before the cast.
  array t(static_cast<float>(step_));
  array rel = relative_step_ ? minimum(warmup_init_ ? 1e-6 * t : array(1e-2f), rsqrt(t))
                             : lr_as(float32);
  rel = astype(rel, param_rms.dtype());
  return scale_parameter_ ? maximum(weak_scalar(eps2_, param_rms), param_rms) * rel : rel;
}

array Adafactor::apply_single(const array& grad, const array& param, Slots& slots) {
  array param_rms = rms(param);
  array lr = step_size(param_rms);
  array beta_2 = 1.0 - astype(power(array(static_cast<float>(step_)), array(static_cast<float>(decay_rate_))),
                              param_rms.dtype());
  array update = square(grad) + eps1_;
  if (grad.ndim() >= 2) {
    array row = beta_2 * slots.at("exp_avg_sq_row") + (1.0 - beta_2) * mean(update, -1);
    array col = beta_2 * slots.at("exp_avg_sq_col") + (1.0 - beta_2) * mean(update, -2);
    slots.at("exp_avg_sq_row") = row;
    slots.at("exp_avg_sq_col") = col;
    // v ~ outer(row, col) / mean(row): rsqrt of it as two factors.
    array r = rsqrt(row / mean(row, -1, true));
    array c = rsqrt(col);
    update = expand_dims(r, -1) * expand_dims(c, -2) * grad;
  } else {
    array v = beta_2 * slots.at("exp_avg_sq") + (1.0 - beta_2) * update;
    slots.at("exp_avg_sq") = v;
    update = rsqrt(v) * grad;
  }
  array clip_by = rms(update) / clip_threshold_;
  update = update / maximum(weak_scalar(1.0, clip_by), clip_by);
  update = lr * update;
  if (beta_1_) {
    array m = *beta_1_ * slots.at("exp_avg") + (1 - *beta_1_) * update;
    slots.at("exp_avg") = m;
    update = m;
  }
  array w = weight_decay_ != 0 ? param + param * (-weight_decay_ * lr) : param;
  return w - update;
}

}  // namespace uma::optim
