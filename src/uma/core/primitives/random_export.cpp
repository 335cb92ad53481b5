// Serialization of RandomBits: uint32 keys (..., 2) and a width of 1, 2 or 4
// bytes that fixes the output dtype.
#include "uma/core/primitives/random.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

void RandomBits::serialize(PrimitiveWriter& w) const { w.fields(*this, &RandomBits::shape_, &RandomBits::width_); }
std::shared_ptr<Primitive> RandomBits::deserialize(Stream s, PrimitiveReader& r) {
  auto shape = r.get<Shape>();
  auto width = r.get<int>();
  r.inputs(1);
  r.outputs(1);
  r.elements(shape);
  const TypedShape& keys = r.in(0);
  r.check(keys.dtype == uint32 && !keys.shape.empty() && keys.shape.back() == 2, "needs uint32 keys of shape (..., 2)");
  r.check(width == 1 || width == 2 || width == 4, "width must be 1, 2 or 4 bytes");
  r.out_dtype(width == 4 ? uint32 : width == 2 ? uint16 : uint8);
  return std::make_shared<RandomBits>(s, std::move(shape), width);
}

}  // namespace uma
