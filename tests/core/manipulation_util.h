// Helpers shared by the manipulation and indexing tests.
#pragma once

#include <vector>

#include "uma/uma.h"

namespace uma::test {

using V = std::vector<int>;

inline V iv(array a) { return a.to_vector<int>(); }

// 0, 1, 2, ... in row-major order, reshaped and cast.
inline array iota(Shape shape, Dtype dt = int32) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  return astype(reshape(arange(int(n)), shape), dt);
}

}  // namespace uma::test
