// Primitives of the matmul family. Inputs arrive with equal batch shapes
// (broadcast views) and one floating dtype; the ops in ops/linalg.cpp see to it.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

// out (..., M, N) = a (..., M, K) @ b (..., K, N).
class Matmul : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums, const std::vector<array>& outputs) override;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;
  const char* name() const override { return "Matmul"; }
  bool is_equivalent(const Primitive& o) const override { return dynamic_cast<const Matmul*>(&o) != nullptr; }
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
};

// out = alpha * (a @ b) + beta * c, inputs (a, b, c) with c shaped like out.
class AddMM : public UnaryPrimitive {
 public:
  AddMM(Stream s, float alpha, float beta) : UnaryPrimitive(s), alpha_(alpha), beta_(beta) {}
  void eval_cpu(const std::vector<array>& inputs, array& out) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums, const std::vector<array>& outputs) override;
  const char* name() const override { return "AddMM"; }
  bool is_equivalent(const Primitive& o) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  float alpha() const { return alpha_; }
  float beta() const { return beta_; }

 private:
  float alpha_, beta_;
};

}  // namespace uma
