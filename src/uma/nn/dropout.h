// Dropout layers as mlx.nn's: in training mode each element (Dropout) or
// each whole channel (Dropout2d: (N, H, W, C) or (H, W, C); Dropout3d:
// (N, D, H, W, C) or (D, H, W, C)) is zeroed with probability p and the rest
// scaled by 1 / (1 - p); in eval mode, and for p = 0, the identity. Masks
// come from the default random key sequence (seed it with random::seed).
#pragma once

#include "uma/core/ops.h"
#include "uma/nn/module.h"

namespace uma::nn {

class Dropout : public Module {
 public:
  // p in [0, 1).
  explicit Dropout(float p = 0.5f);
  array operator()(const array& x) const;
  float p() const { return 1.0f - p_1_; }

 protected:
  Dropout(float p, const char* name, int channel_dims);

 private:
  float p_1_;  // keep probability
  const char* name_;
  int channel_dims_;  // spatial axes sharing one mask value (0: none)
};

class Dropout2d : public Dropout {
 public:
  explicit Dropout2d(float p = 0.5f) : Dropout(p, "Dropout2d", 2) {}
};

class Dropout3d : public Dropout {
 public:
  explicit Dropout3d(float p = 0.5f) : Dropout(p, "Dropout3d", 3) {}
};

}  // namespace uma::nn
