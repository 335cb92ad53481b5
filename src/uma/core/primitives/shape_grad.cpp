// Gradient rules of the view, copy and creation primitives, written with ops
// so that they differentiate again. Every one of them is linear in its
// input: jvp applies the primitive to the tangent, vjp applies its adjoint
// (a reshape back, the inverse permutation, a sum over broadcast axes, a
// scatter-add of the strided view, a slice update into zeros).
// View reinterprets bits and has no rule (see missing_grad.cpp).
#include <cassert>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/primitives/shape.h"

namespace uma {

// ------------------------------------------------------------ Reshape

std::vector<array> Reshape::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                const std::vector<int>&, const std::vector<array>&) {
  return {reshape(cotangents[0], primals[0].shape(), stream())};
}

std::vector<array> Reshape::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  return {reshape(tangents[0], shape_, stream())};
}

// ------------------------------------------------------------ Transpose

std::vector<array> Transpose::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>&) {
  std::vector<int> inverse(axes_.size());
  for (size_t i = 0; i < axes_.size(); ++i) inverse[axes_[i]] = int(i);
  return {transpose(cotangents[0], inverse, stream())};
}

std::vector<array> Transpose::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {transpose(tangents[0], axes_, stream())};
}

// ------------------------------------------------------------ Broadcast

// Sums the cotangent over the axes the broadcast added (leading) or stretched
// (size 1 in the input).
std::vector<array> Broadcast::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>&) {
  const array& in = primals[0];
  const array& cot = cotangents[0];
  int lead = int(cot.ndim()) - int(in.ndim());
  // A leading axis of size 1 needs no sum (only the reshape): matmul
  // broadcasts a weight to (1, K, N) for a batch of one, and a reduction
  // over that axis would be a full pass over the weight's gradient.
  std::vector<int> axes;
  for (int i = 0; i < lead; ++i) {
    if (cot.shape(i) != 1) axes.push_back(i);
  }
  for (int i = lead; i < int(cot.ndim()); ++i) {
    if (in.shape(i - lead) != cot.shape(i)) axes.push_back(i);
  }
  array g = axes.empty() ? cot : sum(cot, axes, true, stream());
  return {reshape(astype(g, cot.dtype(), stream()), in.shape(), stream())};
}

std::vector<array> Broadcast::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {broadcast_to(tangents[0], shape_, stream())};
}

// ------------------------------------------------------------ AsStrided

// The view reads element idx of the (row-major) input, idx =
// as_strided(arange(n)); the adjoint adds each cotangent back at its idx
// (an element read twice gets both).
std::vector<array> AsStrided::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>&) {
  const array& in = primals[0];
  const array& cot = cotangents[0];
  int32_t n = int32_t(in.size()), m = int32_t(cot.size());
  array idx = reshape(as_strided(arange(0, n, 1, stream()), shape_, strides_, offset_, stream()), {m}, stream());
  array g = scatter_add_axis(zeros({n}, cot.dtype(), stream()), idx, reshape(cot, {m}, stream()), 0, stream());
  return {reshape(g, in.shape(), stream())};
}

std::vector<array> AsStrided::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  return {as_strided(tangents[0], shape_, strides_, offset_, stream())};
}

// ------------------------------------------------------------ Slice
// start_/stop_ are normalized (a negative step's stop may be -1), so the
// rules build Slice / SliceUpdate nodes directly rather than re-parsing.

std::vector<array> Slice::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                              const std::vector<int>&, const std::vector<array>&) {
  const array& cot = cotangents[0];
  array z = zeros(primals[0].shape(), cot.dtype(), stream());
  return {array(z.shape(), cot.dtype(), std::make_shared<SliceUpdate>(stream(), start_, stop_, step_), {z, cot})};
}

std::vector<array> Slice::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                              const std::vector<int>&) {
  const array& t = tangents[0];
  Shape out = output_shapes(primals)[0];
  return {array(out, t.dtype(), std::make_shared<Slice>(stream(), start_, stop_, step_), {t})};
}

// ------------------------------------------------------------ AsType, Copy
// A cast passes the gradient through, cast back (MLX's rule, also for casts
// to integers and back).

std::vector<array> AsType::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                               const std::vector<int>&, const std::vector<array>&) {
  return {astype(cotangents[0], primals[0].dtype(), stream())};
}

std::vector<array> AsType::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                               const std::vector<int>&) {
  return {astype(tangents[0], dtype_, stream())};
}

std::vector<array> Copy::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  return {cotangents[0]};
}

std::vector<array> Copy::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  return {tangents[0]};
}

// ------------------------------------------------------------ Full, Arange

// Every output element is the one input value: its cotangent is the total.
std::vector<array> Full::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  const array& cot = cotangents[0];
  array total = cot.ndim() == 0 ? cot : sum(cot, false, stream());
  return {reshape(astype(total, primals[0].dtype(), stream()), primals[0].shape(), stream())};
}

std::vector<array> Full::jvp(const std::vector<array>&, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  return {full(shape_, tangents[0], stream())};
}

// Arange has no inputs, so the transforms never reach these; they are the
// trivial rules rather than missing ones.
std::vector<array> Arange::vjp(const std::vector<array>&, const std::vector<array>&, const std::vector<int>& argnums,
                               const std::vector<array>&) {
  assert(argnums.empty());
  (void)argnums;
  return {};
}

std::vector<array> Arange::jvp(const std::vector<array>& primals, const std::vector<array>&,
                               const std::vector<int>&) {
  return {zeros(output_shapes(primals)[0], float32, stream())};
}

}  // namespace uma
