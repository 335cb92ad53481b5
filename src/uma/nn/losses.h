// Losses as mlx.nn.losses has them: the same formulas, arguments and
// defaults (the default `reduction` differs per loss, as in MLX). Every loss
// is made of differentiable ops. `reduction` is "none" (the loss per
// element), "mean" or "sum" (a scalar); anything else throws.
#pragma once

#include <optional>
#include <string>

#include "uma/core/ops.h"

namespace uma::nn {

// Cross entropy of unnormalized `logits` along `axis`. `targets` are either
// class indices (an integer array shaped like logits without `axis`) or
// probabilities (shaped like logits). `weights`, shaped like the per-element
// loss, multiply it: zeros mask positions out (an ignore mask); note that
// "mean" then still divides by every position, as MLX's does, so a masked
// mean is sum(loss * mask) / sum(mask). label_smoothing in [0, 1).
//
// For class indices it is logsumexp(logits) - take_along_axis(logits,
// targets): no one-hot and no shifted copy of (B, T, V) logits is made, so it
// is the cheap form a language-model trainer wants. (MLX shifts by the max
// first; the loss is shift-invariant, so only rounding differs, and only for
// logits of huge magnitude.)
array cross_entropy(const array& logits, const array& targets, const std::optional<array>& weights = std::nullopt,
                    int axis = -1, double label_smoothing = 0.0, const std::string& reduction = "none");

// Binary cross entropy; with_logits: log(1 + e^x) - x y (stable), else
// probabilities with the logs clipped at -100, as MLX and PyTorch do.
array binary_cross_entropy(const array& inputs, const array& targets,
                           const std::optional<array>& weights = std::nullopt, bool with_logits = true,
                           const std::string& reduction = "mean");

array l1_loss(const array& predictions, const array& targets, const std::string& reduction = "mean");
array mse_loss(const array& predictions, const array& targets, const std::string& reduction = "mean");

// -inputs[target] along `axis`; inputs are log-probabilities.
array nll_loss(const array& inputs, const array& targets, int axis = -1, const std::string& reduction = "none");

// 0.5 (log(max(vars, eps)) + (targets - inputs)^2 / max(vars, eps)), plus
// 0.5 log(2 pi) when `full`.
array gaussian_nll_loss(const array& inputs, const array& targets, const array& vars, bool full = false,
                        double eps = 1e-6, const std::string& reduction = "mean");

// sum(exp(targets) (targets - inputs), axis): both are log-probabilities.
array kl_div_loss(const array& inputs, const array& targets, int axis = -1, const std::string& reduction = "none");

// |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta.
array smooth_l1_loss(const array& predictions, const array& targets, double beta = 1.0,
                     const std::string& reduction = "mean");

// max(||a - p||_p - ||a - n||_p + margin, 0) along `axis`, each norm
// (sum |d|^p + eps)^(1/p).
array triplet_loss(const array& anchors, const array& positives, const array& negatives, int axis = -1, int p = 2,
                   double margin = 1.0, double eps = 1e-6, const std::string& reduction = "none");

array hinge_loss(const array& inputs, const array& targets, const std::string& reduction = "none");  // max(0, 1 - x y)

// 0.5 min(|d|, delta)^2 + delta (|d| - min(|d|, delta)).
array huber_loss(const array& inputs, const array& targets, double delta = 1.0,
                 const std::string& reduction = "none");

// log(cosh(d)), as logaddexp(d, -d) - log 2 (no overflow).
array log_cosh_loss(const array& inputs, const array& targets, const std::string& reduction = "none");

// x1 . x2 / max(||x1|| ||x2||, eps) along `axis` (1 by default, as MLX).
array cosine_similarity_loss(const array& x1, const array& x2, int axis = 1, double eps = 1e-8,
                             const std::string& reduction = "none");

// max(0, -y (x1 - x2) + margin); all three of one shape.
array margin_ranking_loss(const array& inputs1, const array& inputs2, const array& targets, double margin = 0.0,
                          const std::string& reduction = "none");

}  // namespace uma::nn
