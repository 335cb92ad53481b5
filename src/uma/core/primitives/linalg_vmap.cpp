// vmap rules of the matmul family: batched operands put the batch axis in
// front (a matrix dimension never holds it), where the op's broadcasting of
// batch dimensions pairs it with the unbatched operand's.
#include "uma/core/ops/linalg.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Matmul::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  array a = axes[0] >= 0 ? detail::batch_to_front(inputs[0], axes[0], -1, stream()) : inputs[0];
  array b = axes[1] >= 0 ? detail::batch_to_front(inputs[1], axes[1], -1, stream()) : inputs[1];
  return {{matmul(a, b, stream())}, {0}};
}

// c only broadcasts to a @ b, so when c alone is batched, a gets the batch.
std::pair<std::vector<array>, std::vector<int>> AddMM::vmap(const std::vector<array>& inputs,
                                                            const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  bool ab = axes[0] >= 0 || axes[1] >= 0;
  array a = axes[0] >= 0 || !ab ? detail::batch_to_front(inputs[0], axes[0], n, stream()) : inputs[0];
  array b = axes[1] >= 0 ? detail::batch_to_front(inputs[1], axes[1], -1, stream()) : inputs[1];
  array c = axes[2] >= 0 ? detail::batch_to_front(inputs[2], axes[2], -1, stream()) : inputs[2];
  return {{addmm(c, a, b, alpha_, beta_, stream())}, {0}};
}

}  // namespace uma
