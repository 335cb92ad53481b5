// Reductions over axes, arg-reductions, softmax and logsumexp: argument
// checks, output dtypes (MLX's rules) and graph construction.
#include "uma/core/ops/reduction.h"

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/reduction_impl.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/reduction.h"
#include "uma/core/utils.h"

namespace uma {

using detail::all_axes;
using detail::at_least_float;
using detail::reduced_count;

namespace {

std::string axes_str(const std::vector<int>& axes) {
  std::string s = "[";
  for (size_t i = 0; i < axes.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(axes[i]);
  }
  s += ']';
  return s;
}

// Output shape of reducing sorted `axes` (size 1 where keepdims).
Shape reduced_shape(const Shape& shape, const std::vector<int>& axes, bool keepdims) {
  Shape out;
  for (int d = 0, j = 0; d < int(shape.size()); ++d) {
    bool red = j < int(axes.size()) && axes[j] == d;
    if (red) ++j;
    if (!red) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

// sum/prod of bool and small ints accumulate in 32 bits, as MLX.
Dtype sum_dtype(Dtype t) {
  switch (kind_of(t)) {
    case DtypeKind::boolean: return int32;
    case DtypeKind::signed_int: return size_of(t) <= 4 ? int32 : int64;
    case DtypeKind::unsigned_int: return size_of(t) <= 4 ? uint32 : uint64;
    default: return t;
  }
}

void check_ordered(const array& a, const char* op) {
  if (is_complex(a.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] complex64 arrays have no order");
  }
}

// The node of one reduction; `ax` normalized and sorted.
array reduce(const array& a, const std::vector<int>& ax, bool keepdims, Reduce::Type type, Dtype out_type,
             StreamOrDevice s) {
  if (ax.empty()) return astype(a, out_type, s);
  Shape keep = reduced_shape(a.shape(), ax, true);
  array r(keep, out_type, std::make_shared<Reduce>(to_stream(s), type, ax, out_type), {a});
  return keepdims ? r : reshape(r, reduced_shape(a.shape(), ax, false), s);
}

array extreme(const array& a, const std::vector<int>& axes, bool keepdims, Reduce::Type type, const char* op,
              StreamOrDevice s) {
  check_ordered(a, op);
  auto ax = normalize_axes(axes, int(a.ndim()), op);
  // No value to give: reducing zero elements into a non-empty output.
  int64_t out_size = 1;
  for (int32_t d : reduced_shape(a.shape(), ax, false)) out_size *= d;
  if (reduced_count(a.shape(), ax) == 0 && out_size > 0) {
    throw std::invalid_argument(std::string("[") + op + "] cannot reduce an empty array of shape " +
                                shape_str(a.shape()) + " over axes " + axes_str(ax) + " (no identity)");
  }
  return reduce(a, ax, keepdims, type, a.dtype(), s);
}

bool is_identity(const std::vector<int>& perm) {
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] != int(i)) return false;
  }
  return true;
}

// Moves sorted `ax` to the end and merges them into one trailing axis.
array axes_to_last(const array& a, const std::vector<int>& ax, std::vector<int>& perm, StreamOrDevice s) {
  perm.clear();
  Shape shape;
  for (int d = 0, j = 0; d < int(a.ndim()); ++d) {
    if (j < int(ax.size()) && ax[j] == d) {
      ++j;
    } else {
      perm.push_back(d);
      shape.push_back(a.shape(d));
    }
  }
  perm.insert(perm.end(), ax.begin(), ax.end());
  shape.push_back(int32_t(reduced_count(a.shape(), ax)));
  array t = is_identity(perm) ? a : transpose(a, perm, s);
  return reshape(t, shape, s);
}

}  // namespace

#define UMA_REDUCTION_OVERLOADS(NAME)                                                  \
  array NAME(const array& a, bool keepdims, StreamOrDevice s) {                        \
    return NAME(a, all_axes(a), keepdims, s);                                          \
  }                                                                                    \
  array NAME(const array& a, int axis, bool keepdims, StreamOrDevice s) {              \
    return NAME(a, std::vector<int>{axis}, keepdims, s);                               \
  }
UMA_REDUCTION_OVERLOADS(sum)
UMA_REDUCTION_OVERLOADS(prod)
UMA_REDUCTION_OVERLOADS(max)
UMA_REDUCTION_OVERLOADS(min)
UMA_REDUCTION_OVERLOADS(all)
UMA_REDUCTION_OVERLOADS(any)
UMA_REDUCTION_OVERLOADS(logsumexp)
#undef UMA_REDUCTION_OVERLOADS

array detail::sum_as(const array& a, const std::vector<int>& axes, bool keepdims, Dtype dtype, StreamOrDevice s) {
  return reduce(a, axes, keepdims, Reduce::Type::sum, dtype, s);
}

array sum(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "sum");
  return reduce(a, ax, keepdims, Reduce::Type::sum, sum_dtype(a.dtype()), s);
}

array prod(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "prod");
  return reduce(a, ax, keepdims, Reduce::Type::prod, sum_dtype(a.dtype()), s);
}

array max(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return extreme(a, axes, keepdims, Reduce::Type::max, "max", s);
}

array min(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return extreme(a, axes, keepdims, Reduce::Type::min, "min", s);
}

array all(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "all");
  return reduce(a, ax, keepdims, Reduce::Type::all, bool_, s);
}

array any(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "any");
  return reduce(a, ax, keepdims, Reduce::Type::any, bool_, s);
}

// Fused over one trailing axis after moving the reduced axes there. Reducing
// zero elements gives -inf (log of an empty sum).
array logsumexp(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  check_ordered(a, "logsumexp");
  auto ax = normalize_axes(axes, int(a.ndim()), "logsumexp");
  Dtype dt = at_least_float(a.dtype());
  std::vector<int> perm;
  array t = axes_to_last(astype(a, dt, s), ax, perm, s);
  Shape keep = t.shape();
  keep.back() = 1;
  array r(keep, dt, std::make_shared<LogSumExp>(to_stream(s)), {t});
  return reshape(r, reduced_shape(a.shape(), ax, keepdims), s);
}

array softmax(const array& a, const std::vector<int>& axes, bool precise, StreamOrDevice s) {
  check_ordered(a, "softmax");
  auto ax = normalize_axes(axes, int(a.ndim()), "softmax");
  Dtype dt = at_least_float(a.dtype());
  std::vector<int> perm;
  array t = axes_to_last(astype(a, dt, s), ax, perm, s);
  array r(t.shape(), dt, std::make_shared<Softmax>(to_stream(s), precise), {t});
  Shape moved;
  for (int p : perm) moved.push_back(a.shape(p));
  r = reshape(r, moved, s);
  if (is_identity(perm)) return r;
  std::vector<int> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = int(i);
  return transpose(r, inv, s);
}

array softmax(const array& a, int axis, bool precise, StreamOrDevice s) {
  return softmax(a, std::vector<int>{axis}, precise, s);
}
array softmax(const array& a, bool precise, StreamOrDevice s) { return softmax(a, all_axes(a), precise, s); }

namespace {
array arg_reduce(const array& a, int axis, bool keepdims, ArgReduce::Type type, const char* op, StreamOrDevice s) {
  check_ordered(a, op);
  int ax = normalize_axis(axis, int(a.ndim()), op);
  if (a.shape(ax) == 0) {
    throw std::invalid_argument(std::string("[") + op + "] cannot reduce the empty axis " + std::to_string(ax) +
                                " of an array of shape " + shape_str(a.shape()));
  }
  Shape keep = a.shape();
  keep[ax] = 1;
  array r(keep, uint32, std::make_shared<ArgReduce>(to_stream(s), type, ax), {a});
  return keepdims ? r : reshape(r, reduced_shape(a.shape(), {ax}, false), s);
}

array arg_reduce_flat(const array& a, bool keepdims, ArgReduce::Type type, const char* op, StreamOrDevice s) {
  array r = arg_reduce(reshape(a, {int32_t(a.size())}, s), 0, true, type, op, s);
  return reshape(r, keepdims ? Shape(a.ndim(), 1) : Shape{}, s);
}
}  // namespace

array argmax(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce(a, axis, keepdims, ArgReduce::Type::argmax, "argmax", s);
}
array argmin(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce(a, axis, keepdims, ArgReduce::Type::argmin, "argmin", s);
}
array argmax(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_flat(a, keepdims, ArgReduce::Type::argmax, "argmax", s);
}
array argmin(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_flat(a, keepdims, ArgReduce::Type::argmin, "argmin", s);
}

// As MLX: sum(a != 0) in int32.
array count_nonzero(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  array nz = astype(not_equal(a, zeros({}, a.dtype(), s), s), int32, s);
  return sum(nz, axes, keepdims, s);
}
array count_nonzero(const array& a, bool keepdims, StreamOrDevice s) {
  return count_nonzero(a, all_axes(a), keepdims, s);
}
array count_nonzero(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return count_nonzero(a, std::vector<int>{axis}, keepdims, s);
}

}  // namespace uma
