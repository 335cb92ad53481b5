#include "uma/core/ops/linalg.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/linalg_impl.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/utils.h"

namespace uma {

namespace detail {

Dtype product_type(Dtype a, Dtype b, const char* op) {
  Dtype t = promote_types(a, b);
  if (!is_inexact(t)) {
    throw std::invalid_argument(std::string("[") + op + "] only floating point and complex types multiply, but " +
                                dtype_name(a) + " and " + dtype_name(b) + " give " + dtype_name(t) +
                                "; cast the operands with astype first");
  }
  return t;
}

Dtype real_product_type(Dtype a, Dtype b, const char* op) {
  Dtype t = promote_types(a, b);
  if (!is_floating_point(t)) {
    throw std::invalid_argument(std::string("[") + op + "] only real floating point types multiply, but " +
                                dtype_name(a) + " and " + dtype_name(b) + " give " + dtype_name(t));
  }
  return t;
}

}  // namespace detail

using detail::batch_of;
using detail::product_type;
using detail::with_matrix;

array matmul(const array& in_a, const array& in_b, StreamOrDevice s) {
  if (in_a.ndim() == 0 || in_b.ndim() == 0) {
    throw std::invalid_argument("[matmul] operands need at least one dimension, got shapes " +
                                shape_str(in_a.shape()) + " and " + shape_str(in_b.shape()));
  }
  array a = in_a.ndim() == 1 ? reshape(in_a, {1, in_a.shape(0)}, s) : in_a;
  array b = in_b.ndim() == 1 ? reshape(in_b, {in_b.shape(0), 1}, s) : in_b;
  if (a.shape(-1) != b.shape(-2)) {
    throw std::invalid_argument("[matmul] last dimension of a " + shape_str(in_a.shape()) +
                                " must equal the second to last of b " + shape_str(in_b.shape()));
  }
  Dtype t = product_type(a.dtype(), b.dtype(), "matmul");
  a = astype(a, t, s);
  b = astype(b, t, s);

  // Batch dims broadcast as views; a 2-D b broadcast over a's batch costs
  // nothing (zero strides), and the kernel folds that batch into M.
  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  int32_t M = a.shape(-2), N = b.shape(-1), K = a.shape(-1);
  a = broadcast_to(a, with_matrix(batch, M, K), s);
  b = broadcast_to(b, with_matrix(batch, K, N), s);
  array out(with_matrix(batch, M, N), t, std::make_shared<Matmul>(to_stream(s)), {a, b});

  std::vector<int> axes;
  if (in_a.ndim() == 1) axes.push_back(int(out.ndim()) - 2);
  if (in_b.ndim() == 1) axes.push_back(int(out.ndim()) - 1);
  return axes.empty() ? out : squeeze(out, axes, s);
}

array addmm(array c, array a, array b, float alpha, float beta, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    throw std::invalid_argument("[addmm] a and b need at least one dimension, got shapes " + shape_str(a.shape()) +
                                " and " + shape_str(b.shape()));
  }
  int a_nd = int(a.ndim()), b_nd = int(b.ndim());
  if (a_nd == 1) a = reshape(a, {1, a.shape(0)}, s);
  if (b_nd == 1) b = reshape(b, {b.shape(0), 1}, s);
  if (a.shape(-1) != b.shape(-2)) {
    throw std::invalid_argument("[addmm] last dimension of a " + shape_str(a.shape()) +
                                " must equal the second to last of b " + shape_str(b.shape()));
  }
  Dtype t = product_type(product_type(a.dtype(), b.dtype(), "addmm"), c.dtype(), "addmm");
  a = astype(a, t, s);
  b = astype(b, t, s);
  c = astype(c, t, s);

  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "addmm");
  int32_t M = a.shape(-2), N = b.shape(-1), K = a.shape(-1);
  a = broadcast_to(a, with_matrix(batch, M, K), s);
  b = broadcast_to(b, with_matrix(batch, K, N), s);
  Shape out_shape = with_matrix(batch, M, N);

  // c broadcasts against the user-visible result (inserted dims removed).
  Shape visible = batch;
  if (a_nd != 1) visible.push_back(M);
  if (b_nd != 1) visible.push_back(N);
  Shape cb = broadcast_shapes(c.shape(), visible, "addmm");
  if (cb != visible) {
    throw std::invalid_argument("[addmm] c of shape " + shape_str(c.shape()) +
                                " does not broadcast to the product's shape " + shape_str(visible));
  }
  c = reshape(broadcast_to(c, visible, s), out_shape, s);
  array out(out_shape, t, std::make_shared<AddMM>(to_stream(s), alpha, beta), {a, b, c});

  std::vector<int> axes;
  if (a_nd == 1) axes.push_back(int(out.ndim()) - 2);
  if (b_nd == 1) axes.push_back(int(out.ndim()) - 1);
  return axes.empty() ? out : squeeze(out, axes, s);
}

array outer(const array& a, const array& b, StreamOrDevice s) {
  // A product with K = 1 is one rounding of one product per element: the
  // same numbers an elementwise multiply gives.
  product_type(a.dtype(), b.dtype(), "outer");
  return matmul(reshape(a, {int32_t(a.size()), 1}, s), reshape(b, {1, int32_t(b.size())}, s), s);
}

array inner(const array& a, const array& b, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    // A scalar scales the other operand.
    const array& big = a.ndim() == 0 ? b : a;
    return reshape(outer(a, b, s), big.shape(), s);
  }
  if (a.shape(-1) != b.shape(-1)) {
    throw std::invalid_argument("[inner] last dimensions differ: a " + shape_str(a.shape()) + ", b " +
                                shape_str(b.shape()));
  }
  return tensordot(a, b, {-1}, {-1}, s);
}

array tensordot(const array& a, const array& b, int axis, StreamOrDevice s) {
  if (axis < 0 || axis > int(std::min(a.ndim(), b.ndim()))) {
    throw std::invalid_argument("[tensordot] axis " + std::to_string(axis) + " must be in [0, " +
                                std::to_string(std::min(a.ndim(), b.ndim())) + "] for shapes " +
                                shape_str(a.shape()) + " and " + shape_str(b.shape()));
  }
  std::vector<int> axes_a, axes_b;
  for (int i = 0; i < axis; ++i) {
    axes_a.push_back(int(a.ndim()) - axis + i);
    axes_b.push_back(i);
  }
  return tensordot(a, b, axes_a, axes_b, s);
}

array tensordot(const array& a, const array& b, const std::pair<std::vector<int>, std::vector<int>>& axes,
                StreamOrDevice s) {
  return tensordot(a, b, axes.first, axes.second, s);
}

array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s) {
  if (axes_a.size() != axes_b.size()) {
    throw std::invalid_argument("[tensordot] got " + std::to_string(axes_a.size()) + " axes for a and " +
                                std::to_string(axes_b.size()) + " for b");
  }
  int na = int(a.ndim()), nb = int(b.ndim());
  std::vector<bool> ca(na, false), cb(nb, false);
  std::vector<int> ta, tb;
  int64_t csize = 1;
  for (size_t i = 0; i < axes_a.size(); ++i) {
    int x = normalize_axis(axes_a[i], na, "tensordot");
    int y = normalize_axis(axes_b[i], nb, "tensordot");
    if (ca[x] || cb[y]) throw std::invalid_argument("[tensordot] an axis is contracted twice");
    if (a.shape(x) != b.shape(y)) {
      throw std::invalid_argument("[tensordot] contracted axes differ in size: a " + shape_str(a.shape()) +
                                  " axis " + std::to_string(x) + ", b " + shape_str(b.shape()) + " axis " +
                                  std::to_string(y));
    }
    ca[x] = cb[y] = true;
    csize *= a.shape(x);
    ta.push_back(x);
    tb.push_back(y);
  }
  std::vector<int> perm_a, perm_b;
  Shape out_shape;
  int64_t ma = 1, nbs = 1;
  for (int i = 0; i < na; ++i) {
    if (!ca[i]) {
      perm_a.push_back(i);
      out_shape.push_back(a.shape(i));
      ma *= a.shape(i);
    }
  }
  perm_a.insert(perm_a.end(), ta.begin(), ta.end());
  perm_b = tb;
  for (int i = 0; i < nb; ++i) {
    if (!cb[i]) {
      perm_b.push_back(i);
      out_shape.push_back(b.shape(i));
      nbs *= b.shape(i);
    }
  }
  array x = reshape(transpose(a, perm_a, s), {int32_t(ma), int32_t(csize)}, s);
  array y = reshape(transpose(b, perm_b, s), {int32_t(csize), int32_t(nbs)}, s);
  return reshape(matmul(x, y, s), out_shape, s);
}

array hadamard_transform(const array& a, std::optional<float> scale_opt, StreamOrDevice s) {
  if (a.size() == 0) {
    throw std::invalid_argument("[hadamard_transform] does not take empty arrays, got shape " + shape_str(a.shape()));
  }
  int32_t n = a.ndim() > 0 ? a.shape(-1) : 1;
  float scale = scale_opt ? *scale_opt : float(1.0 / std::sqrt(double(n)));
  Dtype t = is_floating_point(a.dtype()) ? a.dtype() : float32;
  if (n == 1) return scale == 1.f ? a : multiply(a, array(scale, t), s);
  if (Hadamard::block_order(n) == 0) {
    throw std::invalid_argument("[hadamard_transform] the last axis of " + shape_str(a.shape()) + " has size " +
                                std::to_string(n) + "; supported sizes are m * 2^k with m in {1, 12, 20, 28} and k <= 26");
  }
  return array(a.shape(), t, std::make_shared<Hadamard>(to_stream(s), scale), {astype(a, t, s)});
}

// As MLX: sum(conj(a) * b) over the axis; a negative axis needs inputs of
// equal ndim (it must name the same axis of both).
array vecdot(const array& a, const array& b, int axis, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    throw std::invalid_argument("[vecdot] inputs must be at least 1-D, got shapes " + shape_str(a.shape()) + " and " +
                                shape_str(b.shape()));
  }
  int ax = normalize_axis(axis, int(a.ndim()), "vecdot");
  int bx = normalize_axis(axis, int(b.ndim()), "vecdot");
  if (ax != bx) {
    throw std::invalid_argument("[vecdot] axis " + std::to_string(axis) + " names different axes of shapes " +
                                shape_str(a.shape()) + " and " + shape_str(b.shape()));
  }
  if (a.shape(ax) != b.shape(ax)) {
    throw std::invalid_argument("[vecdot] axis " + std::to_string(axis) + " has size " + std::to_string(a.shape(ax)) +
                                " in " + shape_str(a.shape()) + " but " + std::to_string(b.shape(ax)) + " in " +
                                shape_str(b.shape()));
  }
  return sum(multiply(conjugate(a, s), b, s), ax, false, s);
}

}  // namespace uma
