// Gradient rules of the LAPACK family, written with ops (and the linalg ops
// themselves), so that they compose. A primitive that reads one triangle of a
// symmetric input (Cholesky, Eigh: the lower) is a function of that triangle
// only: with G a gradient for symmetric perturbations, the gradient of the
// lower triangle is tril(G + Gᵀ) - diag(G), and a tangent dA acts as its
// symmetric completion tril(dA) + tril(dA, -1)ᵀ. Eig and LUF have no rules
// (core/transforms/missing_grad.cpp says why).
#include <optional>

#include "uma/core/linalg.h"
#include "uma/core/ops.h"
#include "uma/core/primitives/linalg_lapack.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

array mT(const array& x, Stream s) { return swapaxes(x, -1, -2, s); }

// x ∘ I: the diagonal of each matrix, the rest zero.
array diag_part(const array& x, Stream s) { return multiply(x, eye(x.shape(-1), x.dtype(), s), s); }

// The lower-triangle gradient of a gradient G for symmetric perturbations.
array lower_grad(const array& g, Stream s) {
  return subtract(tril(add(g, mT(g, s), s), 0, s), diag_part(g, s), s);
}

// The symmetric matrix a tangent of the lower triangle stands for.
array lower_tangent(const array& d, Stream s) { return add(tril(d, 0, s), mT(tril(d, -1, s), s), s); }

// Φ(X): the lower triangle with the diagonal halved.
array phi(const array& x, Stream s) {
  return add(tril(x, -1, s), multiply(diag_part(x, s), weak_scalar(0.5, x), s), s);
}

// F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it: (..., N, N).
array eig_gaps(const array& w, Stream s) {
  array d = subtract(expand_dims(w, -2, s), expand_dims(w, -1, s), s);
  array id = eye(w.shape(-1), w.dtype(), s);
  return divide(subtract(ones_like(id, s), id, s), add(d, id, s), s);
}

}  // namespace

// --- Inverse: d(A⁻¹) = -X dA X with X = A⁻¹; a triangular input varies in
// its triangle only.
std::vector<array> Inverse::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                const std::vector<int>&, const std::vector<array>& outputs) {
  Stream s = stream();
  array xt = mT(outputs[0], s);
  array g = negative(matmul(matmul(xt, cotangents[0], s), xt, s), s);
  if (tri_) g = upper_ ? triu(g, 0, s) : tril(g, 0, s);
  return {g};
}

std::vector<array> Inverse::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                const std::vector<int>&) {
  Stream s = stream();
  array x = tri_ ? linalg::tri_inv(primals[0], upper_, s) : linalg::inv(primals[0], s);
  array d = tangents[0];
  if (tri_) d = upper_ ? triu(d, 0, s) : tril(d, 0, s);
  return {negative(matmul(matmul(x, d, s), x, s), s)};
}

// --- Cholesky (Murray 2016): dL = L Φ(L⁻¹ dA L⁻ᵀ); for symmetric
// perturbations the gradient is L⁻ᵀ Φ(Lᵀ L̄) L⁻¹.
std::vector<array> Cholesky::vjp(const std::vector<array>&, const std::vector<array>& cotangents,
                                 const std::vector<int>&, const std::vector<array>& outputs) {
  Stream s = stream();
  const array& l = outputs[0];
  array li = linalg::tri_inv(l, false, s);
  array p = phi(matmul(mT(l, s), cotangents[0], s), s);
  return {lower_grad(matmul(matmul(mT(li, s), p, s), li, s), s)};
}

std::vector<array> Cholesky::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>&) {
  Stream s = stream();
  array l = linalg::cholesky(primals[0], false, s);
  array li = linalg::tri_inv(l, false, s);
  array z = matmul(matmul(li, lower_tangent(tangents[0], s), s), mT(li, s), s);
  return {matmul(l, phi(z, s), s)};
}

// --- QRF, for M >= N (K = N, R square and invertible). With
// C = Qᵀ dA R⁻¹ and Ω = tril(C, -1) - tril(C, -1)ᵀ (Qᵀ dQ, skew):
// dR = (C - Ω) R, dQ = dA R⁻¹ - Q (C - Ω). The vjp is its adjoint:
// Ā = (Q̄ + Q Y) R⁻ᵀ, W = R̄ Rᵀ - Qᵀ Q̄, Y = triu(W) + tril(Wᵀ, -1).
namespace {
void check_tall(const array& a, const char* transform) {
  if (a.shape(-2) < a.shape(-1)) {
    throw not_implemented(std::string("[QRF] the ") + transform +
                          " needs a square or tall matrix (M >= N); got shape " + shape_str(a.shape()));
  }
}
}  // namespace

std::vector<array> QRF::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                            const std::vector<int>&, const std::vector<array>& outputs) {
  check_tall(primals[0], "vjp");
  Stream s = stream();
  const array &q = outputs[0], &r = outputs[1];
  const array &qb = cotangents[0], &rb = cotangents[1];
  array w = subtract(matmul(rb, mT(r, s), s), matmul(mT(q, s), qb, s), s);
  array y = add(triu(w, 0, s), tril(mT(w, s), -1, s), s);
  array ri = linalg::tri_inv(r, true, s);
  return {matmul(add(qb, matmul(q, y, s), s), mT(ri, s), s)};
}

std::vector<array> QRF::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>&) {
  check_tall(primals[0], "jvp");
  Stream s = stream();
  auto [q, r] = linalg::qr(primals[0], s);
  const array& da = tangents[0];
  array ri = linalg::tri_inv(r, true, s);
  array dari = matmul(da, ri, s);
  array c = matmul(mT(q, s), dari, s);
  array lo = tril(c, -1, s);
  array c_omega = subtract(c, subtract(lo, mT(lo, s), s), s);  // C - Ω, upper triangular
  return {subtract(dari, matmul(q, c_omega, s), s), matmul(c_omega, r, s)};
}

// --- SVD, the singular values: dS_k = u_kᵀ dA v_k, Ā = U_K diag(S̄) Vt_K.
// The vjp of U and Vt is not written (MLX's needs distinct singular values
// and full-rank square blocks); svd(a, false) differentiates.
namespace {
// U's first K columns and Vt's first K rows.
std::pair<array, array> thin(const std::vector<array>& usv, Stream s) {
  const array &u = usv[0], &vt = usv[2];
  int k = usv[1].shape(-1), nd = int(u.ndim());
  Shape start(nd, 0), stop_u = u.shape(), stop_v = vt.shape();
  stop_u[nd - 1] = k;
  stop_v[nd - 2] = k;
  return {slice(u, start, stop_u, s), slice(vt, start, stop_v, s)};
}
void check_values_only(bool compute_uv, const char* transform) {
  if (compute_uv) {
    throw not_implemented(std::string("[SVD] has no ") + transform +
                          " rule for U and Vt yet; svd(a, /*compute_uv=*/false) differentiates the singular values");
  }
}
}  // namespace

std::vector<array> SVD::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                            const std::vector<int>&, const std::vector<array>&) {
  check_values_only(compute_uv_, "vjp");
  Stream s = stream();
  auto [uk, vtk] = thin(linalg::svd(primals[0], true, s), s);
  return {matmul(multiply(uk, expand_dims(cotangents[0], -2, s), s), vtk, s)};
}

std::vector<array> SVD::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                            const std::vector<int>&) {
  check_values_only(compute_uv_, "jvp");
  Stream s = stream();
  auto [uk, vtk] = thin(linalg::svd(primals[0], true, s), s);
  return {sum(multiply(uk, matmul(tangents[0], mT(vtk, s), s), s), -2, false, s)};
}

// --- Eigh: with Z = Vᵀ dA V, dw = diag(Z) and dV = V (F ∘ Z); adjoint for
// symmetric perturbations G = V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ.
std::vector<array> Eigh::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                             const std::vector<int>&, const std::vector<array>& outputs) {
  Stream s = stream();
  array w = outputs[0];
  array v = compute_vectors_ ? outputs[1] : linalg::eigh(primals[0], "L", s).second;
  array inner = multiply(eye(w.shape(-1), w.dtype(), s), expand_dims(cotangents[0], -1, s), s);  // diag(w̄)
  if (compute_vectors_) inner = add(inner, multiply(eig_gaps(w, s), matmul(mT(v, s), cotangents[1], s), s), s);
  return {lower_grad(matmul(matmul(v, inner, s), mT(v, s), s), s)};
}

std::vector<array> Eigh::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                             const std::vector<int>&) {
  Stream s = stream();
  auto [w, v] = linalg::eigh(primals[0], "L", s);
  array z = matmul(matmul(mT(v, s), lower_tangent(tangents[0], s), s), v, s);
  array dw = diagonal(z, 0, -2, -1, s);
  if (!compute_vectors_) return {dw};
  return {dw, matmul(v, multiply(eig_gaps(w, s), z, s), s)};
}

// x = a⁻¹ b: the cotangent of b is a⁻ᵀ c, that of a is -(a⁻ᵀ c) xᵀ; the
// tangent is a⁻¹ (db - da x).
std::vector<array> Solve::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                              const std::vector<int>& argnums, const std::vector<array>& outputs) {
  Stream s = stream();
  array gb = linalg::solve(mT(primals[0], s), cotangents[0], s);
  std::vector<array> vjps;
  for (int arg : argnums) {
    vjps.push_back(arg == 0 ? negative(matmul(gb, mT(outputs[0], s), s), s) : gb);
  }
  return vjps;
}

std::vector<array> Solve::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                              const std::vector<int>& argnums) {
  Stream s = stream();
  array x = linalg::solve(primals[0], primals[1], s);
  std::optional<array> rhs;
  for (size_t k = 0; k < argnums.size(); ++k) {
    array term = argnums[k] == 0 ? negative(matmul(tangents[k], x, s), s) : tangents[k];
    rhs = rhs ? add(*rhs, term, s) : term;
  }
  return {linalg::solve(primals[0], *rhs, s)};
}

}  // namespace uma
