// where, clip and closeness tests; and the creation ops made of
// comparisons (linspace, eye, identity, tri, tril, triu).
#include <cmath>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/elementwise_impl.h"
#include "uma/core/primitives/elementwise.h"

namespace uma {

array where(const array& condition, const array& x, const array& y, StreamOrDevice s) {
  Shape shape = broadcast_shapes(broadcast_shapes(condition.shape(), x.shape(), "where"), y.shape(), "where");
  Dtype t = promote_types(x.dtype(), y.dtype());
  std::vector<array> in = {broadcast_to(astype(condition, bool_, s), shape, s),
                           broadcast_to(astype(x, t, s), shape, s), broadcast_to(astype(y, t, s), shape, s)};
  return detail::make_node<Select>(std::move(shape), t, std::move(in), s);
}

array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max, StreamOrDevice s) {
  if (!a_min && !a_max) throw std::invalid_argument("[clip] at most one of a_min and a_max may be empty");
  array out = a;
  if (a_min) out = maximum(out, *a_min, s);
  if (a_max) out = minimum(out, *a_max, s);
  return out;
}

// |a - b| <= atol + rtol * |b|, with infinities equal only to themselves
// (MLX's isclose).
array isclose(const array& a, const array& b, double rtol, double atol, bool equal_nan, StreamOrDevice s) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  array x = astype(a, t, s), y = astype(b, t, s);
  array diff = abs(subtract(x, y, s), s);
  array bound = add(weak_scalar(atol, diff), multiply(weak_scalar(rtol, diff), abs(y, s), s), s);
  array out = less_equal(diff, bound, s);
  if (is_inexact(t)) {
    out = logical_and(out, logical_and(isfinite(x, s), isfinite(y, s), s), s);
    out = logical_or(out, logical_and(logical_not(isfinite(x, s), s), equal(x, y, s), s), s);
    if (equal_nan) out = logical_or(out, logical_and(isnan(x, s), isnan(y, s), s), s);
  }
  return out;
}

// --- creation
array linspace(double start, double stop, int num, Dtype dtype, StreamOrDevice s) {
  if (num < 0) {
    throw std::invalid_argument("[linspace] number of samples must be non-negative, got " + std::to_string(num));
  }
  Dtype t = dtype == float64 ? float64 : float32;
  if (num == 1) return full({1}, start, dtype, s);
  // (1 - i/(n-1)) * start + i/(n-1) * stop: both ends are exact.
  array f = divide(arange(0.0, double(num), 1.0, t, s), array(double(num - 1), t), s);
  array out = add(multiply(subtract(array(1.0, t), f, s), array(start, t), s), multiply(f, array(stop, t), s), s);
  return astype(out, dtype, s);
}

namespace {
// (n, m) int32 matrix of j - i, the diagonal index of each element.
array diagonal_index(const char* op, int n, int m, StreamOrDevice s) {
  if (n < 0 || m < 0) {
    throw std::invalid_argument(std::string("[") + op + "] n and m must be non-negative, got " + std::to_string(n) +
                                " and " + std::to_string(m));
  }
  return subtract(reshape(arange(0, m, 1, s), {1, m}, s), reshape(arange(0, n, 1, s), {n, 1}, s), s);
}
}  // namespace

array eye(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  return astype(equal(diagonal_index("eye", n, m, s), array(k), s), dtype, s);
}

array eye(int n, Dtype dtype, StreamOrDevice s) { return eye(n, n, 0, dtype, s); }
array identity(int n, Dtype dtype, StreamOrDevice s) { return eye(n, n, 0, dtype, s); }

// Ones at and below the k-th diagonal: j - i <= k.
array tri(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  return astype(less_equal(diagonal_index("tri", n, m, s), array(k), s), dtype, s);
}

array tri(int n, Dtype dtype, StreamOrDevice s) { return tri(n, n, 0, dtype, s); }

array tril(const array& x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) {
    throw std::invalid_argument("[tril] the array must have at least 2 dimensions, got shape " + shape_str(x.shape()));
  }
  array mask = tri(x.shape(-2), x.shape(-1), k, bool_, s);
  return where(mask, x, array(0, x.dtype()), s);
}

array triu(const array& x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) {
    throw std::invalid_argument("[triu] the array must have at least 2 dimensions, got shape " + shape_str(x.shape()));
  }
  array mask = tri(x.shape(-2), x.shape(-1), k - 1, bool_, s);
  return where(mask, array(0, x.dtype()), x, s);
}

}  // namespace uma
