// Names, equivalence and output shapes of the LAPACK family; the gradient
// rules are in linalg_lapack_grad.cpp, the vmap rules in linalg_lapack_vmap.cpp.
#include "uma/core/primitives/linalg_lapack.h"

#include <algorithm>

namespace uma {

UMA_LAPACK_PRIMITIVES(UMA_PRIMITIVE_NAME)
UMA_LAPACK_MULTI_PRIMITIVES(UMA_PRIMITIVE_NAME)

namespace {

// in's shape with its last two dims replaced by `tail`.
Shape batch_with(const Shape& in, std::initializer_list<int32_t> tail) {
  Shape s(in.begin(), in.end() - 2);
  s.insert(s.end(), tail);
  return s;
}

}  // namespace

bool Inverse::is_equivalent(const Primitive& o) const {
  return same<Inverse>(o, [&](const Inverse& p) { return p.tri_ == tri_ && p.upper_ == upper_; });
}
UMA_OUTPUT_SHAPE_OF_INPUT(Inverse)

bool Cholesky::is_equivalent(const Primitive& o) const { return same<Cholesky>(o); }

bool Solve::is_equivalent(const Primitive& o) const { return same<Solve>(o); }
std::vector<Shape> Solve::output_shapes(const std::vector<array>& inputs) { return {inputs[1].shape()}; }
UMA_OUTPUT_SHAPE_OF_INPUT(Cholesky)

bool QRF::is_equivalent(const Primitive& o) const { return same<QRF>(o); }
std::vector<Shape> QRF::output_shapes(const std::vector<array>& inputs) {
  const Shape& s = inputs[0].shape();
  int32_t m = s[s.size() - 2], n = s.back(), k = std::min(m, n);
  return {batch_with(s, {m, k}), batch_with(s, {k, n})};
}

bool SVD::is_equivalent(const Primitive& o) const {
  return same<SVD>(o, [&](const SVD& p) { return p.compute_uv_ == compute_uv_; });
}
std::vector<Shape> SVD::output_shapes(const std::vector<array>& inputs) {
  const Shape& s = inputs[0].shape();
  int32_t m = s[s.size() - 2], n = s.back();
  Shape sv(s.begin(), s.end() - 2);
  sv.push_back(std::min(m, n));
  if (!compute_uv_) return {sv};
  return {batch_with(s, {m, m}), sv, batch_with(s, {n, n})};
}

bool Eigh::is_equivalent(const Primitive& o) const {
  return same<Eigh>(o, [&](const Eigh& p) { return p.compute_vectors_ == compute_vectors_; });
}
std::vector<Shape> Eigh::output_shapes(const std::vector<array>& inputs) {
  const Shape& s = inputs[0].shape();
  Shape w(s.begin(), s.end() - 1);
  if (!compute_vectors_) return {w};
  return {w, s};
}

bool Eig::is_equivalent(const Primitive& o) const {
  return same<Eig>(o, [&](const Eig& p) { return p.compute_vectors_ == compute_vectors_; });
}
std::vector<Shape> Eig::output_shapes(const std::vector<array>& inputs) {
  const Shape& s = inputs[0].shape();
  Shape w(s.begin(), s.end() - 1);
  if (!compute_vectors_) return {w};
  return {w, s};
}

bool LUF::is_equivalent(const Primitive& o) const { return same<LUF>(o); }
std::vector<Shape> LUF::output_shapes(const std::vector<array>& inputs) {
  const Shape& s = inputs[0].shape();
  int32_t m = s[s.size() - 2], n = s.back();
  Shape piv(s.begin(), s.end() - 2), rows = piv;
  piv.push_back(std::min(m, n));
  rows.push_back(m);
  return {s, piv, rows};
}

}  // namespace uma
