// Ops composed of other ops: kron and number_of_elements.
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// Kronecker product: block (i, j) of the result is a[i, j] * b (any ndim;
// the shorter shape is padded with leading 1s).
array kron(const array& a, const array& b, StreamOrDevice s = {});

// The product of a's dims over `axes` (1 / product when inverted) as a 0-d
// array of `dtype` (MLX computes it lazily for shapeless compile; here the
// shape is known at graph time).
array number_of_elements(const array& a, std::vector<int> axes, bool inverted, Dtype dtype = int32,
                         StreamOrDevice s = {});

}  // namespace uma
