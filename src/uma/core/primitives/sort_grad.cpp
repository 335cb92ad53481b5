// Gradient rules of the sorting primitives, written with ops. Sort and
// Partition permute their input along the axis, so the jvp gathers the
// tangent through that permutation and the vjp scatters the cotangent back.
// The permutation is locally constant in the input: it is cut from the
// gradient (stop_gradient), which keeps higher derivatives to the values.
// ArgSort and ArgPartition have integer outputs: zero derivatives.
#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/primitives/sort.h"

namespace uma {

namespace {

// src with out[..., i, ...] == x[..., src[i], ...] along axis, for an `out`
// that is a permutation of x along it. Matches the two in sorted order (stable
// argsorts of both), so it does not rely on how a kernel arranged `out`:
// partition's values and argpartition's indices may arrange the elements
// other than the kth differently.
array permutation_source(const array& x, const array& out, int axis, Stream s) {
  array from = argsort(x, axis, s), to = argsort(out, axis, s);
  return put_along_axis(zeros(x.shape(), uint32, s), to, from, axis, s);
}

}  // namespace

// ------------------------------------------------------------ Sort

std::vector<array> Sort::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>&) {
  // sort(x) == take_along_axis(x, argsort(x)) (equal values are equal).
  array idx = stop_gradient(argsort(primals[0], axis_, stream()), stream());
  return {put_along_axis(zeros_like(primals[0], stream()), idx, cotangents[0], axis_, stream())};
}

std::vector<array> Sort::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  array idx = stop_gradient(argsort(primals[0], axis_, stream()), stream());
  return {take_along_axis(tangents[0], idx, axis_, stream())};
}

std::vector<array> ArgSort::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> ArgSort::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                const std::vector<int>&) {
  return {zeros(primals[0].shape(), uint32, stream())};
}

// ------------------------------------------------------------ Partition

std::vector<array> Partition::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                  const std::vector<int>&, const std::vector<array>& outputs) {
  array src = stop_gradient(permutation_source(primals[0], outputs[0], axis_, stream()), stream());
  return {put_along_axis(zeros_like(primals[0], stream()), src, cotangents[0], axis_, stream())};
}

std::vector<array> Partition::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                  const std::vector<int>&) {
  const array& x = primals[0];
  array out = partition(x, kth_, axis_, stream());
  array src = stop_gradient(permutation_source(x, out, axis_, stream()), stream());
  return {take_along_axis(tangents[0], src, axis_, stream())};
}

std::vector<array> ArgPartition::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> ArgPartition::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>&) {
  return {zeros(primals[0].shape(), uint32, stream())};
}

}  // namespace uma
