#include "uma/core/ops/creation.h"

#include <cmath>
#include <limits>

#include "uma/core/ops/shape.h"
#include "uma/core/primitives/shape.h"
#include "uma/core/utils.h"

namespace uma {

array full(Shape shape, const array& vals, Dtype dtype, StreamOrDevice s) {
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument("[full] negative dimension in shape " + shape_str(shape));
  }
  if (vals.size() == 1) {
    return array(shape, dtype, std::make_shared<Full>(to_stream(s), shape), {reshape(astype(vals, dtype, s), {}, s)});
  }
  return copy(broadcast_to(astype(vals, dtype, s), shape, s), s);
}

array full(Shape shape, const array& vals, StreamOrDevice s) { return full(std::move(shape), vals, vals.dtype(), s); }

array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s) { return full(shape, array(0, dtype), dtype, s); }
array ones(const Shape& shape, Dtype dtype, StreamOrDevice s) { return full(shape, array(1, dtype), dtype, s); }
array zeros_like(const array& a, StreamOrDevice s) { return zeros(a.shape(), a.dtype(), s); }
array ones_like(const array& a, StreamOrDevice s) { return ones(a.shape(), a.dtype(), s); }
array full_like(const array& a, double val, StreamOrDevice s) {
  return full(a.shape(), array(val, a.dtype()), a.dtype(), s);
}

array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s) {
  if (step == 0) throw std::invalid_argument("[arange] step must not be zero");
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step)) {
    throw std::invalid_argument("[arange] start, stop and step must be finite");
  }
  if (dtype == bool_) throw std::invalid_argument("[arange] bool is not a valid dtype for arange");
  double n = std::ceil((stop - start) / step);
  if (n > double(std::numeric_limits<int32_t>::max())) {
    throw std::invalid_argument("[arange] the result would have more than 2^31-1 elements");
  }
  int32_t len = n > 0 ? int32_t(n) : 0;
  return array({len}, dtype, std::make_shared<Arange>(to_stream(s), start, stop, step), {});
}

array arange(double start, double stop, double step, StreamOrDevice s) {
  return arange(start, stop, step, float32, s);
}
array arange(double start, double stop, Dtype dtype, StreamOrDevice s) { return arange(start, stop, 1.0, dtype, s); }
array arange(double stop, Dtype dtype, StreamOrDevice s) { return arange(0.0, stop, 1.0, dtype, s); }
array arange(int start, int stop, int step, StreamOrDevice s) {
  return arange(double(start), double(stop), double(step), int32, s);
}
array arange(int stop, StreamOrDevice s) { return arange(0, stop, 1, s); }

}  // namespace uma
