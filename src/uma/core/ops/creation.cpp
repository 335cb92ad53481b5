#include "uma/core/ops/creation.h"

#include <cmath>
#include <limits>

#include <optional>

#include "uma/core/ops/elementwise.h"
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

// --- window functions, composed in float32 exactly as MLX composes them.
namespace {

// n = 0 .. M-1 in float32, or nullopt with the result for M < 2.
std::optional<array> window_points(int M, array& edge, StreamOrDevice s) {
  if (M < 1) {
    edge = zeros({0}, float32, s);
    return std::nullopt;
  }
  if (M == 1) {
    edge = ones({1}, float32, s);
    return std::nullopt;
  }
  return arange(0.0, double(M), 1.0, float32, s);
}

}  // namespace

array bartlett(int M, StreamOrDevice s) {
  array edge(0.f);
  auto n = window_points(M, edge, s);
  if (!n) return edge;
  array term = subtract(multiply(array(2.0f / float(M - 1)), *n, s), array(1.0f), s);
  return subtract(array(1.0f), abs(term, s), s);
}

array hanning(int M, StreamOrDevice s) {
  array edge(0.f);
  auto n = window_points(M, edge, s);
  if (!n) return edge;
  return square(sin(multiply(array(float(M_PI / (M - 1))), *n, s), s), s);
}

array hamming(int M, StreamOrDevice s) {
  array edge(0.f);
  auto n = window_points(M, edge, s);
  if (!n) return edge;
  array c = cos(multiply(array(float(2.0 * M_PI / (M - 1))), *n, s), s);
  return subtract(array(0.54f), multiply(array(0.46f), c, s), s);
}

// 0.42 - 0.5 cos x + 0.08 cos 2x written as 0.34 - 0.5 cos x + 0.16 cos^2 x (MLX).
array blackman(int M, StreamOrDevice s) {
  array edge(0.f);
  auto n = window_points(M, edge, s);
  if (!n) return edge;
  array c = cos(multiply(array(float(2.0 * M_PI / (M - 1))), *n, s), s);
  return add(subtract(array(0.34f), multiply(array(0.5f), c, s), s), multiply(array(0.16f), square(c, s), s), s);
}

}  // namespace uma
