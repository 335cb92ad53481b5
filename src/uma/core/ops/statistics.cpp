// mean, var and std: a sum, then elementwise arithmetic (ops/elementwise.h).
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/reduction_impl.h"
#include "uma/core/ops/shape.h"
#include "uma/core/utils.h"

namespace uma {

using detail::all_axes;
using detail::at_least_float;
using detail::reduced_count;

array mean(const array& a, bool keepdims, StreamOrDevice s) { return mean(a, all_axes(a), keepdims, s); }
array mean(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return mean(a, std::vector<int>{axis}, keepdims, s);
}

// The sum runs straight into float32 for ints and half types (no overflow of
// an int32 or float16 total), then divides and rounds to the result dtype.
array mean(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "mean");
  Dtype dt = at_least_float(a.dtype());
  Dtype acc = (dt == float16 || dt == bfloat16) ? float32 : dt;
  array total = detail::sum_as(a, ax, keepdims, acc, s);
  double n = double(reduced_count(a.shape(), ax));
  return astype(divide(total, array(n, acc), s), dt, s);
}

// Two passes: the mean, then the sum of squared deviations; divides by
// max(n - ddof, 0) as MLX (so n <= ddof gives inf or nan).
array var(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  if (is_complex(a.dtype())) throw std::invalid_argument("[var] complex64 arrays are not supported");
  auto ax = normalize_axes(axes, int(a.ndim()), "var");
  Dtype dt = at_least_float(a.dtype());
  Dtype acc = (dt == float16 || dt == bfloat16) ? float32 : dt;
  array x = astype(a, acc, s);
  array d = subtract(x, mean(x, ax, true, s), s);
  array ss = sum(square(d, s), ax, keepdims, s);
  double n = std::max<double>(double(reduced_count(a.shape(), ax)) - ddof, 0.0);
  return astype(divide(ss, array(n, acc), s), dt, s);
}

array var(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return var(a, all_axes(a), keepdims, ddof, s); }
array var(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return var(a, std::vector<int>{axis}, keepdims, ddof, s);
}

array std(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  return sqrt(var(a, axes, keepdims, ddof, s), s);
}
array std(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return std(a, all_axes(a), keepdims, ddof, s); }
array std(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return std(a, std::vector<int>{axis}, keepdims, ddof, s);
}

}  // namespace uma
