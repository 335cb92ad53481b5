// uma::linalg's factorizations, inverses and solves: argument checks, then a
// LAPACK primitive (core/primitives/linalg_lapack.h) or ops over one. Norms
// and cross are in linalg_norm.cpp.
#include "uma/core/linalg.h"

#include <limits>
#include <stdexcept>

#include "uma/core/ops.h"
#include "uma/core/primitives/linalg_lapack.h"
#include "uma/core/utils.h"

namespace uma::linalg {

namespace {

// float32 or float64 and at least 2-D; square when asked.
void check_matrix(const array& a, const char* op, bool square) {
  if (a.dtype() != float32 && a.dtype() != float64) {
    throw std::invalid_argument(std::string("[linalg::") + op + "] arrays must be float32 or float64, got " +
                                dtype_name(a.dtype()));
  }
  if (a.ndim() < 2) {
    throw std::invalid_argument(std::string("[linalg::") + op + "] arrays must have at least 2 dimensions, got shape " +
                                shape_str(a.shape()));
  }
  if (square && a.shape(-1) != a.shape(-2)) {
    throw std::invalid_argument(std::string("[linalg::") + op + "] matrices must be square, got shape " +
                                shape_str(a.shape()));
  }
}

std::vector<array> multi(const array& a, std::shared_ptr<Primitive> p, std::vector<Dtype> dtypes) {
  auto shapes = p->output_shapes({a});
  return array::make_arrays(std::move(shapes), std::move(dtypes), std::move(p), {a});
}

bool upper_of(std::string uplo, const char* op) {
  if (uplo != "L" && uplo != "U") {
    throw std::invalid_argument(std::string("[linalg::") + op + "] UPLO must be \"L\" or \"U\", got \"" + uplo + "\"");
  }
  return uplo == "U";
}

array mT(const array& a, Stream s) { return swapaxes(a, -1, -2, s); }

}  // namespace

array inv(const array& a, StreamOrDevice s) {
  check_matrix(a, "inv", true);
  return array(a.shape(), a.dtype(), std::make_shared<Inverse>(to_stream(s), false, false), {a});
}

array tri_inv(const array& a, bool upper, StreamOrDevice s) {
  check_matrix(a, "tri_inv", true);
  return array(a.shape(), a.dtype(), std::make_shared<Inverse>(to_stream(s), true, upper), {a});
}

array cholesky(const array& a, bool upper, StreamOrDevice s) {
  check_matrix(a, "cholesky", true);
  Stream st = to_stream(s);
  // The upper triangle of a is the lower of aᵀ, and U = Lᵀ.
  array x = upper ? mT(a, st) : a;
  array l(a.shape(), a.dtype(), std::make_shared<Cholesky>(st), {x});
  return upper ? mT(l, st) : l;
}

array cholesky_inv(const array& L, bool upper, StreamOrDevice s) {
  check_matrix(L, "cholesky_inv", true);
  Stream st = to_stream(s);
  // (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹, (Uᵀ U)⁻¹ = U⁻¹ U⁻ᵀ.
  array li = tri_inv(L, upper, st);
  return upper ? matmul(li, mT(li, st), st) : matmul(mT(li, st), li, st);
}

std::pair<array, array> qr(const array& a, StreamOrDevice s) {
  check_matrix(a, "qr", false);
  auto out = multi(a, std::make_shared<QRF>(to_stream(s)), {a.dtype(), a.dtype()});
  return {out[0], out[1]};
}

std::vector<array> svd(const array& a, bool compute_uv, StreamOrDevice s) {
  check_matrix(a, "svd", false);
  auto p = std::make_shared<SVD>(to_stream(s), compute_uv);
  if (!compute_uv) return multi(a, p, {a.dtype()});
  return multi(a, p, {a.dtype(), a.dtype(), a.dtype()});
}

std::pair<array, array> eigh(const array& a, std::string UPLO, StreamOrDevice s) {
  check_matrix(a, "eigh", true);
  Stream st = to_stream(s);
  array x = upper_of(UPLO, "eigh") ? mT(a, st) : a;
  auto out = multi(x, std::make_shared<Eigh>(st, true), {a.dtype(), a.dtype()});
  return {out[0], out[1]};
}

array eigvalsh(const array& a, std::string UPLO, StreamOrDevice s) {
  check_matrix(a, "eigvalsh", true);
  Stream st = to_stream(s);
  array x = upper_of(UPLO, "eigvalsh") ? mT(a, st) : a;
  return multi(x, std::make_shared<Eigh>(st, false), {a.dtype()})[0];
}

std::pair<array, array> eig(const array& a, StreamOrDevice s) {
  check_matrix(a, "eig", true);
  auto out = multi(a, std::make_shared<Eig>(to_stream(s), true), {complex64, complex64});
  return {out[0], out[1]};
}

array eigvals(const array& a, StreamOrDevice s) {
  check_matrix(a, "eigvals", true);
  return multi(a, std::make_shared<Eig>(to_stream(s), false), {complex64})[0];
}

std::pair<array, array> lu_factor(const array& a, StreamOrDevice s) {
  check_matrix(a, "lu_factor", false);
  auto out = multi(a, std::make_shared<LUF>(to_stream(s)), {a.dtype(), uint32, uint32});
  return {out[0], out[1]};
}

std::vector<array> lu(const array& a, StreamOrDevice s) {
  check_matrix(a, "lu", false);
  Stream st = to_stream(s);
  auto out = multi(a, std::make_shared<LUF>(st), {a.dtype(), uint32, uint32});
  int m = a.shape(-2), n = a.shape(-1), k = std::min(m, n);
  int nd = int(a.ndim());
  // L: the first K columns of LU's strict lower triangle plus I; U: the
  // first K rows of its upper triangle.
  Shape start(nd, 0), stop_l = a.shape(), stop_u = a.shape();
  stop_l[nd - 1] = k;
  stop_u[nd - 2] = k;
  array l = add(tril(slice(out[0], start, stop_l, st), -1, st), eye(m, k, 0, a.dtype(), st), st);
  array u = triu(slice(out[0], start, stop_u, st), 0, st);
  return {out[2], l, u};
}

array pinv(const array& a, StreamOrDevice s) {
  check_matrix(a, "pinv", false);
  Stream st = to_stream(s);
  int m = a.shape(-2), n = a.shape(-1), k = std::min(m, n), nd = int(a.ndim());
  if (k == 0) {
    Shape sh = a.shape();
    std::swap(sh[nd - 1], sh[nd - 2]);
    return zeros(sh, a.dtype(), st);
  }
  auto usv = svd(a, true, st);
  double eps = a.dtype() == float32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
  array sv = usv[1];
  array cutoff = multiply(max(sv, -1, true, st), weak_scalar(double(std::max(m, n)) * eps, sv), st);
  array big = greater(sv, cutoff, st);
  array sinv = where(big, reciprocal(where(big, sv, ones_like(sv, st), st), st), zeros_like(sv, st), st);
  Shape start(nd, 0), stop_u = a.shape(), stop_v = a.shape();
  stop_u[nd - 2] = m;
  stop_u[nd - 1] = k;
  stop_v[nd - 2] = k;
  stop_v[nd - 1] = n;
  array uk = slice(usv[0], start, stop_u, st);   // (..., M, K)
  array vk = slice(usv[2], start, stop_v, st);   // (..., K, N)
  // Vᵀ_k diag(1/S) Uᵀ_k
  return matmul(multiply(mT(vk, st), expand_dims(sinv, -2, st), st), mT(uk, st), st);
}

array solve(const array& a, const array& b, StreamOrDevice s) {
  check_matrix(a, "solve", true);
  if (b.ndim() < 1) {
    throw std::invalid_argument("[linalg::solve] b must have at least 1 dimension, got shape " + shape_str(b.shape()));
  }
  if (b.dtype() != a.dtype()) {
    throw std::invalid_argument(std::string("[linalg::solve] a and b must have one dtype, got ") +
                                dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
  }
  int rows = b.ndim() == 1 ? b.shape(0) : b.shape(-2);
  if (rows != a.shape(-1)) {
    throw std::invalid_argument("[linalg::solve] a " + shape_str(a.shape()) + " and b " + shape_str(b.shape()) +
                                " do not match: b needs " + std::to_string(a.shape(-1)) + " rows");
  }
  // LU with partial pivoting (LAPACK gesv), batch dims broadcast as matmul's.
  Stream st = to_stream(s);
  bool vector = b.ndim() == 1;
  array bm = vector ? expand_dims(b, -1, st) : b;
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(bm.shape().begin(), bm.shape().end() - 2), "linalg::solve");
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {a.shape(-2), a.shape(-1)});
  sb.insert(sb.end(), {bm.shape(-2), bm.shape(-1)});
  array x = array(sb, a.dtype(), std::make_shared<Solve>(st), {broadcast_to(a, sa, st), broadcast_to(bm, sb, st)});
  return vector ? squeeze(x, -1, st) : x;
}

array solve_triangular(const array& a, const array& b, bool upper, StreamOrDevice s) {
  check_matrix(a, "solve_triangular", true);
  if (b.ndim() < 1) {
    throw std::invalid_argument("[linalg::solve_triangular] b must have at least 1 dimension, got shape " +
                                shape_str(b.shape()));
  }
  if (b.dtype() != a.dtype()) {
    throw std::invalid_argument(std::string("[linalg::solve_triangular] a and b must have one dtype, got ") +
                                dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
  }
  int rows = b.ndim() == 1 ? b.shape(0) : b.shape(-2);
  if (rows != a.shape(-1)) {
    throw std::invalid_argument("[linalg::solve_triangular] a " + shape_str(a.shape()) + " and b " +
                                shape_str(b.shape()) + " do not match: b needs " + std::to_string(a.shape(-1)) +
                                " rows");
  }
  return matmul(tri_inv(a, upper, s), b, s);
}

}  // namespace uma::linalg
