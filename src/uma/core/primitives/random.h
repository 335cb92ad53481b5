// Random-number primitives. Everything random is built from RandomBits and
// ordinary ops (see ops/random.h).
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_RANDOM_PRIMITIVES(X) X(RandomBits)

// Random bits from Threefry-2x32 keys. Input: keys of shape (K..., 2),
// uint32. Output: (K..., shape...) of uint8/uint16/uint32 for width 1/2/4;
// each key fills its block of the output as MLX's RandomBits does.
class RandomBits : public UnaryPrimitive {
 public:
  RandomBits(Stream s, Shape shape, int width) : UnaryPrimitive(s), shape_(std::move(shape)), width_(width) {}
  UMA_DECLARE_PRIMITIVE()
  int width() const { return width_; }

 private:
  Shape shape_;
  int width_;
};

}  // namespace uma
