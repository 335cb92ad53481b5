// Sorting primitives: along one axis, NaNs last. Outputs are row-major with
// the input's shape; index outputs are uint32.
#pragma once

#include "uma/core/primitive.h"

namespace uma {

#define UMA_SORT_PRIMITIVES(X) X(Sort) X(ArgSort) X(Partition) X(ArgPartition)

class Sort : public UnaryPrimitive {
 public:
  Sort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int axis_;
};

// Stable: equal values keep their order.
class ArgSort : public UnaryPrimitive {
 public:
  ArgSort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int axis_;
};

// std::nth_element semantics: position kth (non-negative) holds the value a
// full sort would put there; nothing larger before it, nothing smaller after.
class Partition : public UnaryPrimitive {
 public:
  Partition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int kth_, axis_;
};

class ArgPartition : public UnaryPrimitive {
 public:
  ArgPartition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  UMA_DECLARE_PRIMITIVE()

 private:
  int kth_, axis_;
};

}  // namespace uma
