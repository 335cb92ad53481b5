// Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and diff: checks, output
// dtypes (MLX: cumsum/cumprod of bool -> int32) and graph construction.
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/reduction.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

array scan(const array& a, std::optional<int> axis, bool reverse, bool inclusive, Scan::Type type, const char* op,
           StreamOrDevice s) {
  if (!axis) return scan(reshape(a, {int32_t(a.size())}, s), 0, reverse, inclusive, type, op, s);
  int ax = normalize_axis(*axis, int(a.ndim()), op);
  Dtype dt = a.dtype();
  bool arith = type == Scan::Type::sum || type == Scan::Type::prod;
  if (is_complex(dt) && !arith) {
    throw std::invalid_argument(std::string("[") + op + "] complex64 arrays have no order");
  }
  array in = a;
  if (arith && dt == bool_) dt = int32;
  if (type == Scan::Type::logaddexp && !is_floating_point(dt)) {
    dt = float32;
    in = astype(a, dt, s);
  }
  return array(a.shape(), dt, std::make_shared<Scan>(to_stream(s), type, ax, reverse, inclusive), {in});
}

}  // namespace

array cumsum(const array& a, std::optional<int> axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan(a, axis, reverse, inclusive, Scan::Type::sum, "cumsum", s);
}
array cumprod(const array& a, std::optional<int> axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan(a, axis, reverse, inclusive, Scan::Type::prod, "cumprod", s);
}
array cummax(const array& a, std::optional<int> axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan(a, axis, reverse, inclusive, Scan::Type::max, "cummax", s);
}
array cummin(const array& a, std::optional<int> axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan(a, axis, reverse, inclusive, Scan::Type::min, "cummin", s);
}
array logcumsumexp(const array& a, std::optional<int> axis, bool reverse, bool inclusive, StreamOrDevice s) {
  return scan(a, axis, reverse, inclusive, Scan::Type::logaddexp, "logcumsumexp", s);
}

// As MLX: n rounds of a[1:] - a[:-1] along the axis (bool subtracts as
// MLX's subtract does).
array diff(const array& a, int n, int axis, StreamOrDevice s) {
  if (a.ndim() == 0) throw std::invalid_argument("[diff] a 0-d array has no axis to difference");
  int ax = normalize_axis(axis, int(a.ndim()), "diff");
  if (n < 0) throw std::invalid_argument("[diff] order n=" + std::to_string(n) + " must be non-negative");
  array x = a;
  for (int i = 0; i < n && x.shape(ax) > 0; ++i) {
    Shape upper_start(x.ndim(), 0), lower_stop = x.shape();
    upper_start[ax] = 1;
    lower_stop[ax] = x.shape(ax) - 1;
    x = subtract(slice(x, upper_start, x.shape(), s), slice(x, Shape(x.ndim(), 0), lower_stop, s), s);
  }
  return x;
}

}  // namespace uma
