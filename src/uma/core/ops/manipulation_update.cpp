// Functional slice updates, dynamic slices, grids, diagonals, atleast_nd.
#include <algorithm>
#include <limits>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

// Checks the integer `start` of a dynamic slice against `axes` and returns
// the normalized axes.
std::vector<int> check_dynamic_start(const array& a, const array& start, const std::vector<int>& axes,
                                     const char* op) {
  if (!is_integral(start.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] start must have an integer dtype, got " +
                                dtype_name(start.dtype()));
  }
  if (start.ndim() > 1 || start.size() != axes.size()) {
    throw std::invalid_argument(std::string("[") + op + "] start of shape " + shape_str(start.shape()) +
                                " needs one entry per axis (" + std::to_string(axes.size()) + " axes)");
  }
  std::vector<int> ax(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) ax[i] = normalize_axis(axes[i], int(a.ndim()), op);
  normalize_axes(ax, int(a.ndim()), op);  // rejects repeats
  return ax;
}

}  // namespace

array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s) {
  Shape shape = normalize_slice(src.shape(), start, stop, strides, "slice_update");
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  Shape b;
  try {
    b = broadcast_shapes(update.shape(), shape, "slice_update");
  } catch (const std::invalid_argument&) {
    b.clear();
  }
  if (b != shape) {
    throw std::invalid_argument("[slice_update] an update of shape " + shape_str(update.shape()) +
                                " cannot be broadcast to the slice's shape " + shape_str(shape));
  }
  if (n == 0) return src;
  array upd = broadcast_to(astype(update, src.dtype(), s), shape, s);
  return array(src.shape(), src.dtype(),
               std::make_shared<SliceUpdate>(to_stream(s), std::move(start), std::move(stop), std::move(strides)),
               {src, upd});
}

array slice_update(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) {
  Shape strides(src.ndim(), 1);
  return slice_update(src, update, std::move(start), std::move(stop), std::move(strides), s);
}

namespace {

// src with its slice replaced by combine(slice, update): MLX's SliceUpdate
// modes, here as slice + elementwise op + slice_update.
template <typename Combine>
array slice_update_with(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                        const char* op, Combine combine, StreamOrDevice s) {
  Shape norm_start = start, norm_stop = stop;  // slice() normalizes the originals itself
  Shape shape = normalize_slice(src.shape(), norm_start, norm_stop, strides, op);
  Shape b;
  try {
    b = broadcast_shapes(update.shape(), shape, op);
  } catch (const std::invalid_argument&) {
    b.clear();
  }
  if (b != shape) {
    throw std::invalid_argument(std::string("[") + op + "] an update of shape " + shape_str(update.shape()) +
                                " cannot be broadcast to the slice's shape " + shape_str(shape));
  }
  array cur = slice(src, start, stop, strides, s);
  array upd = astype(combine(cur, astype(update, src.dtype(), s), s), src.dtype(), s);
  return slice_update(src, upd, std::move(start), std::move(stop), std::move(strides), s);
}

}  // namespace

#define UMA_SLICE_UPDATE_MODE(NAME, COMBINE)                                                             \
  array NAME(const array& src, const array& update, Shape start, Shape stop, Shape strides, StreamOrDevice s) { \
    return slice_update_with(src, update, std::move(start), std::move(stop), std::move(strides), #NAME,      \
                             [](const array& x, const array& y, StreamOrDevice st) { return COMBINE(x, y, st); }, \
                             s);                                                                           \
  }                                                                                                        \
  array NAME(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) {            \
    Shape strides(src.ndim(), 1);                                                                          \
    return NAME(src, update, std::move(start), std::move(stop), std::move(strides), s);                     \
  }
UMA_SLICE_UPDATE_MODE(slice_update_add, add)
UMA_SLICE_UPDATE_MODE(slice_update_prod, multiply)
UMA_SLICE_UPDATE_MODE(slice_update_max, maximum)
UMA_SLICE_UPDATE_MODE(slice_update_min, minimum)
#undef UMA_SLICE_UPDATE_MODE

array dynamic_slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                           StreamOrDevice s) {
  axes = check_dynamic_start(src, start, axes, "dynamic_slice_update");
  if (update.ndim() != src.ndim()) {
    throw std::invalid_argument("[dynamic_slice_update] an update of shape " + shape_str(update.shape()) +
                                " must have as many dimensions as src of shape " + shape_str(src.shape()));
  }
  for (size_t i = 0; i < src.ndim(); ++i) {
    if (update.shape()[i] > src.shape()[i]) {
      throw std::invalid_argument("[dynamic_slice_update] an update of shape " + shape_str(update.shape()) +
                                  " does not fit in src of shape " + shape_str(src.shape()));
    }
  }
  if (update.size() == 0) return src;
  return array(src.shape(), src.dtype(), std::make_shared<DynamicSliceUpdate>(to_stream(s), std::move(axes)),
               {src, astype(update, src.dtype(), s), start});
}

array dynamic_slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size,
                    StreamOrDevice s) {
  axes = check_dynamic_start(a, start, axes, "dynamic_slice");
  if (slice_size.size() != a.ndim()) {
    throw std::invalid_argument("[dynamic_slice] slice_size " + shape_str(slice_size) + " needs one entry per dimension of " +
                                shape_str(a.shape()));
  }
  for (size_t i = 0; i < a.ndim(); ++i) {
    if (slice_size[i] < 0 || slice_size[i] > a.shape()[i]) {
      throw std::invalid_argument("[dynamic_slice] slice_size " + shape_str(slice_size) + " does not fit in an array of shape " +
                                  shape_str(a.shape()));
    }
  }
  Shape out = slice_size;
  return array(std::move(out), a.dtype(),
               std::make_shared<DynamicSlice>(to_stream(s), std::move(axes), std::move(slice_size)), {a, start});
}

// ------------------------------------------------------------ grids and diagonals

std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse, const std::string& indexing,
                            StreamOrDevice s) {
  if (indexing != "xy" && indexing != "ij") {
    throw std::invalid_argument("[meshgrid] indexing must be \"xy\" or \"ij\", got \"" + indexing + "\"");
  }
  size_t nd = arrays.size();
  std::vector<array> out;
  for (size_t i = 0; i < nd; ++i) {
    Shape shape(nd, 1);
    // "xy" swaps the roles of the first two axes.
    size_t pos = (indexing == "xy" && nd > 1 && i < 2) ? 1 - i : i;
    shape[pos] = int32_t(arrays[i].size());
    out.push_back(reshape(arrays[i], shape, s));
  }
  if (!sparse) out = broadcast_arrays(out, s);
  return out;
}

array diagonal(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  int nd = int(a.ndim());
  if (nd < 2) {
    throw std::invalid_argument("[diagonal] needs an array of at least 2 dimensions, got shape " +
                                shape_str(a.shape()));
  }
  int ax1 = normalize_axis(axis1, nd, "diagonal"), ax2 = normalize_axis(axis2, nd, "diagonal");
  if (ax1 == ax2) throw std::invalid_argument("[diagonal] axis1 and axis2 must differ, both are " + std::to_string(ax1));
  int64_t off1 = std::max(-int64_t(offset), int64_t(0)), off2 = std::max(int64_t(offset), int64_t(0));
  int64_t len = std::max<int64_t>(0, std::min(a.shape(ax1) - off1, a.shape(ax2) - off2));
  Shape shape;
  for (int i = 0; i < nd; ++i) {
    if (i != ax1 && i != ax2) shape.push_back(a.shape(i));
  }
  shape.push_back(int32_t(len));
  return array(shape, a.dtype(), std::make_shared<Diagonal>(to_stream(s), offset, ax1, ax2), {a});
}

array diag(const array& a, int k, StreamOrDevice s) {
  if (a.ndim() == 2) return diagonal(a, k, 0, 1, s);
  if (a.ndim() != 1) {
    throw std::invalid_argument("[diag] needs a 1-D or 2-D array, got shape " + shape_str(a.shape()));
  }
  int64_t len = a.size(), n = len + std::abs(int64_t(k));
  if (n > std::numeric_limits<int32_t>::max()) throw std::invalid_argument("[diag] the matrix side exceeds 2^31-1");
  if (n * n > std::numeric_limits<int32_t>::max()) {
    // Too many elements for one flat axis: scatter the diagonal instead.
    int32_t r0 = int32_t(std::max(-k, 0)), c0 = int32_t(std::max(k, 0)), l = int32_t(len);
    return scatter(zeros({int32_t(n), int32_t(n)}, a.dtype(), s), {arange(r0, r0 + l, 1, s), arange(c0, c0 + l, 1, s)},
                   reshape(a, {l, 1, 1}, s), {0, 1}, s);
  }
  // The k-th diagonal of an n x n matrix is a strided run of its flat buffer.
  int64_t first = (k >= 0 ? k : -int64_t(k) * n);
  array flat = zeros({int32_t(n * n)}, a.dtype(), s);
  if (len > 0) {
    flat = slice_update(flat, a, {int32_t(first)}, {int32_t(first + (len - 1) * (n + 1) + 1)}, {int32_t(n + 1)}, s);
  }
  return reshape(flat, {int32_t(n), int32_t(n)}, s);
}

array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s) {
  return astype(sum(diagonal(a, offset, axis1, axis2, s), -1, false, s), dtype, s);
}

array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  return trace(a, offset, axis1, axis2, a.dtype(), s);
}

array trace(const array& a, StreamOrDevice s) { return trace(a, 0, 0, 1, a.dtype(), s); }

// ------------------------------------------------------------ atleast_nd

array atleast_1d(const array& a, StreamOrDevice s) { return a.ndim() == 0 ? reshape(a, {1}, s) : a; }

array atleast_2d(const array& a, StreamOrDevice s) {
  switch (a.ndim()) {
    case 0: return reshape(a, {1, 1}, s);
    case 1: return reshape(a, {1, a.shape(0)}, s);
    default: return a;
  }
}

array atleast_3d(const array& a, StreamOrDevice s) {
  switch (a.ndim()) {
    case 0: return reshape(a, {1, 1, 1}, s);
    case 1: return reshape(a, {1, a.shape(0), 1}, s);
    case 2: return reshape(a, {a.shape(0), a.shape(1), 1}, s);
    default: return a;
  }
}

#define UMA_ATLEAST_VECTOR(NAME)                                                   \
  std::vector<array> NAME(const std::vector<array>& arrays, StreamOrDevice s) {    \
    std::vector<array> out;                                                        \
    out.reserve(arrays.size());                                                    \
    for (auto& a : arrays) out.push_back(NAME(a, s));                              \
    return out;                                                                    \
  }
UMA_ATLEAST_VECTOR(atleast_1d)
UMA_ATLEAST_VECTOR(atleast_2d)
UMA_ATLEAST_VECTOR(atleast_3d)
#undef UMA_ATLEAST_VECTOR

}  // namespace uma
