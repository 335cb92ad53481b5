// Name, equivalence and shape of RandomBits.
#include "uma/core/primitives/random.h"

namespace uma {

UMA_RANDOM_PRIMITIVES(UMA_PRIMITIVE_NAME)

bool RandomBits::is_equivalent(const Primitive& o) const {
  return same<RandomBits>(o, [&](const RandomBits& p) { return p.shape_ == shape_ && p.width_ == width_; });
}

// Keys (K..., 2) -> bits (K..., shape_...).
std::vector<Shape> RandomBits::output_shapes(const std::vector<array>& inputs) {
  Shape s(inputs[0].shape().begin(), inputs[0].shape().end() - 1);
  s.insert(s.end(), shape_.begin(), shape_.end());
  return {s};
}

}  // namespace uma
