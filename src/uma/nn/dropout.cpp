#include "uma/nn/dropout.h"

#include <string>

namespace uma::nn {

Dropout::Dropout(float p) : Dropout(p, "Dropout", 0) {}

Dropout::Dropout(float p, const char* name, int channel_dims) : p_1_(1.0f - p), name_(name), channel_dims_(channel_dims) {
  if (!(p >= 0.0f && p < 1.0f)) {
    throw std::invalid_argument(std::string("[") + name + "] the dropout probability " + std::to_string(p) +
                                " is not in [0, 1)");
  }
}

array Dropout::operator()(const array& x) const {
  Shape mask_shape = x.shape();
  if (channel_dims_ > 0) {
    // (spatial..., C) with or without a batch axis in front.
    int nd = int(x.ndim());
    if (nd != channel_dims_ + 1 && nd != channel_dims_ + 2) {
      throw std::invalid_argument(std::string("[") + name_ + "] received input with " + std::to_string(nd) +
                                  " dimensions, expected " + std::to_string(channel_dims_ + 1) + " or " +
                                  std::to_string(channel_dims_ + 2));
    }
    for (int i = 0; i < channel_dims_; ++i) mask_shape[size_t(nd - 2 - i)] = 1;
  }
  if (p_1_ == 1.0f || !training()) return x;
  array mask = random::bernoulli(p_1_, mask_shape);
  return multiply(multiply(mask, x), array(1.0f / p_1_, x.dtype()));
}

}  // namespace uma::nn
