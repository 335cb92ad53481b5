// uma::linalg::norm and cross, composed from ops (MLX's linalg.cpp rules);
// the matrix 2-norms and the nuclear norm take singular values from svd.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "uma/core/linalg.h"
#include "uma/core/ops.h"
#include "uma/core/utils.h"

namespace uma::linalg {

namespace {

std::string ord_str(double ord) {
  if (std::isinf(ord)) return ord > 0 ? "inf" : "-inf";
  std::string s = std::to_string(ord);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The axes a norm reduces: given (normalized, checked) or a's all, which must
// then be 1 or 2.
std::vector<int> norm_axes(const array& a, const std::optional<std::vector<int>>& axis) {
  int nd = int(a.ndim());
  if (!axis) {
    if (nd != 1 && nd != 2) {
      throw std::invalid_argument("[linalg::norm] with an ord and no axis the array must be 1-D or 2-D, got shape " +
                                  shape_str(a.shape()));
    }
    return nd == 1 ? std::vector<int>{0} : std::vector<int>{0, 1};
  }
  std::vector<int> ax = *axis;
  if (ax.size() != 1 && ax.size() != 2) {
    throw std::invalid_argument("[linalg::norm] axis must name 1 or 2 axes, got " + std::to_string(ax.size()));
  }
  for (int& x : ax) {
    if (x < -nd || x >= nd) {
      throw std::invalid_argument("[linalg::norm] axis " + std::to_string(x) + " is out of range for shape " +
                                  shape_str(a.shape()));
    }
    if (x < 0) x += nd;
  }
  if (ax.size() == 2 && ax[0] == ax[1]) throw std::invalid_argument("[linalg::norm] the two axes must differ");
  return ax;
}

array vector_norm(const array& a, double ord, int ax, bool keepdims, Stream s) {
  if (ord == 2) return sqrt(sum(square(a, s), ax, keepdims, s), s);
  if (ord == 1) return sum(abs(a, s), ax, keepdims, s);
  if (std::isinf(ord)) return ord > 0 ? max(abs(a, s), ax, keepdims, s) : min(abs(a, s), ax, keepdims, s);
  if (ord == 0) return astype(sum(not_equal(a, zeros_like(a, s), s), ax, keepdims, s), a.dtype(), s);
  array x = abs(a, s);
  if (!is_inexact(x.dtype())) x = astype(x, float32, s);
  array p = sum(power(x, weak_scalar(ord, x), s), ax, keepdims, s);
  return power(p, weak_scalar(1.0 / ord, p), s);
}

// Singular values of the matrices over axes (r, c): (..., K).
array singular_values(const array& a, int r, int c, Stream s) {
  std::vector<int> perm;
  for (int i = 0; i < int(a.ndim()); ++i) {
    if (i != r && i != c) perm.push_back(i);
  }
  perm.push_back(r);
  perm.push_back(c);
  return svd(transpose(a, perm, s), false, s)[0];
}

// Re-inserts the two reduced axes (size 1) when keepdims.
array keep_matrix_dims(const array& x, int r, int c, bool keepdims, Stream s) {
  if (!keepdims) return x;
  return expand_dims(x, {std::min(r, c), std::max(r, c)}, s);
}

array matrix_norm(const array& a, double ord, int r, int c, bool keepdims, Stream s) {
  if (ord == 1 || ord == -1 || std::isinf(ord)) {
    // ord ±1: column sums (over rows r), then the max/min over columns;
    // ord ±inf: row sums, then over rows.
    bool cols = !std::isinf(ord);
    int first = cols ? r : c, second = cols ? c : r;
    array sums = sum(abs(a, s), first, true, s);
    array out = ord > 0 ? max(sums, second, true, s) : min(sums, second, true, s);
    return keepdims ? out : squeeze(out, {r, c}, s);
  }
  if (ord == 2 || ord == -2) {
    array sv = singular_values(a, r, c, s);
    return keep_matrix_dims(ord > 0 ? max(sv, -1, false, s) : min(sv, -1, false, s), r, c, keepdims, s);
  }
  throw std::invalid_argument("[linalg::norm] ord " + ord_str(ord) +
                              " is not a matrix norm (1, -1, 2, -2, inf, -inf, \"fro\", \"nuc\")");
}

}  // namespace

array norm(const array& a, const std::optional<std::vector<int>>& axis, bool keepdims, StreamOrDevice s) {
  Stream st = to_stream(s);
  if (!axis) return sqrt(sum(square(a, st), keepdims, st), st);
  std::vector<int> ax = norm_axes(a, axis);
  return sqrt(sum(square(a, st), ax, keepdims, st), st);
}

array norm(const array& a, double ord, const std::optional<std::vector<int>>& axis, bool keepdims,
           StreamOrDevice s) {
  Stream st = to_stream(s);
  std::vector<int> ax = norm_axes(a, axis);
  if (ax.size() == 1) return vector_norm(a, ord, ax[0], keepdims, st);
  return matrix_norm(a, ord, ax[0], ax[1], keepdims, st);
}

array norm(const array& a, const std::string& ord, const std::optional<std::vector<int>>& axis, bool keepdims,
           StreamOrDevice s) {
  Stream st = to_stream(s);
  std::vector<int> ax = norm_axes(a, axis);
  if (ax.size() != 2) {
    throw std::invalid_argument("[linalg::norm] ord \"" + ord + "\" is a matrix norm and needs 2 axes, got 1");
  }
  if (ord == "fro") return sqrt(sum(square(a, st), ax, keepdims, st), st);
  if (ord == "nuc") {
    return keep_matrix_dims(sum(singular_values(a, ax[0], ax[1], st), -1, false, st), ax[0], ax[1], keepdims, st);
  }
  throw std::invalid_argument("[linalg::norm] ord \"" + ord + "\" is not \"fro\" or \"nuc\"");
}

array norm(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return norm(a, std::vector<int>{axis}, keepdims, s);
}

array norm(const array& a, double ord, int axis, bool keepdims, StreamOrDevice s) {
  return norm(a, ord, std::vector<int>{axis}, keepdims, s);
}

array cross(const array& a, const array& b, int axis, StreamOrDevice s) {
  Stream st = to_stream(s);
  if (a.ndim() != b.ndim()) {
    throw std::invalid_argument("[linalg::cross] a " + shape_str(a.shape()) + " and b " + shape_str(b.shape()) +
                                " must have the same number of dimensions");
  }
  int nd = int(a.ndim());
  if (axis < -nd || axis >= nd) {
    throw std::invalid_argument("[linalg::cross] axis " + std::to_string(axis) + " is out of range for shape " +
                                shape_str(a.shape()));
  }
  if (axis < 0) axis += nd;
  int da = a.shape(axis), db = b.shape(axis);
  if ((da != 2 && da != 3) || (db != 2 && db != 3)) {
    throw std::invalid_argument("[linalg::cross] the vectors along axis " + std::to_string(axis) +
                                " must have 2 or 3 components, got " + std::to_string(da) + " and " +
                                std::to_string(db));
  }
  // A 2-vector is a 3-vector with a zero z.
  auto three = [&](const array& x) { return x.shape(axis) == 3 ? x : pad(x, {axis}, {0}, {1}, array(0), "constant", st); };
  auto parts = [&](const array& x) { return split(three(x), 3, axis, st); };
  auto pa = parts(a), pb = parts(b);
  array x = subtract(multiply(pa[1], pb[2], st), multiply(pa[2], pb[1], st), st);
  array y = subtract(multiply(pa[2], pb[0], st), multiply(pa[0], pb[2], st), st);
  array z = subtract(multiply(pa[0], pb[1], st), multiply(pa[1], pb[0], st), st);
  return concatenate({x, y, z}, axis, st);
}

}  // namespace uma::linalg
