// Helpers shared by the matmul family's ops (ops/linalg*.cpp): dtype rules
// and batch shapes of matrix operands.
#pragma once

#include <optional>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::detail {

// The promoted dtype of a product; throws "[op] ..." unless it is floating
// point or complex (matmul's rule).
Dtype product_type(Dtype a, Dtype b, const char* op);
// The same for the products that take real floating types only (gather_mm,
// segmented_mm, block_masked_mm, as MLX).
Dtype real_product_type(Dtype a, Dtype b, const char* op);

// The dims before the last two.
inline Shape batch_of(const array& x) { return Shape(x.shape().begin(), x.shape().end() - 2); }

inline Shape with_matrix(Shape batch, int32_t rows, int32_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// The batch indices of a gathered product into x's matrices: the given ones
// (any integer dtype; "[op] <which> must have an integer dtype" otherwise),
// or by default every matrix of x in order, shaped as x's batch dims.
array matrix_indices(const char* op, const char* which, const std::optional<array>& idx, const array& x,
                     StreamOrDevice s);

}  // namespace uma::detail
