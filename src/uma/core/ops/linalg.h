// Matrix products: matmul and the ops built on it (MLX names and semantics).
// Only inexact dtypes multiply (MLX's rule): integer or bool operands throw
// std::invalid_argument; cast them with astype first. Mixed dtypes promote.
// bfloat16/float16 products accumulate in float32 and return the input dtype.
#pragma once

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

}  // namespace uma
