// Matrix products: matmul and the ops built on it (MLX names and semantics).
// Only inexact dtypes multiply (MLX's rule): integer or bool operands throw
// std::invalid_argument; cast them with astype first. Mixed dtypes promote.
// bfloat16/float16 products accumulate in float32 and return the input dtype.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// NumPy's matmul: a 1-D `a` is a row (1, K) and a 1-D `b` a column (K, 1),
// and the inserted dimension is removed from the result; dimensions before
// the last two broadcast: (2, 1, M, K) @ (3, K, N) -> (2, 3, M, N).
array matmul(const array& a, const array& b, StreamOrDevice s = {});

// alpha * (a @ b) + beta * c, with c broadcast to the shape of a @ b.
array addmm(array c, array a, array b, float alpha = 1.f, float beta = 1.f, StreamOrDevice s = {});

// (a.size(), b.size()) products of the flattened inputs.
array outer(const array& a, const array& b, StreamOrDevice s = {});

// Sum over the last axes of a and b: shape a.shape[:-1] + b.shape[:-1].
array inner(const array& a, const array& b, StreamOrDevice s = {});

// Contracts the last `axis` dims of a with the first `axis` dims of b.
array tensordot(const array& a, const array& b, int axis = 2, StreamOrDevice s = {});
// Contracts a's axes_a[i] with b's axes_b[i]; the result has a's free axes
// then b's free axes, each in order.
array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s = {});
array tensordot(const array& a, const array& b, const std::pair<std::vector<int>, std::vector<int>>& axes,
                StreamOrDevice s = {});

// Einstein summation, NumPy's grammar: "ij,jk->ik", implicit output ("ij,jk"
// = indices seen once, sorted), "..." for broadcast leading dims, repeated
// indices in one operand take its diagonal ("ii->i", "ii->" is a trace).
array einsum(const std::string& subscripts, const std::vector<array>& operands, StreamOrDevice s = {});

// scale * x @ H along the last axis (MLX's hadamard_transform): H is the
// Hadamard matrix of order n = a.shape(-1), n = m * 2^k with m in
// {1, 12, 20, 28} and 2^k <= 2^26, H = H_m (x) Sylvester's H_(2^k) (the m
// factor indexes the blocks of 2^k). scale defaults to 1 / sqrt(n), which
// makes the transform orthonormal. float16, bfloat16 and float32 keep their
// dtype (computed in float32, rounded once), float64 is computed in float64
// (MLX has no float64 kernel), any other dtype is cast to float32. A size
// of 1 (a 0-d array included) is a multiply by scale (with scale 1, `a`
// itself, as MLX). Empty arrays and other sizes are refused.
array hadamard_transform(const array& a, std::optional<float> scale = std::nullopt, StreamOrDevice s = {});

// Products of gathered matrices (mixture-of-experts layers): a (A..., M, K)
// and b (B..., K, N) hold matrices; lhs_indices into the flattened A and
// rhs_indices into the flattened B (integer arrays; each defaults to every
// matrix in order, shaped A or B) broadcast to a shape I, and
//   out[i] = a[lhs[i]] @ b[rhs[i]]       out: (I..., M, N).
// A 1-D a is a row (1, K) and a 1-D b a column (K, 1), the inserted
// dimension removed from the result, as in matmul. With neither index array
// this is matmul. Real floating dtypes only; they promote. An index outside
// [0, number of matrices) is an error when the result is computed (MLX's
// CPU kernel does not check). sorted_indices is MLX's hint that the one
// index array given is sorted; uma neither needs nor trusts it: the CPU
// kernel multiplies each run of equal rhs indices as one product wherever
// a's matrices of the run lie evenly in memory, and the gradient for b
// sorts the pairs itself (one segmented product, never a (K, N) matrix per
// pair; MLX's sorted path gives a wrong gradient for unsorted indices).
array gather_mm(array a, array b, std::optional<array> lhs_indices = std::nullopt,
                std::optional<array> rhs_indices = std::nullopt, bool sorted_indices = false,
                StreamOrDevice s = {});

// The product a (M, K) @ b (K, N) split along K: segments (S..., 2) of
// integer (start, end) pairs, and out[s] = a[:, start:end] @ b[start:end, :]
// (S..., M, N); zero where end <= start. Bounds outside [0, K] are an error
// when the result is computed. Real floating dtypes only; they promote.
array segmented_mm(array a, array b, array segments, StreamOrDevice s = {});

// matmul with block masks (block_size 32 or 64): mask_out (.., ceil(M/bs),
// ceil(N/bs)), mask_lhs (.., ceil(M/bs), ceil(K/bs)) and mask_rhs (..,
// ceil(K/bs), ceil(N/bs)) each broadcast to the product's batch dims, and
//   out = ((a * L) @ (b * R)) * O
// with each mask entry spread over its block of the matrix (edge blocks cut
// short). A boolean mask zeroes the blocks where it is false (inf and NaN
// there included); a numeric one multiplies (cast to the result dtype). If
// only one of mask_lhs / mask_rhs is given, the other is all true; the two
// are boolean only if both are. Without masks this is matmul. 1-D operands
// as matmul. Real floating dtypes only.
array block_masked_mm(array a, array b, int block_size, std::optional<array> mask_out = std::nullopt,
                      std::optional<array> mask_lhs = std::nullopt,
                      std::optional<array> mask_rhs = std::nullopt, StreamOrDevice s = {});

// sum(conj(a) * b, axis): the dot product of vectors along `axis` (the same
// axis of both, which must have equal sizes; other dims broadcast).
array vecdot(const array& a, const array& b, int axis = -1, StreamOrDevice s = {});

}  // namespace uma
