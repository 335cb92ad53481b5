// uma::linalg: MLX's linear algebra namespace (mlx/linalg.h), names and
// semantics. Inputs are float32 or float64 (MLX takes float32; float64 is for
// tests and precision), batched over the leading dims: a (..., M, N).
// Factorizations run through LAPACK (the primitives in
// core/primitives/linalg_lapack.h); the rest is composed from ops. Errors are
// std::invalid_argument starting "[linalg::<name>]"; a singular or
// non-positive-definite input is reported when it is evaluated.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::linalg {

// --- norms. With `axis` unset a vector (1-D) or matrix (2-D) norm of the
// whole array; one axis gives vector norms, two give matrix norms over those.
//   ord       vector                    matrix
//   (none)    2-norm                    Frobenius (any ndim: all elements)
//   inf/-inf  max/min |x|               max/min row sum of |x|
//   1/-1      sum |x| / (sum |x|^-1)^-1 max/min column sum of |x|
//   2/-2      2-norm / as below         largest/smallest singular value
//   0         count of nonzeros         --
//   p         (sum |x|^p)^(1/p)         --
//   "fro"     --                        sqrt(sum x^2)
//   "nuc"     --                        sum of singular values
array norm(const array& a, const std::optional<std::vector<int>>& axis = std::nullopt, bool keepdims = false,
           StreamOrDevice s = {});
array norm(const array& a, double ord, const std::optional<std::vector<int>>& axis = std::nullopt,
           bool keepdims = false, StreamOrDevice s = {});
array norm(const array& a, const std::string& ord, const std::optional<std::vector<int>>& axis = std::nullopt,
           bool keepdims = false, StreamOrDevice s = {});
array norm(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array norm(const array& a, double ord, int axis, bool keepdims = false, StreamOrDevice s = {});

// --- factorizations
// Reduced QR: Q (..., M, K) with orthonormal columns, R (..., K, N) upper
// triangular, K = min(M, N).
std::pair<array, array> qr(const array& a, StreamOrDevice s = {});
// {U (..., M, M), S (..., K) descending, Vt (..., N, N)}, a = U[:, :K] diag(S)
// Vt[:K]; {S} alone without compute_uv.
std::vector<array> svd(const array& a, bool compute_uv = true, StreamOrDevice s = {});
// Lower (or upper) Cholesky factor of a symmetric positive definite a, read
// from that triangle of a: a = L Lᵀ (= Uᵀ U).
array cholesky(const array& a, bool upper = false, StreamOrDevice s = {});
// Eigenvalues ascending and eigenvectors (columns) of a symmetric a, read from
// its lower ("L") or upper ("U") triangle.
std::pair<array, array> eigh(const array& a, std::string UPLO = "L", StreamOrDevice s = {});
array eigvalsh(const array& a, std::string UPLO = "L", StreamOrDevice s = {});
// Eigenvalues and unit eigenvectors of a general square a, complex64.
std::pair<array, array> eig(const array& a, StreamOrDevice s = {});
array eigvals(const array& a, StreamOrDevice s = {});
// {P (..., M) uint32, L (..., M, K) unit lower, U (..., K, N) upper} with
// a = L[P] @ U (take_along_axis(L, P[..., None], -2) @ U when batched).
std::vector<array> lu(const array& a, StreamOrDevice s = {});
// {LU (..., M, N), pivots (..., K) uint32}: LAPACK's getrf, 0-based pivots.
std::pair<array, array> lu_factor(const array& a, StreamOrDevice s = {});

// --- inverses and solves
array inv(const array& a, StreamOrDevice s = {});
// Inverse of a triangular a, reading its upper (or lower) triangle.
array tri_inv(const array& a, bool upper = false, StreamOrDevice s = {});
// Inverse of A = L Lᵀ (or Uᵀ U) given its Cholesky factor.
array cholesky_inv(const array& L, bool upper = false, StreamOrDevice s = {});
// Moore-Penrose pseudo-inverse (..., N, M) through the SVD; singular values
// below max(M, N) * eps * max(S) count as zero.
array pinv(const array& a, StreamOrDevice s = {});
// x with a x = b by LU with partial pivoting; b (N) or (..., N, NRHS), batch
// dims broadcast as matmul's.
array solve(const array& a, const array& b, StreamOrDevice s = {});
// x with a x = b for a triangular a, reading its upper (or lower) triangle.
array solve_triangular(const array& a, const array& b, bool upper = false, StreamOrDevice s = {});

// Cross product of 3-vectors (or 2-vectors, taken with a zero z) along axis.
array cross(const array& a, const array& b, int axis = -1, StreamOrDevice s = {});

}  // namespace uma::linalg
