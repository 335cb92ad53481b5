// Serialization of sorts and partitions: an axis of the input, and for
// partitions a kth inside that axis.
#include "uma/core/primitives/serialize.h"
#include "uma/core/primitives/sort.h"

namespace uma {

namespace {
void check_sort(const PrimitiveReader& r, int axis, int kth, bool indices) {
  r.inputs(1);
  r.outputs(1);
  r.axis(axis, r.ndim(0), "axis");
  int n = r.in(0).shape[size_t(axis)];
  r.check(kth >= 0 && (kth < n || r.elements(r.in(0).shape) == 0), "kth is outside the axis");
  r.check(r.in(0).dtype != complex64, "complex64 arrays have no order");
  r.out_dtype(indices ? uint32 : r.in(0).dtype);
}

// Sort and ArgSort store an axis; Partition and ArgPartition kth, then the axis.
template <typename P>
std::shared_ptr<Primitive> read_sort(Stream s, PrimitiveReader& r, bool partition, bool indices) {
  int kth = partition ? r.get<int>() : 0;
  auto axis = r.get<int>();
  check_sort(r, axis, kth, indices);
  if constexpr (std::is_constructible_v<P, Stream, int, int>) {
    return std::make_shared<P>(s, kth, axis);
  } else {
    return std::make_shared<P>(s, axis);
  }
}
}  // namespace

void Sort::serialize(PrimitiveWriter& w) const { w.put(axis_); }
std::shared_ptr<Primitive> Sort::deserialize(Stream s, PrimitiveReader& r) { return read_sort<Sort>(s, r, false, false); }

void ArgSort::serialize(PrimitiveWriter& w) const { w.put(axis_); }
std::shared_ptr<Primitive> ArgSort::deserialize(Stream s, PrimitiveReader& r) {
  return read_sort<ArgSort>(s, r, false, true);
}

void Partition::serialize(PrimitiveWriter& w) const { w.fields(*this, &Partition::kth_, &Partition::axis_); }
std::shared_ptr<Primitive> Partition::deserialize(Stream s, PrimitiveReader& r) {
  return read_sort<Partition>(s, r, true, false);
}

void ArgPartition::serialize(PrimitiveWriter& w) const { w.fields(*this, &ArgPartition::kth_, &ArgPartition::axis_); }
std::shared_ptr<Primitive> ArgPartition::deserialize(Stream s, PrimitiveReader& r) {
  return read_sort<ArgPartition>(s, r, true, true);
}

}  // namespace uma
