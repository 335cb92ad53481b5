// Sorting ops: sort, argsort, partition, argpartition, topk. Checks and graph
// construction; the kernels live in the backends.
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/sort.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

void check_ordered(const array& a, const char* op) {
  if (is_complex(a.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] complex64 arrays have no order");
  }
}

array flat(const array& a, StreamOrDevice s) { return reshape(a, {int32_t(a.size())}, s); }

// kth in [-n, n) -> [0, n).
int normalize_kth(const array& a, int kth, int axis, const char* op) {
  int n = a.shape(axis);
  int k = kth < 0 ? kth + n : kth;
  if (k < 0 || k >= n) {
    throw std::invalid_argument(std::string("[") + op + "] kth=" + std::to_string(kth) +
                                " is out of bounds for axis " + std::to_string(axis) + " of size " +
                                std::to_string(n) + " (shape " + shape_str(a.shape()) + ")");
  }
  return k;
}

}  // namespace

array sort(const array& a, int axis, StreamOrDevice s) {
  check_ordered(a, "sort");
  int ax = normalize_axis(axis, int(a.ndim()), "sort");
  return array(a.shape(), a.dtype(), std::make_shared<Sort>(to_stream(s), ax), {a});
}
array sort(const array& a, StreamOrDevice s) { return sort(flat(a, s), 0, s); }

array argsort(const array& a, int axis, StreamOrDevice s) {
  check_ordered(a, "argsort");
  int ax = normalize_axis(axis, int(a.ndim()), "argsort");
  return array(a.shape(), uint32, std::make_shared<ArgSort>(to_stream(s), ax), {a});
}
array argsort(const array& a, StreamOrDevice s) { return argsort(flat(a, s), 0, s); }

array partition(const array& a, int kth, int axis, StreamOrDevice s) {
  check_ordered(a, "partition");
  int ax = normalize_axis(axis, int(a.ndim()), "partition");
  int k = normalize_kth(a, kth, ax, "partition");
  return array(a.shape(), a.dtype(), std::make_shared<Partition>(to_stream(s), k, ax), {a});
}
array partition(const array& a, int kth, StreamOrDevice s) { return partition(flat(a, s), kth, 0, s); }

array argpartition(const array& a, int kth, int axis, StreamOrDevice s) {
  check_ordered(a, "argpartition");
  int ax = normalize_axis(axis, int(a.ndim()), "argpartition");
  int k = normalize_kth(a, kth, ax, "argpartition");
  return array(a.shape(), uint32, std::make_shared<ArgPartition>(to_stream(s), k, ax), {a});
}
array argpartition(const array& a, int kth, StreamOrDevice s) { return argpartition(flat(a, s), kth, 0, s); }

// As MLX: partition at n - k and keep the last k positions. The result has
// a's shape with `axis` of size k; its first element along the axis is the
// k-th largest, the others (the larger ones) follow in no particular order.
array topk(const array& a, int k, int axis, StreamOrDevice s) {
  check_ordered(a, "topk");
  int ax = normalize_axis(axis, int(a.ndim()), "topk");
  int n = a.shape(ax);
  if (k < 0 || k > n) {
    throw std::invalid_argument("[topk] k=" + std::to_string(k) + " must be in [0, " + std::to_string(n) +
                                "] for axis " + std::to_string(ax) + " of shape " + shape_str(a.shape()));
  }
  Shape start(a.ndim(), 0), stop = a.shape();
  start[ax] = n - k;
  array p = k == 0 ? a : partition(a, n - k, ax, s);
  return slice(p, start, stop, s);
}
array topk(const array& a, int k, StreamOrDevice s) { return topk(flat(a, s), k, 0, s); }

}  // namespace uma
