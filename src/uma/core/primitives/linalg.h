// Primitives of the matmul family. Inputs arrive with one floating dtype and
// the batch shapes each kernel expects; the ops in ops/linalg*.cpp see to it.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_LINALG_PRIMITIVES(X) X(Matmul) X(AddMM) X(Hadamard) X(GatherMM) X(SegmentedMM) X(BlockMaskedMM)

// out (..., M, N) = a (..., M, K) @ b (..., K, N).
class Matmul : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

// out = alpha * (a @ b) + beta * c, inputs (a, b, c) with c shaped like out.
class AddMM : public UnaryPrimitive {
 public:
  AddMM(Stream s, float alpha, float beta) : UnaryPrimitive(s), alpha_(alpha), beta_(beta) {}
  UMA_DECLARE_PRIMITIVE()
  float alpha() const { return alpha_; }
  float beta() const { return beta_; }

 private:
  float alpha_, beta_;
};

// x (..., n) -> scale * x @ H along the last axis, H = H_m (x) H_(2^k) with
// n = m * 2^k, m in {1, 12, 20, 28} (the Kronecker product: the m factor
// indexes blocks of 2^k), H_(2^k) Sylvester's (symmetric) and H_m the
// matrices MLX uses (backend/cpu/hadamard.cpp). H_20 and H_28 are not
// symmetric, so the vjp needs H^T: `transposed` applies that one.
class Hadamard : public UnaryPrimitive {
 public:
  Hadamard(Stream s, float scale, bool transposed = false)
      : UnaryPrimitive(s), scale_(scale), transposed_(transposed) {}
  UMA_DECLARE_PRIMITIVE()
  float scale() const { return scale_; }
  bool transposed() const { return transposed_; }
  // m of a supported size n = m * 2^k (k <= 26), 0 for any other n.
  static int block_order(int64_t n);

 private:
  float scale_;
  bool transposed_;
};

// a (A..., M, K), b (B..., K, N), lhs_indices and rhs_indices (integer, both
// of the output's batch shape I) -> (I..., M, N):
// out[i] = a[lhs[i]] @ b[rhs[i]], indices into the flattened A and B. The
// sorted flags record MLX's hint that rhs (left_sorted: lhs) is sorted with
// the other index the default; nothing here relies on it (it only tells
// nodes apart).
class GatherMM : public UnaryPrimitive {
 public:
  GatherMM(Stream s, bool left_sorted = false, bool right_sorted = false)
      : UnaryPrimitive(s), left_sorted_(left_sorted), right_sorted_(right_sorted) {}
  UMA_DECLARE_PRIMITIVE()
  bool left_sorted() const { return left_sorted_; }
  bool right_sorted() const { return right_sorted_; }

 private:
  bool left_sorted_, right_sorted_;
};

// a (M, K), b (K, N), segments (S..., 2) integer -> (S..., M, N):
// out[s] = a[:, k0:k1] @ b[k0:k1, :] for segments[s] = (k0, k1), zero where
// k1 <= k0. Every bound must lie in [0, K] (checked when computed).
class SegmentedMM : public UnaryPrimitive {
 public:
  using UnaryPrimitive::UnaryPrimitive;
  UMA_DECLARE_PRIMITIVE()
};

// a (B..., M, K), b (B..., K, N) then the masks, each (B..., rows, cols) of
// blocks of block_size: inputs {a, b, out} (3), {a, b, lhs, rhs} (4) or
// {a, b, out, lhs, rhs} (5). out = ((a * L) @ (b * R)) * O with each mask
// entry spread over its block (edge blocks cut at M, N, K). A bool mask
// zeroes the blocks that are false (NaN and inf there too); a float one (of
// the output dtype) multiplies.
class BlockMaskedMM : public UnaryPrimitive {
 public:
  BlockMaskedMM(Stream s, int block_size) : UnaryPrimitive(s), block_size_(block_size) {}
  UMA_DECLARE_PRIMITIVE()
  int block_size() const { return block_size_; }

 private:
  int block_size_;
};

}  // namespace uma
