// Name, equivalence, shape and gradient rules of RandomBits.
#include "uma/core/primitives/random.h"

#include "uma/core/ops/creation.h"

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

// Integer keys in, integer bits out: zero derivatives.
std::vector<array> RandomBits::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&, const std::vector<array>&) {
  return {zeros_like(primals[0], stream())};
}

std::vector<array> RandomBits::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                   const std::vector<int>&) {
  Dtype t = width_ == 1 ? uint8 : width_ == 2 ? uint16 : uint32;
  return {zeros(output_shapes(primals)[0], t, stream())};
}

}  // namespace uma
