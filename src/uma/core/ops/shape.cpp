#include "uma/core/ops/shape.h"

#include <algorithm>
#include <numeric>

#include "uma/core/primitives/shape.h"
#include "uma/core/utils.h"

namespace uma {

array reshape(const array& a, Shape shape, StreamOrDevice s) {
  int infer = -1;
  size_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("[reshape] only one dimension can be -1, got " + shape_str(shape));
      infer = int(i);
    } else if (shape[i] < 0) {
      throw std::invalid_argument("[reshape] invalid dimension in shape " + shape_str(shape));
    } else {
      known *= size_t(shape[i]);
    }
  }
  if (infer >= 0) {
    if (known == 0 || a.size() % known != 0) {
      throw std::invalid_argument("[reshape] cannot infer the -1 dimension of " + shape_str(shape) +
                                  " for an array of size " + std::to_string(a.size()));
    }
    shape[infer] = int32_t(a.size() / known);
  } else if (known != a.size()) {
    throw std::invalid_argument("[reshape] cannot reshape an array of shape " + shape_str(a.shape()) + " to " +
                                shape_str(shape));
  }
  if (shape == a.shape()) return a;
  return array(shape, a.dtype(), std::make_shared<Reshape>(to_stream(s), shape), {a});
}

array flatten(const array& a, int start_axis, int end_axis, StreamOrDevice s) {
  int nd = int(a.ndim());
  if (nd == 0) return reshape(a, {1}, s);
  int st = normalize_axis(start_axis, nd, "flatten");
  int en = normalize_axis(end_axis, nd, "flatten");
  if (st > en) throw std::invalid_argument("[flatten] start_axis must not come after end_axis");
  Shape shape(a.shape().begin(), a.shape().begin() + st);
  int64_t mid = 1;
  for (int i = st; i <= en; ++i) mid *= a.shape(i);
  shape.push_back(int32_t(mid));
  shape.insert(shape.end(), a.shape().begin() + en + 1, a.shape().end());
  return reshape(a, shape, s);
}

array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "unflatten");
  if (shape.empty()) throw std::invalid_argument("[unflatten] the new shape must not be empty");
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("[unflatten] only one dimension can be -1");
      infer = int(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || a.shape(ax) % known) throw std::invalid_argument("[unflatten] cannot infer the -1 dimension");
    shape[infer] = int32_t(a.shape(ax) / known);
  } else if (known != a.shape(ax)) {
    throw std::invalid_argument("[unflatten] shape " + shape_str(shape) + " does not match axis size " +
                                std::to_string(a.shape(ax)));
  }
  Shape ns(a.shape().begin(), a.shape().begin() + ax);
  ns.insert(ns.end(), shape.begin(), shape.end());
  ns.insert(ns.end(), a.shape().begin() + ax + 1, a.shape().end());
  return reshape(a, ns, s);
}

array transpose(const array& a, std::vector<int> axes, StreamOrDevice s) {
  int nd = int(a.ndim());
  if (int(axes.size()) != nd) {
    throw std::invalid_argument("[transpose] received " + std::to_string(axes.size()) + " axes for an array of " +
                                std::to_string(nd) + " dimensions");
  }
  for (auto& ax : axes) ax = normalize_axis(ax, nd, "transpose");
  std::vector<int> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < nd; ++i) {
    if (sorted[i] != i) throw std::invalid_argument("[transpose] axes must be a permutation of the dimensions");
  }
  bool identity = true;
  for (int i = 0; i < nd; ++i) identity &= axes[i] == i;
  if (identity) return a;
  Shape shape(nd);
  for (int i = 0; i < nd; ++i) shape[i] = a.shape(axes[i]);
  return array(shape, a.dtype(), std::make_shared<Transpose>(to_stream(s), axes), {a});
}

array transpose(const array& a, StreamOrDevice s) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.rbegin(), axes.rend(), 0);
  return transpose(a, axes, s);
}

array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s) {
  int nd = int(a.ndim());
  int a1 = normalize_axis(axis1, nd, "swapaxes"), a2 = normalize_axis(axis2, nd, "swapaxes");
  std::vector<int> axes(nd);
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[a1], axes[a2]);
  return transpose(a, axes, s);
}

array moveaxis(const array& a, int source, int destination, StreamOrDevice s) {
  int nd = int(a.ndim());
  int src = normalize_axis(source, nd, "moveaxis"), dst = normalize_axis(destination, nd, "moveaxis");
  std::vector<int> axes;
  for (int i = 0; i < nd; ++i) {
    if (i != src) axes.push_back(i);
  }
  axes.insert(axes.begin() + dst, src);
  return transpose(a, axes, s);
}

array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  auto ax = normalize_axes(axes, int(a.ndim()), "squeeze");
  Shape shape;
  for (int i = 0, j = 0; i < int(a.ndim()); ++i) {
    if (j < int(ax.size()) && ax[j] == i) {
      if (a.shape(i) != 1) {
        throw std::invalid_argument("[squeeze] cannot squeeze axis " + std::to_string(i) + " of size " +
                                    std::to_string(a.shape(i)));
      }
      ++j;
    } else {
      shape.push_back(a.shape(i));
    }
  }
  return reshape(a, shape, s);
}

array squeeze(const array& a, int axis, StreamOrDevice s) { return squeeze(a, std::vector<int>{axis}, s); }

array squeeze(const array& a, StreamOrDevice s) {
  Shape shape;
  for (auto d : a.shape()) {
    if (d != 1) shape.push_back(d);
  }
  return reshape(a, shape, s);
}

array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  int out_nd = int(a.ndim() + axes.size());
  auto ax = normalize_axes(axes, out_nd, "expand_dims");
  Shape shape;
  size_t j = 0, k = 0;
  for (int i = 0; i < out_nd; ++i) {
    if (j < ax.size() && ax[j] == i) {
      shape.push_back(1);
      ++j;
    } else {
      shape.push_back(a.shape()[k++]);
    }
  }
  return reshape(a, shape, s);
}

array expand_dims(const array& a, int axis, StreamOrDevice s) { return expand_dims(a, std::vector<int>{axis}, s); }

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s) {
  if (a.shape() == shape) return a;
  Shape b = broadcast_shapes(a.shape(), shape, "broadcast_to");
  if (b != shape) {
    throw std::invalid_argument("[broadcast_to] cannot broadcast an array of shape " + shape_str(a.shape()) +
                                " to " + shape_str(shape));
  }
  return array(shape, a.dtype(), std::make_shared<Broadcast>(to_stream(s), shape), {a});
}

std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s) {
  Shape shape;
  for (auto& in : inputs) shape = broadcast_shapes(shape, in.shape(), "broadcast_arrays");
  std::vector<array> out;
  for (auto& in : inputs) out.push_back(broadcast_to(in, shape, s));
  return out;
}

array as_strided(const array& a, Shape shape, Strides strides, int64_t offset, StreamOrDevice s) {
  if (shape.size() != strides.size()) {
    throw std::invalid_argument("[as_strided] shape " + shape_str(shape) + " and strides have different lengths");
  }
  // Every element reached must lie inside the source array.
  int64_t lo = offset, hi = offset;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) throw std::invalid_argument("[as_strided] negative dimension in " + shape_str(shape));
    if (shape[i] == 0) empty = true;
    int64_t ext = int64_t(shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  if (!empty && (lo < 0 || hi >= int64_t(a.size()))) {
    throw std::invalid_argument("[as_strided] the view reaches elements [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "] outside the source's " + std::to_string(a.size()));
  }
  return array(shape, a.dtype(), std::make_shared<AsStrided>(to_stream(s), shape, std::move(strides), offset),
               {contiguous(a, false, s)});
}

array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  Shape out = normalize_slice(a.shape(), start, stop, strides, "slice");
  bool whole = true;
  for (size_t i = 0; i < a.ndim(); ++i) whole &= start[i] == 0 && strides[i] == 1 && out[i] == a.shape(i);
  if (whole) return a;
  return array(out, a.dtype(), std::make_shared<Slice>(to_stream(s), start, stop, strides), {a});
}

array slice(const array& a, Shape start, Shape stop, StreamOrDevice s) {
  return slice(a, std::move(start), std::move(stop), Shape(a.ndim(), 1), s);
}

array astype(const array& a, Dtype dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  return array(a.shape(), dtype, std::make_shared<AsType>(to_stream(s), dtype), {a});
}

array view(const array& a, Dtype dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  size_t from = a.itemsize(), to = size_of(dtype);
  Shape shape = a.shape();
  if (from != to) {
    if (shape.empty()) throw std::invalid_argument("[view] a 0-d array cannot change item size");
    int64_t bytes = int64_t(shape.back()) * int64_t(from);
    if (bytes % int64_t(to)) {
      throw std::invalid_argument(std::string("[view] the last dimension of ") + std::to_string(shape.back()) + " " +
                                  dtype_name(a.dtype()) + " does not divide into " + dtype_name(dtype));
    }
    shape.back() = int32_t(bytes / int64_t(to));
  }
  return array(shape, dtype, std::make_shared<View>(to_stream(s), dtype), {a});
}

array copy(const array& a, StreamOrDevice s) {
  return array(a.shape(), a.dtype(), std::make_shared<Copy>(to_stream(s)), {a});
}

array contiguous(const array& a, bool allow_col_major, StreamOrDevice s) {
  if (a.is_available() && (a.flags().row_contiguous || (allow_col_major && a.flags().col_contiguous))) return a;
  return copy(a, s);
}

}  // namespace uma
