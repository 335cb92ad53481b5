// Primitives of the LAPACK family (MLX's Inverse, Cholesky, QRF, SVD, Eigh,
// Eig, LUF, and Solve). Each takes one float32 or float64 array (..., M, N), batched over
// the leading dims; the ops in core/linalg.cpp check shapes and dtypes. A
// primitive that reads one triangle of a symmetric input reads the lower one;
// the ops transpose for "upper" (the upper triangle of a is the lower of aᵀ),
// so the rules are written once.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_LAPACK_PRIMITIVES(X) X(Inverse) X(Cholesky) X(Solve)
#define UMA_LAPACK_MULTI_PRIMITIVES(X) X(QRF) X(SVD) X(Eigh) X(Eig) X(LUF)

// inv(a) of a square a. tri: a is triangular, only its `upper` (or lower)
// triangle is read and the inverse is triangular, the other triangle zero.
class Inverse : public UnaryPrimitive {
 public:
  Inverse(Stream s, bool tri, bool upper) : UnaryPrimitive(s), tri_(tri), upper_(upper) {}
  UMA_DECLARE_PRIMITIVE()
  bool tri() const { return tri_; }
  bool upper() const { return upper_; }

 private:
  bool tri_, upper_;
};

// The lower Cholesky factor L (L Lᵀ = a) of a symmetric positive definite a,
// reading a's lower triangle; L's strict upper triangle is zero.
class Cholesky : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

// x with a x = b, by LU with partial pivoting: a (..., N, N), b (..., N, K)
// with the same batch dims (the op broadcasts) -> x (..., N, K).
class Solve : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

// The reduced QR factorization: a (..., M, N) -> Q (..., M, K) with
// orthonormal columns, R (..., K, N) upper triangular, K = min(M, N).
class QRF : public Primitive {
 public:
  using Primitive::Primitive;
  UMA_DECLARE_MULTI_PRIMITIVE()
};

// The singular value decomposition, MLX's layout: a (..., M, N) ->
// U (..., M, M), S (..., K) descending, Vt (..., N, N) with
// a = U[:, :K] diag(S) Vt[:K]; only S without compute_uv.
class SVD : public Primitive {
 public:
  SVD(Stream s, bool compute_uv) : Primitive(s), compute_uv_(compute_uv) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  bool compute_uv() const { return compute_uv_; }

 private:
  bool compute_uv_;
};

// Eigenvalues (ascending) and, with compute_vectors, orthonormal eigenvectors
// (the columns of V) of a symmetric a, reading its lower triangle:
// a (..., N, N) -> w (..., N) [, V (..., N, N)].
class Eigh : public Primitive {
 public:
  Eigh(Stream s, bool compute_vectors) : Primitive(s), compute_vectors_(compute_vectors) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  bool compute_vectors() const { return compute_vectors_; }

 private:
  bool compute_vectors_;
};

// Eigenvalues and (right, unit-norm) eigenvectors of a general square a, as
// complex64: a (..., N, N) -> w (..., N) [, V (..., N, N)], in LAPACK's order.
class Eig : public Primitive {
 public:
  Eig(Stream s, bool compute_vectors) : Primitive(s), compute_vectors_(compute_vectors) {}
  UMA_DECLARE_MULTI_PRIMITIVE()
  bool compute_vectors() const { return compute_vectors_; }

 private:
  bool compute_vectors_;
};

// LU factorization with partial pivoting: a (..., M, N) -> LU (..., M, N)
// (L's strict lower triangle, unit diagonal implied, and U), pivots
// (..., K) uint32 (0-based: row i was swapped with row pivots[i]), and the
// row indices P (..., M) uint32 with a = L[P] @ U.
class LUF : public Primitive {
 public:
  using Primitive::Primitive;
  UMA_DECLARE_MULTI_PRIMITIVE()
};

}  // namespace uma
