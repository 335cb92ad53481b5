// vmap rules of the sorting primitives: the sorted axis shifts past the
// batch axis, which stays where it is.
#include "uma/core/ops/reduction.h"
#include "uma/core/primitives/sort.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Sort::vmap(const std::vector<array>& inputs,
                                                           const std::vector<int>& axes) {
  return {{sort(inputs[0], detail::shift_axis(axis_, axes[0]), stream())}, axes};
}

std::pair<std::vector<array>, std::vector<int>> ArgSort::vmap(const std::vector<array>& inputs,
                                                              const std::vector<int>& axes) {
  return {{argsort(inputs[0], detail::shift_axis(axis_, axes[0]), stream())}, axes};
}

std::pair<std::vector<array>, std::vector<int>> Partition::vmap(const std::vector<array>& inputs,
                                                                const std::vector<int>& axes) {
  return {{partition(inputs[0], kth_, detail::shift_axis(axis_, axes[0]), stream())}, axes};
}

std::pair<std::vector<array>, std::vector<int>> ArgPartition::vmap(const std::vector<array>& inputs,
                                                                   const std::vector<int>& axes) {
  return {{argpartition(inputs[0], kth_, detail::shift_axis(axis_, axes[0]), stream())}, axes};
}

}  // namespace uma
