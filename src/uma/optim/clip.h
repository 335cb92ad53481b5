// Gradient clipping by global norm, as mlx.optimizers.clip_grad_norm.
#pragma once

#include <utility>

#include "uma/optim/optimizer.h"

namespace uma::optim {

// Scales every gradient by min(max_norm / (norm + 1e-6), 1), where norm is
// the L2 norm of all of them together. Returns (clipped gradients, norm),
// lazily. max_norm must be >= 0.
std::pair<Params, array> clip_grad_norm(const Params& grads, float max_norm);

}  // namespace uma::optim
