// mean, var, std and median: a sum, then elementwise arithmetic (ops/elementwise.h).
#include <algorithm>
#include <limits>

#include "uma/core/ops/creation.h"
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

// As MLX: move the axes to the back, flatten them, sort, take the middle
// (or the mean of the two middles). Sort puts NaN last, so NaN is put back
// explicitly, as max, min and mean propagate it.
array median(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "median");
  if (is_complex(a.dtype())) throw std::invalid_argument("[median] complex64 arrays have no order");
  std::sort(ax.begin(), ax.end());
  std::vector<int> perm;
  for (int i = 0; i < int(a.ndim()); ++i) {
    if (!std::binary_search(ax.begin(), ax.end(), i)) perm.push_back(i);
  }
  int kept = int(perm.size());
  perm.insert(perm.end(), ax.begin(), ax.end());
  array x = transpose(a, perm, s);
  // No axes: each element is its own median (a unit axis to sort).
  x = ax.empty() ? expand_dims(x, -1, s) : flatten(x, kept, -1, s);
  int n = x.shape(-1);
  if (n == 0) throw std::invalid_argument("[median] cannot take the median of an empty axis");
  Dtype dt = at_least_float(a.dtype());
  array sorted = sort(x, -1, s);
  Shape start(sorted.ndim(), 0), stop = sorted.shape();
  start.back() = n / 2;
  stop.back() = n / 2 + 1;
  array med = astype(slice(sorted, start, stop, s), dt, s);
  if (n % 2 == 0) {
    start.back() = n / 2 - 1;
    stop.back() = n / 2;
    med = (med + astype(slice(sorted, start, stop, s), dt, s)) * 0.5;
  }
  if (is_floating_point(a.dtype())) {
    med = where(any(isnan(x, s), -1, true, s), full({}, std::numeric_limits<double>::quiet_NaN(), dt, s), med, s);
  }
  med = squeeze(med, -1, s);
  return keepdims ? expand_dims(med, ax, s) : med;
}
array median(const array& a, bool keepdims, StreamOrDevice s) { return median(a, all_axes(a), keepdims, s); }
array median(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return median(a, std::vector<int>{axis}, keepdims, s);
}

}  // namespace uma
