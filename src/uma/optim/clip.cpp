#include "uma/optim/clip.h"

#include <stdexcept>
#include <string>

#include "uma/core/ops.h"

namespace uma::optim {

std::pair<Params, array> clip_grad_norm(const Params& grads, float max_norm) {
  if (!(max_norm >= 0.0f))
    throw std::invalid_argument("[clip_grad_norm] max_norm must be >= 0, got " + std::to_string(max_norm));
  // MLX folds from the Python float 0.0, which takes the gradients' dtype.
  std::optional<array> norm_sq;
  for (auto& [k, g] : grads) {
    array s = sum(square(g));
    norm_sq = norm_sq ? *norm_sq + s : 0.0 + s;
  }
  array total = sqrt(norm_sq ? *norm_sq : array(0.0f));
  array ratio = decimal(max_norm) / (total + 1e-6);
  array normalizer = minimum(ratio, weak_scalar(1.0, ratio));
  Params out;
  for (auto& [k, g] : grads) out.emplace(k, g * normalizer);
  return {out, total};
}

}  // namespace uma::optim
