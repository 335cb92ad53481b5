#include "uma/optim/muon.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "uma/core/linalg.h"
#include "uma/core/ops.h"

namespace uma::optim {

array newton_schulz5(const array& x_in, int steps) {
  if (x_in.ndim() != 2)
    throw std::invalid_argument("[newton_schulz5] expected a 2-d array, got " + std::to_string(x_in.ndim()) + " dims");
  const double a = 3.4445, b = -4.7750, c = 2.0315;
  // Iterate on the wide orientation, so X X^T is the smaller Gram matrix.
  bool tall = x_in.shape(0) > x_in.shape(1);
  array x = tall ? transpose(x_in) : x_in;
  x = x / (linalg::norm(x, std::nullopt, true) + 1e-7);
  for (int i = 0; i < steps; ++i) {
    array gram = matmul(x, transpose(x));
    array poly = addmm(b * gram, gram, gram, static_cast<float>(c), 1.0f);
    x = addmm(a * x, poly, x, 1.0f, 1.0f);
  }
  return tall ? transpose(x) : x;
}

Muon::Muon(LearningRate learning_rate, float momentum, float weight_decay, bool nesterov, int ns_steps)
    : Optimizer("Muon", std::move(learning_rate)),
      momentum_(decimal(momentum)),
      weight_decay_(decimal(weight_decay)),
      nesterov_(nesterov),
      ns_steps_(ns_steps) {
  if (ns_steps < 0) throw std::invalid_argument("[Muon] ns_steps must be >= 0, got " + std::to_string(ns_steps));
}

Optimizer::Slots Muon::init_single(const array& param) const { return {{"v", zeros_like(param)}}; }

array Muon::apply_single(const array& grad, const array& param, Slots& slots) {
  array g = weight_decay_ != 0 ? grad + weight_decay_ * param : grad;
  array v = momentum_ * slots.at("v");
  v = v + (1 - momentum_) * g;
  slots.at("v") = v;
  array update = nesterov_ ? g * (1 - momentum_) + v * momentum_ : v;
  array lr = lr_as(g.dtype());
  if (update.ndim() >= 2) {
    Shape shape = update.shape();
    int rows = shape[0];
    int cols = static_cast<int>(update.size() / std::max(rows, 1));
    update = reshape(newton_schulz5(reshape(update, {rows, cols}), ns_steps_), shape);
    lr = lr * std::sqrt(std::max(1.0, double(shape[shape.size() - 2]) / double(shape.back())));
  }
  return param - lr * update;
}

}  // namespace uma::optim
