// Primitives of the matmul family. Inputs arrive with equal batch shapes
// (broadcast views) and one floating dtype; the ops in ops/linalg.cpp see to it.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_LINALG_PRIMITIVES(X) X(Matmul) X(AddMM)

// out (..., M, N) = a (..., M, K) @ b (..., K, N).
class Matmul : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

// out = alpha * (a @ b) + beta * c, inputs (a, b, c) with c shaped like out.
class AddMM : public UnaryPrimitive {
 public:
  AddMM(Stream s, float alpha, float beta) : UnaryPrimitive(s), alpha_(alpha), beta_(beta) {}
  UMA_DECLARE_PRIMITIVE()
  float alpha() const { return alpha_; }
  float beta() const { return beta_; }

 private:
  float alpha_, beta_;
};

}  // namespace uma
