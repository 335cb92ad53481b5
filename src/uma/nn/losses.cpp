#include "uma/nn/losses.h"

#include <cmath>
#include <sstream>

#include "uma/core/linalg.h"
#include "uma/core/utils.h"

namespace uma::nn {

namespace {

// Checked before anything is built, so that a bad name fails fast.
void check_reduction(const std::string& reduction, const char* op) {
  if (reduction != "none" && reduction != "mean" && reduction != "sum") {
    throw std::invalid_argument(std::string("[") + op + "] reduction must be none, mean or sum; got '" + reduction +
                                "'");
  }
}

array reduce(const array& loss, const std::string& reduction) {
  if (reduction == "mean") return mean(loss);
  if (reduction == "sum") return sum(loss);
  return loss;
}

void check_same_shape(const array& a, const char* a_name, const array& b, const char* b_name, const char* op) {
  if (a.shape() != b.shape()) {
    throw std::invalid_argument(std::string("[") + op + "] " + a_name + " shape " + shape_str(a.shape()) +
                                " does not match " + b_name + " shape " + shape_str(b.shape()));
  }
}

array apply_weights(const array& loss, const std::optional<array>& weights, const char* op) {
  if (!weights) return loss;
  if (weights->shape() != loss.shape()) {
    throw std::invalid_argument(std::string("[") + op + "] weights shape " + shape_str(weights->shape()) +
                                " is not the loss shape " + shape_str(loss.shape()));
  }
  return loss * *weights;
}

// logits[..., targets[...], ...] along `axis` (targets shaped like logits
// without that axis).
array pick(const array& logits, const array& targets, int axis) {
  return squeeze(take_along_axis(logits, expand_dims(targets, axis), axis), axis);
}

Shape drop_axis(Shape s, int axis) {
  s.erase(s.begin() + axis);
  return s;
}

}  // namespace

array cross_entropy(const array& logits, const array& targets, const std::optional<array>& weights, int axis,
                    double label_smoothing, const std::string& reduction) {
  check_reduction(reduction, "cross_entropy");
  if (!(label_smoothing >= 0.0 && label_smoothing < 1.0)) {
    throw std::invalid_argument("[cross_entropy] label_smoothing must be in [0, 1), got " +
                                std::to_string(label_smoothing));
  }
  int ax = normalize_axis(axis, logits.ndim(), "cross_entropy");
  bool as_probs = targets.ndim() == logits.ndim();
  if ((as_probs && targets.shape() != logits.shape()) ||
      (!as_probs && targets.shape() != drop_axis(logits.shape(), ax))) {
    throw std::invalid_argument("[cross_entropy] targets shape " + shape_str(targets.shape()) +
                                " does not match logits shape " + shape_str(logits.shape()) + " (class axis " +
                                std::to_string(axis) + ")");
  }
  array loss(0.0f);
  if (as_probs) {
    // Probabilities need not sum to one, so the shift by the max is part of
    // the value here (as MLX's): lse(x - m) - sum((x - m) t). Unlike MLX the
    // shift keeps its gradient, which is then the loss's true derivative
    // (the two agree when the targets sum to one).
    array shifted = logits - max(logits, ax, true);
    array score = sum(shifted * targets, ax);
    array lse = logsumexp(shifted, ax);
    loss = label_smoothing > 0 ? lse - (1.0 - label_smoothing) * score - label_smoothing * mean(shifted, ax)
                               : lse - score;
  } else {
    if (!is_integral(targets.dtype())) {
      std::ostringstream os;
      os << "[cross_entropy] class-index targets must be integers, got " << targets.dtype()
         << " (probability targets are shaped like the logits)";
      throw std::invalid_argument(os.str());
    }
    array lse = logsumexp(logits, ax);
    array score = pick(logits, targets, ax);
    loss = label_smoothing > 0 ? lse - (1.0 - label_smoothing) * score - label_smoothing * mean(logits, ax)
                               : lse - score;
  }
  return reduce(apply_weights(loss, weights, "cross_entropy"), reduction);
}

array binary_cross_entropy(const array& inputs, const array& targets, const std::optional<array>& weights,
                           bool with_logits, const std::string& reduction) {
  check_reduction(reduction, "binary_cross_entropy");
  check_same_shape(inputs, "inputs", targets, "targets", "binary_cross_entropy");
  array loss(0.0f);
  if (with_logits) {
    loss = logaddexp(zeros_like(inputs), inputs) - inputs * targets;
  } else {
    array floor = weak_scalar(-100.0, inputs);
    array log_p = maximum(log(inputs), floor);
    array log_q = maximum(log(1.0 - inputs), floor);
    loss = -(targets * log_p + (1.0 - targets) * log_q);
  }
  return reduce(apply_weights(loss, weights, "binary_cross_entropy"), reduction);
}

array l1_loss(const array& predictions, const array& targets, const std::string& reduction) {
  check_reduction(reduction, "l1_loss");
  check_same_shape(predictions, "predictions", targets, "targets", "l1_loss");
  return reduce(abs(predictions - targets), reduction);
}

array mse_loss(const array& predictions, const array& targets, const std::string& reduction) {
  check_reduction(reduction, "mse_loss");
  check_same_shape(predictions, "predictions", targets, "targets", "mse_loss");
  return reduce(square(predictions - targets), reduction);
}

array nll_loss(const array& inputs, const array& targets, int axis, const std::string& reduction) {
  check_reduction(reduction, "nll_loss");
  int ax = normalize_axis(axis, inputs.ndim(), "nll_loss");
  if (targets.shape() != drop_axis(inputs.shape(), ax) || !is_integral(targets.dtype())) {
    throw std::invalid_argument("[nll_loss] targets must be integers of shape " +
                                shape_str(drop_axis(inputs.shape(), ax)) + " (inputs " + shape_str(inputs.shape()) +
                                " without axis " + std::to_string(axis) + "), got shape " +
                                shape_str(targets.shape()));
  }
  return reduce(-pick(inputs, targets, ax), reduction);
}

array gaussian_nll_loss(const array& inputs, const array& targets, const array& vars, bool full, double eps,
                        const std::string& reduction) {
  check_reduction(reduction, "gaussian_nll_loss");
  check_same_shape(inputs, "inputs", targets, "targets", "gaussian_nll_loss");
  check_same_shape(inputs, "inputs", vars, "vars", "gaussian_nll_loss");
  array v = maximum(vars, weak_scalar(eps, vars));
  array loss = 0.5 * (log(v) + square(targets - inputs) / v);
  if (full) loss = loss + 0.5 * std::log(2 * M_PI);
  return reduce(loss, reduction);
}

array kl_div_loss(const array& inputs, const array& targets, int axis, const std::string& reduction) {
  check_reduction(reduction, "kl_div_loss");
  return reduce(sum(exp(targets) * (targets - inputs), axis), reduction);
}

array smooth_l1_loss(const array& predictions, const array& targets, double beta, const std::string& reduction) {
  check_reduction(reduction, "smooth_l1_loss");
  check_same_shape(predictions, "predictions", targets, "targets", "smooth_l1_loss");
  array diff = abs(predictions - targets);
  array loss = where(diff < beta, 0.5 * square(diff) / beta, diff - 0.5 * beta);
  return reduce(loss, reduction);
}

array triplet_loss(const array& anchors, const array& positives, const array& negatives, int axis, int p,
                   double margin, double eps, const std::string& reduction) {
  check_reduction(reduction, "triplet_loss");
  check_same_shape(anchors, "anchors", positives, "positives", "triplet_loss");
  check_same_shape(anchors, "anchors", negatives, "negatives", "triplet_loss");
  if (p < 1) throw std::invalid_argument("[triplet_loss] p must be at least 1, got " + std::to_string(p));
  auto distance = [&](const array& other) {
    array d = abs(anchors - other);
    array powered = p == 1 ? d : p == 2 ? square(d) : power(d, weak_scalar(p, d));
    array s = sum(powered, axis) + eps;
    return p == 1 ? s : p == 2 ? sqrt(s) : power(s, weak_scalar(1.0 / p, s));
  };
  array loss = distance(positives) - distance(negatives) + margin;
  return reduce(maximum(loss, zeros_like(loss)), reduction);
}

array hinge_loss(const array& inputs, const array& targets, const std::string& reduction) {
  check_reduction(reduction, "hinge_loss");
  array loss = 1.0 - inputs * targets;
  return reduce(maximum(loss, zeros_like(loss)), reduction);
}

array huber_loss(const array& inputs, const array& targets, double delta, const std::string& reduction) {
  check_reduction(reduction, "huber_loss");
  array abs_errors = abs(inputs - targets);
  array quadratic = minimum(abs_errors, weak_scalar(delta, abs_errors));
  array linear = abs_errors - quadratic;
  return reduce(0.5 * square(quadratic) + delta * linear, reduction);
}

array log_cosh_loss(const array& inputs, const array& targets, const std::string& reduction) {
  check_reduction(reduction, "log_cosh_loss");
  array errors = inputs - targets;
  return reduce(logaddexp(errors, -errors) - std::log(2.0), reduction);
}

array cosine_similarity_loss(const array& x1, const array& x2, int axis, double eps, const std::string& reduction) {
  check_reduction(reduction, "cosine_similarity_loss");
  check_same_shape(x1, "x1", x2, "x2", "cosine_similarity_loss");
  array n1 = linalg::norm(x1, axis), n2 = linalg::norm(x2, axis);
  array denom = n1 * n2;
  array loss = sum(x1 * x2, axis) / maximum(denom, weak_scalar(eps, denom));
  return reduce(loss, reduction);
}

array margin_ranking_loss(const array& inputs1, const array& inputs2, const array& targets, double margin,
                          const std::string& reduction) {
  check_reduction(reduction, "margin_ranking_loss");
  check_same_shape(inputs1, "inputs1", inputs2, "inputs2", "margin_ranking_loss");
  check_same_shape(inputs1, "inputs1", targets, "targets", "margin_ranking_loss");
  array loss = -targets * (inputs1 - inputs2) + margin;
  return reduce(maximum(loss, zeros_like(loss)), reduction);
}

}  // namespace uma::nn
