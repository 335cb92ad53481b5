// Primitives of the transforms themselves: CustomTransforms carries a
// function's outputs together with the rules that replace tracing it
// (custom_function, checkpoint), and Depends ties arrays to others that must
// be computed first. Both pass their first inputs through unchanged.
#pragma once

#include <functional>

#include "uma/core/primitive.h"

namespace uma {

#define UMA_CUSTOM_MULTI_PRIMITIVES(X) X(CustomTransforms) X(Depends)

// inputs: the function's outputs (num_outputs), then its primals.
// outputs: the function's outputs.
class CustomTransforms : public Primitive {
 public:
  using VjpFn = std::function<std::vector<array>(const std::vector<array>&, const std::vector<array>&,
                                                 const std::vector<array>&)>;
  using JvpFn = std::function<std::vector<array>(const std::vector<array>&, const std::vector<array>&,
                                                 const std::vector<int>&)>;
  using VmapFn = std::function<std::pair<std::vector<array>, std::vector<int>>(const std::vector<array>&,
                                                                               const std::vector<int>&)>;
  using Fn = std::function<std::vector<array>(const std::vector<array>&)>;
  CustomTransforms(Stream s, int num_outputs, Fn fun, VjpFn vjp, JvpFn jvp, VmapFn vmap)
      : Primitive(s),
        num_outputs_(num_outputs),
        fun_(std::move(fun)),
        vjp_(std::move(vjp)),
        jvp_(std::move(jvp)),
        vmap_(std::move(vmap)) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  bool is_differentiable_input(int i) const override;

 private:
  int num_outputs_;
  Fn fun_;
  VjpFn vjp_;
  JvpFn jvp_;
  VmapFn vmap_;
};

// inputs: the arrays passed through (num_outputs), then the dependencies.
class Depends : public Primitive {
 public:
  Depends(Stream s, int num_outputs) : Primitive(s), num_outputs_(num_outputs) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  bool is_differentiable_input(int i) const override;

 private:
  int num_outputs_;
};

}  // namespace uma
