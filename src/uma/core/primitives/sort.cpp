// Names, equivalence and shapes of the sorting primitives: each output has
// its input's shape.
#include "uma/core/primitives/sort.h"

namespace uma {

UMA_SORT_PRIMITIVES(UMA_PRIMITIVE_NAME)

bool Sort::is_equivalent(const Primitive& o) const {
  return same<Sort>(o, [&](const Sort& p) { return p.axis_ == axis_; });
}
bool ArgSort::is_equivalent(const Primitive& o) const {
  return same<ArgSort>(o, [&](const ArgSort& p) { return p.axis_ == axis_; });
}
bool Partition::is_equivalent(const Primitive& o) const {
  return same<Partition>(o, [&](const Partition& p) { return p.axis_ == axis_ && p.kth_ == kth_; });
}
bool ArgPartition::is_equivalent(const Primitive& o) const {
  return same<ArgPartition>(o, [&](const ArgPartition& p) { return p.axis_ == axis_ && p.kth_ == kth_; });
}

UMA_SORT_PRIMITIVES(UMA_OUTPUT_SHAPE_OF_INPUT)

}  // namespace uma
