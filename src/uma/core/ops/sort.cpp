// Sorting ops: sort, argsort, partition, argpartition, topk, searchsorted. Checks and graph
// construction; the kernels live in the backends.
#include <bit>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
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

// MLX has a SearchSorted primitive; here the same binary search (lo, hi per
// value, bit_width(n) halvings) runs as ops, so vmap comes for free.
array searchsorted(const array& sorted_sequence, const array& values, const std::string& side, StreamOrDevice s) {
  if (side != "left" && side != "right") {
    throw std::invalid_argument("[searchsorted] side must be \"left\" or \"right\", got \"" + side + "\"");
  }
  if (sorted_sequence.ndim() != 1) {
    throw std::invalid_argument("[searchsorted] the sorted sequence must be 1-D, got shape " +
                                shape_str(sorted_sequence.shape()));
  }
  Dtype dt = promote_types(sorted_sequence.dtype(), values.dtype());
  check_ordered(zeros({}, dt, s), "searchsorted");
  array seq = astype(sorted_sequence, dt, s), v = astype(values, dt, s);
  int n = sorted_sequence.shape(0);
  array lo = zeros(v.shape(), int32, s), hi = full(v.shape(), n, int32, s);
  if (n == 0) return astype(lo, uint32, s);
  // NaN orders after every number, as in sort: x < y or (y is NaN and x is not).
  auto less_nan = [&](const array& x, const array& y) {
    array lt = less(x, y, s);
    if (!is_floating_point(dt)) return lt;
    return logical_or(lt, logical_and(isnan(y, s), logical_not(isnan(x, s), s), s), s);
  };
  for (int step = std::bit_width(unsigned(n)); step > 0; --step) {
    array mid = right_shift(lo + hi, array(1, int32), s);
    array m = take(seq, minimum(mid, array(n - 1, int32), s), 0, s);
    array below = side == "left" ? less_nan(m, v) : logical_not(less_nan(v, m), s);
    array active = less(lo, hi, s);
    lo = where(logical_and(active, below, s), mid + 1, lo, s);
    hi = where(logical_and(active, logical_not(below, s), s), mid, hi, s);
  }
  return astype(lo, uint32, s);
}

}  // namespace uma
