// vmap rule of RandomBits. Keys (K..., 2) fill one block of the output each,
// so a batch of keys is just more keys: the batch axis must only stay off
// the last axis (the key pair).
#include <numeric>

#include "uma/core/ops/shape.h"
#include "uma/core/primitives/random.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> RandomBits::vmap(const std::vector<array>& inputs,
                                                                 const std::vector<int>& axes) {
  array key = inputs[0];
  int b = axes[0];
  int last = int(key.ndim()) - 1;
  if (b == last) {
    key = swapaxes(key, last, last - 1, stream());
    b = last - 1;
  }
  Dtype dt = width_ == 1 ? uint8 : width_ == 2 ? uint16 : uint32;
  return {{detail::make_node(std::make_shared<RandomBits>(stream(), shape_, width_), {key}, dt)}, {b}};
}

}  // namespace uma
