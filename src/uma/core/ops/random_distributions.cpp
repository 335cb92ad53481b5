// Distributions, each a few ops over RandomBits, with MLX's formulas.
#include <cmath>
#include <limits>

#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/random.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/utils.h"

namespace uma::random {

namespace impl {
void check_shape(const Shape& shape, const char* op);
}  // namespace impl

namespace {

void check_floating(Dtype dtype, const char* op) {
  if (!is_floating_point(dtype)) {
    throw std::invalid_argument(std::string("[") + op + "] needs a real floating dtype, got " + dtype_name(dtype));
  }
}

// The largest value below 1 in `dtype`, so that u in [0, 1) survives the cast.
array below_one(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return array(float(float16_t(1.0f - 1.0f / 2048)), float32);
    case Dtype::bfloat16: return array(float(bfloat16_t(1.0f - 1.0f / 256)), float32);
    case Dtype::float64: return array(std::nextafter(1.0, 0.0), float64);
    default: return array(std::nextafter(1.0f, 0.0f), float32);
  }
}

}  // namespace

array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype, const std::optional<array>& key,
              StreamOrDevice s) {
  check_floating(dtype, "uniform");
  impl::check_shape(shape, "uniform");
  array lo = astype(low, dtype, s), hi = astype(high, dtype, s);
  array range = subtract(hi, lo, s);
  if (broadcast_shapes(shape, range.shape(), "uniform") != shape) {
    throw std::invalid_argument("[uniform] low/high of shape " + shape_str(range.shape()) +
                                " do not broadcast to the requested shape " + shape_str(shape));
  }
  // MLX's recipe: bits / 2^32 (in float32), capped just below 1.
  Dtype compute = dtype == float64 ? float64 : float32;
  array u = divide(bits(shape, 4, key, s), array(std::numeric_limits<uint32_t>::max(), compute), s);
  u = astype(minimum(u, below_one(dtype), s), dtype, s);
  return add(multiply(range, u, s), lo, s);
}

array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  return uniform(array(0.0, dtype), array(1.0, dtype), shape, dtype, key, s);
}

array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc, const std::optional<array>& scale,
             const std::optional<array>& key, StreamOrDevice s) {
  array low(std::nextafter(-1.0f, 0.0f)), high(1.0f);
  if (dtype == complex64) {
    Shape two = shape;
    two.push_back(2);
    array z = erfinv(uniform(low, high, two, float32, key, s), s);
    z = squeeze(view(z, complex64, s), -1, s);
    if (scale) z = multiply(*scale, z, s);
    if (loc) z = add(*loc, z, s);
    return z;
  }
  check_floating(dtype, "normal");
  Dtype compute = dtype == float64 ? float64 : float32;
  array u = uniform(astype(low, compute, s), high, shape, compute, key, s);
  array applied = array(std::sqrt(2.0), dtype);
  if (scale) applied = multiply(applied, astype(*scale, dtype, s), s);
  array z = multiply(applied, astype(erfinv(u, s), dtype, s), s);
  if (loc) z = add(astype(*loc, dtype, s), z, s);
  return z;
}

array randint(const array& low, const array& high, const Shape& shape, Dtype dtype, const std::optional<array>& key,
              StreamOrDevice s) {
  if (is_inexact(dtype)) {
    throw std::invalid_argument(std::string("[randint] needs an integer or bool dtype, got ") + dtype_name(dtype));
  }
  array u = uniform(low, high, shape, float32, key, s);
  array out = astype(floor(u, s), dtype, s);
  // low/high may round in float32: clamp to [low, high - 1].
  array hi = astype(subtract(high, array(1, high.dtype()), s), dtype, s);
  return maximum(minimum(out, hi, s), astype(low, dtype, s), s);
}

array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key, StreamOrDevice s) {
  if (!is_floating_point(p.dtype())) {
    throw std::invalid_argument(std::string("[bernoulli] p must be floating, got ") + dtype_name(p.dtype()));
  }
  impl::check_shape(shape, "bernoulli");
  if (broadcast_shapes(p.shape(), shape, "bernoulli") != shape) {
    throw std::invalid_argument("[bernoulli] p of shape " + shape_str(p.shape()) +
                                " does not broadcast to the requested shape " + shape_str(shape));
  }
  // p scaled to [0, nextafter(2^32 - 1)]: p >= 1 always true, p <= 0 never.
  array upper(std::nextafter(float(std::numeric_limits<uint32_t>::max()), std::numeric_limits<float>::max()));
  return less(bits(shape, 4, key, s), multiply(p, upper, s), s);
}

array bernoulli(const array& p, const std::optional<array>& key, StreamOrDevice s) {
  return bernoulli(p, p.shape(), key, s);
}

array bernoulli(const std::optional<array>& key, StreamOrDevice s) { return bernoulli(array(0.5f), key, s); }

array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype,
                       const std::optional<array>& key, StreamOrDevice s) {
  check_floating(dtype, "truncated_normal");
  array sqrt2(std::sqrt(2.0), dtype);
  array lo = astype(lower, dtype, s), hi = astype(upper, dtype, s);
  array a = erf(divide(lo, sqrt2, s), s), b = erf(divide(hi, sqrt2, s), s);
  array z = multiply(sqrt2, erfinv(uniform(a, b, shape, dtype, key, s), s), s);
  return maximum(minimum(hi, z, s), lo, s);
}

array truncated_normal(const array& lower, const array& upper, Dtype dtype, const std::optional<array>& key,
                       StreamOrDevice s) {
  return truncated_normal(lower, upper, broadcast_shapes(lower.shape(), upper.shape(), "truncated_normal"), dtype, key,
                          s);
}

array gumbel(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  return negative(log(negative(log(uniform(shape, dtype, key, s), s), s), s), s);
}

namespace {
array categorical_impl(const array& logits, int axis, const Shape& shape, const std::optional<array>& key,
                       StreamOrDevice s) {
  Shape gshape = shape;
  int offset = axis + int(shape.size()) - int(logits.ndim()) + 1;
  gshape.insert(gshape.begin() + offset, logits.shape(axis));
  return argmax(add(gumbel(gshape, float32, key, s), logits, s), offset, false, s);
}
}  // namespace

array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key,
                  StreamOrDevice s) {
  axis = normalize_axis(axis, int(logits.ndim()), "categorical");
  Shape reduced = logits.shape();
  reduced.erase(reduced.begin() + axis);
  if (broadcast_shapes(shape, reduced, "categorical") != shape) {
    throw std::invalid_argument("[categorical] shape " + shape_str(shape) +
                                " does not broadcast with the logits' shape without the axis " + shape_str(reduced));
  }
  return categorical_impl(logits, axis, shape, key, s);
}

array categorical(const array& logits, int axis, int num_samples, const std::optional<array>& key, StreamOrDevice s) {
  axis = normalize_axis(axis, int(logits.ndim()), "categorical");
  if (num_samples < 0) throw std::invalid_argument("[categorical] num_samples must be non-negative");
  array l = expand_dims(logits, -1, s);
  Shape shape = l.shape();
  shape.erase(shape.begin() + axis);
  shape.back() = num_samples;
  return categorical_impl(l, axis, shape, key, s);
}

array categorical(const array& logits, int axis, const std::optional<array>& key, StreamOrDevice s) {
  axis = normalize_axis(axis, int(logits.ndim()), "categorical");
  Shape shape = logits.shape();
  shape.erase(shape.begin() + axis);
  return categorical_impl(logits, axis, shape, key, s);
}

array laplace(const Shape& shape, Dtype dtype, float loc, float scale, const std::optional<array>& key,
              StreamOrDevice s) {
  check_floating(dtype, "laplace");
  array u = uniform(array(std::nextafter(-1.0f, 0.0f)), array(1.0f), shape, float32, key, s);
  // Inverse CDF; the sign is immaterial by symmetry (MLX's formula).
  array z = astype(multiply(sign(u, s), log1p(negative(abs(u, s), s), s), s), dtype, s);
  if (scale != 1.f) z = multiply(array(scale, dtype), z, s);
  if (loc != 0.f) z = add(array(loc, dtype), z, s);
  return z;
}

array permutation(int n, const std::optional<array>& key, StreamOrDevice s) {
  if (n < 0) throw std::invalid_argument("[permutation] n must be non-negative, got " + std::to_string(n));
  return argsort(bits({n}, 4, key, s), s);
}

array permutation(const array& x, int axis, const std::optional<array>& key, StreamOrDevice s) {
  axis = normalize_axis(axis, int(x.ndim()), "permutation");
  return take(x, permutation(x.shape(axis), key, s), axis, s);
}

}  // namespace uma::random
