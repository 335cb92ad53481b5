// Names, equivalence, shapes and gradient rules of the indexing primitives.
// Gradients flow to the data inputs only; indices are not differentiable.
// Each rule is the exact adjoint of its primitive, out-of-range indices
// included, by pairing modes: a clamping gather's adjoint is a clamping
// scatter_add, a dropping scatter's is a zero-filling gather. One corner
// stays: with duplicate indices an assigning scatter passes the gradient to
// every duplicate, not only the write that won (as MLX).
// scatter_prod / scatter_max / scatter_min have no gradient yet (they need
// elementwise ops: masks and products).
#include "uma/core/primitives/indexing.h"

#include <algorithm>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/manipulation.h"  // detail::tangent_or_zeros

namespace uma {

UMA_PRIMITIVE_NAME(Gather)
UMA_PRIMITIVE_NAME(GatherAxis)

namespace {

void data_inputs_only(const std::vector<int>& argnums, const std::vector<int>& allowed, const char* prim) {
  for (int i : argnums) {
    if (std::find(allowed.begin(), allowed.end(), i) == allowed.end()) {
      throw std::invalid_argument(std::string("[") + prim + "] is not differentiable with respect to its indices");
    }
  }
}

}  // namespace

// ------------------------------------------------------------ Gather

bool Gather::is_equivalent(const Primitive& o) const {
  return same<Gather>(o, [&](const Gather& p) {
    return p.axes_ == axes_ && p.slice_sizes_ == slice_sizes_ && p.clamp_ == clamp_;
  });
}

// idx.shape + slice_sizes_ (no index arrays: slice_sizes_ alone).
std::vector<Shape> Gather::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs.size() > 1 ? inputs[1].shape() : Shape{};
  s.insert(s.end(), slice_sizes_.begin(), slice_sizes_.end());
  return {s};
}

std::vector<array> Gather::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  data_inputs_only(argnums, {0}, "Gather");
  const array& cot = cotangents[0];
  std::vector<array> inputs = primals;
  inputs[0] = zeros(primals[0].shape(), cot.dtype(), stream());
  inputs.push_back(cot);
  return {array(inputs[0].shape(), cot.dtype(), std::make_shared<Scatter>(stream(), ScatterReduce::sum, axes_, clamp_),
                inputs)};
}

std::vector<array> Gather::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  data_inputs_only(argnums, {0}, "Gather");
  std::vector<array> inputs = primals;
  inputs[0] = tangents[0];
  Shape shape = primals.size() > 1 ? primals[1].shape() : Shape{};
  shape.insert(shape.end(), slice_sizes_.begin(), slice_sizes_.end());
  return {array(shape, tangents[0].dtype(), std::make_shared<Gather>(stream(), axes_, slice_sizes_, clamp_), inputs)};
}

// ------------------------------------------------------------ Scatter

const char* Scatter::name() const {
  switch (reduce_) {
    case ScatterReduce::sum: return "ScatterAdd";
    case ScatterReduce::prod: return "ScatterProd";
    case ScatterReduce::max: return "ScatterMax";
    case ScatterReduce::min: return "ScatterMin";
    default: return "Scatter";
  }
}

bool Scatter::is_equivalent(const Primitive& o) const {
  return same<Scatter>(
      o, [&](const Scatter& p) { return p.reduce_ == reduce_ && p.axes_ == axes_ && p.clamp_ == clamp_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(Scatter)

std::vector<array> Scatter::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                const std::vector<int>& argnums, const std::vector<array>&) {
  if (reduce_ != ScatterReduce::none && reduce_ != ScatterReduce::sum) {
    throw not_implemented(std::string("[") + name() + "] has no vjp rule yet");
  }
  int last = int(primals.size()) - 1;
  data_inputs_only(argnums, {0, last}, name());
  const array& cot = cotangents[0];
  const array& upd = primals[last];
  std::vector<array> grads;
  for (int i : argnums) {
    std::vector<array> inputs = primals;
    inputs[0] = cot;
    if (i == 0 && reduce_ == ScatterReduce::sum) {
      grads.push_back(cot);
    } else if (i == 0) {
      // Overwritten positions get no gradient.
      inputs[last] = zeros(upd.shape(), cot.dtype(), stream());
      grads.push_back(
          array(cot.shape(), cot.dtype(), std::make_shared<Scatter>(stream(), reduce_, axes_, clamp_), inputs));
    } else {
      inputs.pop_back();
      size_t k = upd.ndim() - cot.ndim();
      Shape window(upd.shape().begin() + k, upd.shape().end());
      auto gather = std::make_shared<Gather>(stream(), axes_, window, clamp_);
      array g(upd.shape(), cot.dtype(), gather, inputs);
      if (reduce_ == ScatterReduce::none) {
        // Updates that write one position: the forward keeps the last (in
        // order), and only that one gets the cotangent. Each update's id,
        // scattered the same way and gathered back, says which one won.
        array ids = reshape(arange(0, int(upd.size()), 1, stream()), upd.shape(), stream());
        std::vector<array> scattered = primals;
        scattered[0] = full(cot.shape(), -1, int32, stream());
        scattered[last] = ids;
        inputs[0] = array(cot.shape(), int32, std::make_shared<Scatter>(stream(), reduce_, axes_, clamp_), scattered);
        array won = array(upd.shape(), int32, gather, inputs);
        g = where(equal(won, ids, stream()), g, zeros_like(g, stream()), stream());
      }
      grads.push_back(g);
    }
  }
  return grads;
}

std::vector<array> Scatter::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                const std::vector<int>& argnums) {
  if (reduce_ != ScatterReduce::none && reduce_ != ScatterReduce::sum) {
    throw not_implemented(std::string("[") + name() + "] has no jvp rule yet");
  }
  int last = int(primals.size()) - 1;
  data_inputs_only(argnums, {0, last}, name());
  std::vector<array> inputs = primals;
  inputs[0] = detail::tangent_or_zeros(0, primals, tangents, argnums);
  inputs[last] = astype(detail::tangent_or_zeros(last, primals, tangents, argnums), inputs[0].dtype(), stream());
  return {array(inputs[0].shape(), inputs[0].dtype(), std::make_shared<Scatter>(stream(), reduce_, axes_, clamp_), inputs)};
}

// ------------------------------------------------------------ GatherAxis / ScatterAxis

bool GatherAxis::is_equivalent(const Primitive& o) const {
  return same<GatherAxis>(o, [&](const GatherAxis& p) { return p.axis_ == axis_ && p.clamp_ == clamp_; });
}

std::vector<Shape> GatherAxis::output_shapes(const std::vector<array>& inputs) { return {inputs[1].shape()}; }

std::vector<array> GatherAxis::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                   const std::vector<int>& argnums, const std::vector<array>&) {
  data_inputs_only(argnums, {0}, "GatherAxis");
  const array& cot = cotangents[0];
  array z = zeros(primals[0].shape(), cot.dtype(), stream());
  return {array(z.shape(), cot.dtype(), std::make_shared<ScatterAxis>(stream(), ScatterReduce::sum, axis_, clamp_),
                {z, primals[1], cot})};
}

std::vector<array> GatherAxis::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                   const std::vector<int>& argnums) {
  data_inputs_only(argnums, {0}, "GatherAxis");
  const array& t = tangents[0];
  return {array(primals[1].shape(), t.dtype(), std::make_shared<GatherAxis>(stream(), axis_, clamp_), {t, primals[1]})};
}

const char* ScatterAxis::name() const { return reduce_ == ScatterReduce::sum ? "ScatterAddAxis" : "ScatterAxis"; }

bool ScatterAxis::is_equivalent(const Primitive& o) const {
  return same<ScatterAxis>(
      o, [&](const ScatterAxis& p) { return p.reduce_ == reduce_ && p.axis_ == axis_ && p.clamp_ == clamp_; });
}

UMA_OUTPUT_SHAPE_OF_INPUT(ScatterAxis)

std::vector<array> ScatterAxis::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  data_inputs_only(argnums, {0, 2}, name());
  const array& cot = cotangents[0];
  const array& idx = primals[1];
  std::vector<array> grads;
  for (int i : argnums) {
    if (i == 0 && reduce_ == ScatterReduce::sum) {
      grads.push_back(cot);
    } else if (i == 0) {
      array z = zeros(idx.shape(), cot.dtype(), stream());
      grads.push_back(array(cot.shape(), cot.dtype(), std::make_shared<ScatterAxis>(stream(), reduce_, axis_, clamp_),
                            {cot, idx, z}));
    } else {
      auto gather = std::make_shared<GatherAxis>(stream(), axis_, clamp_);
      array g(idx.shape(), cot.dtype(), gather, {cot, idx});
      if (reduce_ == ScatterReduce::none) {
        // The last of several writes to one position wins (as Scatter's).
        array ids = reshape(arange(0, int(idx.size()), 1, stream()), idx.shape(), stream());
        array won(cot.shape(), int32, std::make_shared<ScatterAxis>(stream(), reduce_, axis_, clamp_),
                  {full(cot.shape(), -1, int32, stream()), idx, ids});
        g = where(equal(array(idx.shape(), int32, gather, {won, idx}), ids, stream()), g, zeros_like(g, stream()),
                  stream());
      }
      grads.push_back(g);
    }
  }
  return grads;
}

std::vector<array> ScatterAxis::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  data_inputs_only(argnums, {0, 2}, name());
  array ta = detail::tangent_or_zeros(0, primals, tangents, argnums);
  array tv = astype(detail::tangent_or_zeros(2, primals, tangents, argnums), ta.dtype(), stream());
  return {array(ta.shape(), ta.dtype(), std::make_shared<ScatterAxis>(stream(), reduce_, axis_, clamp_), {ta, primals[1], tv})};
}

}  // namespace uma
