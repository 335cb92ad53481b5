// Names, shapes and gradient rules of CustomTransforms and Depends. Their
// vmap rules are with the vmap transform (transforms/vmap.cpp).
#include "uma/core/primitives/custom.h"

#include "uma/core/ops/creation.h"
#include "uma/core/transforms.h"

namespace uma {

UMA_CUSTOM_MULTI_PRIMITIVES(UMA_PRIMITIVE_NAME)

// Custom rules are opaque functions: two instances are never the same.
bool CustomTransforms::is_equivalent(const Primitive& o) const { return this == &o; }

std::vector<Shape> CustomTransforms::output_shapes(const std::vector<array>& inputs) {
  std::vector<Shape> shapes;
  for (int i = 0; i < num_outputs_; ++i) shapes.push_back(inputs[i].shape());
  return shapes;
}

bool CustomTransforms::is_differentiable_input(int i) const { return i >= num_outputs_; }

std::vector<array> CustomTransforms::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                         const std::vector<int>& argnums, const std::vector<array>& outputs) {
  std::vector<array> args(primals.begin() + num_outputs_, primals.end());
  std::vector<array> all;
  if (vjp_) {
    all = vjp_(args, cotangents, outputs);
  } else {
    all = uma::vjp(fun_, args, cotangents).second;
  }
  if (all.size() != args.size()) {
    throw std::invalid_argument("[custom_function] the vjp returned " + std::to_string(all.size()) +
                                " cotangents for " + std::to_string(args.size()) + " primals");
  }
  std::vector<array> vjps;
  for (int i : argnums) {
    const array& c = all[i - num_outputs_];
    const array& p = primals[i];
    if (c.shape() != p.shape()) {
      throw std::invalid_argument("[custom_function] the vjp's cotangent of primal " + std::to_string(i - num_outputs_) +
                                  " does not have the primal's shape");
    }
    vjps.push_back(c);
  }
  return vjps;
}

std::vector<array> CustomTransforms::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                         const std::vector<int>& argnums) {
  std::vector<array> args(primals.begin() + num_outputs_, primals.end());
  std::vector<int> arg_ids;
  for (int i : argnums) arg_ids.push_back(i - num_outputs_);
  if (jvp_) return jvp_(args, tangents, arg_ids);
  // Trace fun with zero tangents for the primals not asked about.
  std::vector<array> all;
  for (auto& a : args) all.push_back(zeros_like(a));
  for (size_t k = 0; k < arg_ids.size(); ++k) all[arg_ids[k]] = tangents[k];
  return uma::jvp(fun_, args, all).second;
}

bool Depends::is_equivalent(const Primitive& o) const { return this == &o; }

std::vector<Shape> Depends::output_shapes(const std::vector<array>& inputs) {
  std::vector<Shape> shapes;
  for (int i = 0; i < num_outputs_; ++i) shapes.push_back(inputs[i].shape());
  return shapes;
}

bool Depends::is_differentiable_input(int i) const { return i < num_outputs_; }

std::vector<array> Depends::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  for (int i : argnums) vjps.push_back(cotangents[i]);
  return vjps;
}

std::vector<array> Depends::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                const std::vector<int>& argnums) {
  std::vector<array> out;
  for (int i = 0; i < num_outputs_; ++i) out.push_back(zeros_like(primals[i]));
  for (size_t k = 0; k < argnums.size(); ++k) out[argnums[k]] = tangents[k];
  return out;
}

}  // namespace uma
