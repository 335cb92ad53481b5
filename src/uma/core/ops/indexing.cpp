#include "uma/core/ops/indexing.h"

#include <algorithm>
#include <numeric>

#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/indexing.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

void check_indices_dtype(const array& idx, const char* op) {
  if (!is_integral(idx.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] indices must have an integer dtype, got " +
                                dtype_name(idx.dtype()));
  }
}

// Checks, broadcasts and casts the index arrays to one integer dtype;
// returns the normalized axes.
std::vector<int> prepare_indices(const array& a, std::vector<array>& indices, const std::vector<int>& axes,
                                 const char* op, StreamOrDevice s) {
  if (indices.size() != axes.size()) {
    throw std::invalid_argument(std::string("[") + op + "] got " + std::to_string(indices.size()) +
                                " index arrays for " + std::to_string(axes.size()) + " axes");
  }
  if (indices.size() > a.ndim()) {
    throw std::invalid_argument(std::string("[") + op + "] got " + std::to_string(indices.size()) +
                                " index arrays for an array of shape " + shape_str(a.shape()));
  }
  std::vector<int> ax(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) ax[i] = normalize_axis(axes[i], int(a.ndim()), op);
  normalize_axes(ax, int(a.ndim()), op);  // rejects repeats
  if (indices.empty()) return ax;
  Dtype dt = indices[0].dtype();
  for (auto& idx : indices) {
    check_indices_dtype(idx, op);
    dt = promote_types(dt, idx.dtype());
  }
  if (!is_integral(dt)) dt = int64;  // uint64 with signed indices
  indices = broadcast_arrays(indices, s);
  for (auto& idx : indices) idx = astype(idx, dt, s);
  return ax;
}

// Broadcasts the shapes of `arrays` against each other except along `axis`,
// whose size each array keeps.
std::vector<array> broadcast_except_axis(std::vector<array> arrays, int axis, const char* op, StreamOrDevice s) {
  Shape common;
  for (auto& x : arrays) {
    Shape sh = x.shape();
    sh[axis] = 1;
    common = broadcast_shapes(common, sh, op);
  }
  for (auto& x : arrays) {
    Shape sh = common;
    sh[axis] = x.shape(axis);
    x = broadcast_to(x, sh, s);
  }
  return arrays;
}

}  // namespace

// ------------------------------------------------------------ gather

array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s) {
  std::vector<array> idx = indices;
  auto ax = prepare_indices(a, idx, axes, "gather", s);
  if (slice_sizes.size() != a.ndim()) {
    throw std::invalid_argument("[gather] slice_sizes " + shape_str(slice_sizes) +
                                " needs one entry per dimension of an array of shape " + shape_str(a.shape()));
  }
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (slice_sizes[i] < 0 || slice_sizes[i] > a.shape()[i]) {
      throw std::invalid_argument("[gather] slice_sizes " + shape_str(slice_sizes) +
                                  " do not fit in an array of shape " + shape_str(a.shape()));
    }
  }
  Shape out = idx.empty() ? Shape{} : idx[0].shape();
  out.insert(out.end(), slice_sizes.begin(), slice_sizes.end());
  idx.insert(idx.begin(), a);
  return array(out, a.dtype(), std::make_shared<Gather>(to_stream(s), std::move(ax), slice_sizes), std::move(idx));
}

array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes, StreamOrDevice s) {
  return gather(a, std::vector<array>{indices}, std::vector<int>{axis}, slice_sizes, s);
}

// ------------------------------------------------------------ take

array take(const array& a, const array& indices, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "take");
  check_indices_dtype(indices, "take");
  if (a.shape(ax) == 0 && indices.size() > 0) {
    throw std::invalid_argument("[take] cannot take " + std::to_string(indices.size()) +
                                " elements from the empty axis " + std::to_string(ax) + " of an array of shape " +
                                shape_str(a.shape()));
  }
  Shape slice_sizes = a.shape();
  slice_sizes[ax] = std::min(slice_sizes[ax], 1);
  // gather gives indices.shape + a.shape (axis size 1); move the index
  // dimensions to where the axis was, then drop the axis.
  array out = gather(a, indices, ax, slice_sizes, s);
  int k = int(indices.ndim());
  if (ax != 0) {
    std::vector<int> perm(out.ndim());
    std::iota(perm.begin(), perm.begin() + ax, k);
    std::iota(perm.begin() + ax, perm.begin() + ax + k, 0);
    std::iota(perm.begin() + ax + k, perm.end(), k + ax);
    out = transpose(out, perm, s);
  }
  Shape shape = out.shape();
  shape.erase(shape.begin() + ax + k);
  return reshape(out, shape, s);
}

array take(const array& a, int index, int axis, StreamOrDevice s) { return take(a, array(index), axis, s); }

array take(const array& a, const array& indices, StreamOrDevice s) {
  return take(flatten(a, 0, -1, s), indices, 0, s);
}

array take(const array& a, int index, StreamOrDevice s) { return take(a, array(index), s); }

// ------------------------------------------------------------ along an axis

array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "take_along_axis");
  check_indices_dtype(indices, "take_along_axis");
  if (indices.ndim() != a.ndim()) {
    throw std::invalid_argument("[take_along_axis] indices of shape " + shape_str(indices.shape()) +
                                " must have as many dimensions as the array of shape " + shape_str(a.shape()));
  }
  auto in = broadcast_except_axis({a, indices}, ax, "take_along_axis", s);
  if (a.shape(ax) == 0 && in[1].size() > 0) {
    throw std::invalid_argument("[take_along_axis] cannot take from the empty axis " + std::to_string(ax) +
                                " of an array of shape " + shape_str(a.shape()));
  }
  Shape out = in[1].shape();
  return array(out, a.dtype(), std::make_shared<GatherAxis>(to_stream(s), ax), std::move(in));
}

namespace {

array scatter_axis(const array& a, const array& indices, const array& values, int axis, ScatterReduce reduce,
                   const char* op, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), op);
  check_indices_dtype(indices, op);
  if (indices.ndim() != a.ndim()) {
    throw std::invalid_argument(std::string("[") + op + "] indices of shape " + shape_str(indices.shape()) +
                                " must have as many dimensions as the array of shape " + shape_str(a.shape()));
  }
  array vals = astype(values, a.dtype(), s);
  if (vals.ndim() > indices.ndim()) {
    // Leading size-1 dimensions of values beyond indices' rank are dropped.
    std::vector<int> lead(vals.ndim() - indices.ndim());
    std::iota(lead.begin(), lead.end(), 0);
    vals = squeeze(vals, lead, s);
  }
  Shape common;
  try {
    common = broadcast_shapes(indices.shape(), vals.shape(), op);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(std::string("[") + op + "] values of shape " + shape_str(values.shape()) +
                                " cannot be broadcast to indices of shape " + shape_str(indices.shape()));
  }
  auto in = broadcast_except_axis({a, broadcast_to(indices, common, s), broadcast_to(vals, common, s)}, ax, op, s);
  Shape out = in[0].shape();
  return array(out, a.dtype(), std::make_shared<ScatterAxis>(to_stream(s), reduce, ax), std::move(in));
}

}  // namespace

array put_along_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  return scatter_axis(a, indices, values, axis, ScatterReduce::none, "put_along_axis", s);
}

array scatter_add_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  return scatter_axis(a, indices, values, axis, ScatterReduce::sum, "scatter_add_axis", s);
}

// ------------------------------------------------------------ scatter

namespace {

array scatter_impl(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, ScatterReduce reduce, const char* op, StreamOrDevice s) {
  std::vector<array> idx = indices;
  auto ax = prepare_indices(a, idx, axes, op, s);
  Shape idx_shape = idx.empty() ? Shape{} : idx[0].shape();
  size_t k = idx_shape.size();
  bool ok = updates.ndim() == k + a.ndim();
  for (size_t i = 0; ok && i < k; ++i) ok = updates.shape()[i] == idx_shape[i];
  for (size_t i = 0; ok && i < a.ndim(); ++i) ok = updates.shape()[k + i] <= a.shape()[i];
  if (!ok) {
    throw std::invalid_argument(std::string("[") + op + "] updates of shape " + shape_str(updates.shape()) +
                                " must be the indices' shape " + shape_str(idx_shape) +
                                " followed by a window no larger than the array's shape " + shape_str(a.shape()));
  }
  idx.insert(idx.begin(), a);
  idx.push_back(astype(updates, a.dtype(), s));
  return array(a.shape(), a.dtype(), std::make_shared<Scatter>(to_stream(s), reduce, std::move(ax)), std::move(idx));
}

}  // namespace

#define UMA_SCATTER_OP(NAME, REDUCE)                                                                             \
  array NAME(const array& a, const std::vector<array>& indices, const array& updates, const std::vector<int>& axes, \
             StreamOrDevice s) {                                                                                \
    return scatter_impl(a, indices, updates, axes, ScatterReduce::REDUCE, #NAME, s);                           \
  }                                                                                                             \
  array NAME(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s) {          \
    return scatter_impl(a, {indices}, updates, {axis}, ScatterReduce::REDUCE, #NAME, s);                       \
  }
UMA_SCATTER_OP(scatter, none)
UMA_SCATTER_OP(scatter_add, sum)
UMA_SCATTER_OP(scatter_prod, prod)
UMA_SCATTER_OP(scatter_max, max)
UMA_SCATTER_OP(scatter_min, min)
#undef UMA_SCATTER_OP

// As MLX: the mask broadcast over a's trailing dims and value laid out as
// (mask.size(), *trailing dims); the k-th selected position takes the k-th
// element of value (its index: the running count of selected positions).
array masked_scatter(const array& a, const array& mask, const array& value, StreamOrDevice s) {
  if (mask.dtype() != bool_) {
    throw std::invalid_argument(std::string("[masked_scatter] the mask must be bool, got ") + dtype_name(mask.dtype()));
  }
  if (mask.ndim() > a.ndim() || !std::equal(mask.shape().begin(), mask.shape().end(), a.shape().begin())) {
    throw std::invalid_argument("[masked_scatter] the mask of shape " + shape_str(mask.shape()) +
                                " must equal the leading dims of the array of shape " + shape_str(a.shape()));
  }
  int trailing = int(a.ndim() - mask.ndim());
  if (int(value.ndim()) > trailing + 1) {
    throw std::invalid_argument("[masked_scatter] a value of shape " + shape_str(value.shape()) +
                                " must have at most " + std::to_string(trailing + 1) + " dims (one more than the " +
                                std::to_string(trailing) + " dims of " + shape_str(a.shape()) + " after the mask's)");
  }
  Shape mask_shape = mask.shape();
  mask_shape.resize(a.ndim(), 1);
  array m = flatten(broadcast_to(reshape(mask, mask_shape, s), a.shape(), s), 0, -1, s);
  Shape value_shape(a.shape().end() - trailing, a.shape().end());
  if (int(value.ndim()) < trailing + 1) {
    value_shape.insert(value_shape.begin(), int32_t(mask.size()));
  } else {
    value_shape.insert(value_shape.begin(), value.shape(0));
  }
  array v = flatten(broadcast_to(astype(value, a.dtype(), s), value_shape, s), 0, -1, s);
  if (v.size() == 0) return a;  // nothing to scatter from (MLX throws if the mask selects anything)
  array idx = subtract(cumsum(astype(m, int32, s), 0, false, true, s), array(1, int32), s);
  idx = clip(idx, array(0, int32), array(int32_t(v.size() - 1), int32), s);
  return reshape(where(m, take(v, idx, 0, s), flatten(a, 0, -1, s), s), a.shape(), s);
}

}  // namespace uma
