#include "uma/core/ops/manipulation.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/manipulation.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

std::string shapes_str(const std::vector<array>& arrays) {
  std::string out;
  for (size_t i = 0; i < arrays.size(); ++i) out += (i ? ", " : "") + shape_str(arrays[i].shape());
  return out;
}


}  // namespace

// ------------------------------------------------------------ joining

array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) throw std::invalid_argument("[concatenate] no arrays to concatenate");
  int nd = int(arrays[0].ndim());
  if (nd == 0) throw std::invalid_argument("[concatenate] zero-dimensional arrays cannot be concatenated");
  int ax = normalize_axis(axis, nd, "concatenate");
  Shape shape = arrays[0].shape();
  int64_t total = 0;
  Dtype dtype = arrays[0].dtype();
  for (auto& a : arrays) {
    bool match = int(a.ndim()) == nd;
    for (int i = 0; match && i < nd; ++i) match = i == ax || a.shape(i) == shape[i];
    if (!match) {
      throw std::invalid_argument("[concatenate] all dimensions except the concatenation axis " +
                                  std::to_string(ax) + " must match; got shapes " + shapes_str(arrays));
    }
    total += a.shape(ax);
    dtype = promote_types(dtype, a.dtype());
  }
  if (total > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument("[concatenate] the result's axis would exceed 2^31-1 elements");
  }
  if (arrays.size() == 1) return astype(arrays[0], dtype, s);
  shape[ax] = int32_t(total);
  return array(shape, dtype, std::make_shared<Concatenate>(to_stream(s), ax), std::move(arrays));
}

array concatenate(std::vector<array> arrays, StreamOrDevice s) {
  for (auto& a : arrays) a = flatten(a, 0, -1, s);
  return concatenate(std::move(arrays), 0, s);
}

array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) throw std::invalid_argument("[stack] no arrays to stack");
  for (auto& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      throw std::invalid_argument("[stack] all arrays must have the same shape; got " + shapes_str(arrays));
    }
  }
  int ax = normalize_axis(axis, int(arrays[0].ndim()) + 1, "stack");
  std::vector<array> expanded;
  expanded.reserve(arrays.size());
  for (auto& a : arrays) expanded.push_back(expand_dims(a, ax, s));
  return concatenate(std::move(expanded), ax, s);
}

array stack(const std::vector<array>& arrays, StreamOrDevice s) { return stack(arrays, 0, s); }

std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "split");
  Shape start(a.ndim(), 0), stop = a.shape();
  std::vector<array> out;
  int32_t prev = 0;
  for (size_t i = 0; i <= indices.size(); ++i) {
    start[ax] = prev;
    stop[ax] = i < indices.size() ? indices[i] : a.shape(ax);
    out.push_back(slice(a, start, stop, s));
    if (i < indices.size()) prev = indices[i];
  }
  return out;
}

std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s) { return split(a, indices, 0, s); }

std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "split");
  int n = a.shape(ax);
  if (num_splits <= 0 || n % num_splits != 0) {
    throw std::invalid_argument("[split] " + std::to_string(num_splits) + " splits do not divide axis " +
                                std::to_string(ax) + " of size " + std::to_string(n) + " into equal parts");
  }
  Shape indices(num_splits - 1);
  for (int i = 0; i < num_splits - 1; ++i) indices[i] = (i + 1) * (n / num_splits);
  return split(a, indices, ax, s);
}

std::vector<array> split(const array& a, int num_splits, StreamOrDevice s) { return split(a, num_splits, 0, s); }

std::vector<array> unstack(const array& a, int axis, StreamOrDevice s) {
  if (a.ndim() == 0) throw std::invalid_argument("[unstack] cannot unstack a 0-d array");
  int ax = normalize_axis(axis, int(a.ndim()), "unstack");
  std::vector<array> out;
  Shape start(a.ndim(), 0), stop = a.shape();
  for (int i = 0; i < a.shape(ax); ++i) {
    start[ax] = i;
    stop[ax] = i + 1;
    out.push_back(squeeze(slice(a, start, stop, s), ax, s));
  }
  return out;
}

std::vector<array> unstack(const array& a, StreamOrDevice s) { return unstack(a, 0, s); }

// ------------------------------------------------------------ padding

namespace {

// Edge mode: per axis, the first / last slab broadcast to the pad width.
array edge_pad(const array& a, const std::vector<int>& axes, const Shape& low, const Shape& high, StreamOrDevice s) {
  array out = a;
  for (size_t i = 0; i < axes.size(); ++i) {
    int ax = axes[i];
    if (low[i] == 0 && high[i] == 0) continue;
    int n = out.shape(ax);
    if (n == 0) {
      throw std::invalid_argument("[pad] edge mode cannot pad the empty axis " + std::to_string(ax) +
                                  " of an array of shape " + shape_str(a.shape()));
    }
    Shape start(out.ndim(), 0), stop = out.shape();
    std::vector<array> parts;
    if (low[i] > 0) {
      stop[ax] = 1;
      Shape b = out.shape();
      b[ax] = low[i];
      parts.push_back(broadcast_to(slice(out, start, stop, s), b, s));
    }
    parts.push_back(out);
    if (high[i] > 0) {
      start[ax] = n - 1;
      stop[ax] = n;
      Shape b = out.shape();
      b[ax] = high[i];
      parts.push_back(broadcast_to(slice(out, start, stop, s), b, s));
    }
    out = concatenate(std::move(parts), ax, s);
  }
  return out;
}

}  // namespace

array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size, const Shape& high_pad_size,
          const array& pad_value, const std::string& mode, StreamOrDevice s) {
  if (axes.size() != low_pad_size.size() || axes.size() != high_pad_size.size()) {
    throw std::invalid_argument("[pad] got " + std::to_string(axes.size()) + " axes but " +
                                std::to_string(low_pad_size.size()) + " low and " +
                                std::to_string(high_pad_size.size()) + " high pad sizes");
  }
  if (mode != "constant" && mode != "edge") {
    throw std::invalid_argument("[pad] mode must be \"constant\" or \"edge\", got \"" + mode + "\"");
  }
  std::vector<int> ax(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) ax[i] = normalize_axis(axes[i], int(a.ndim()), "pad");
  normalize_axes(ax, int(a.ndim()), "pad");  // rejects repeats
  Shape shape = a.shape();
  bool none = true;
  for (size_t i = 0; i < ax.size(); ++i) {
    if (low_pad_size[i] < 0 || high_pad_size[i] < 0) {
      throw std::invalid_argument("[pad] pad widths must be non-negative, got (" + std::to_string(low_pad_size[i]) +
                                  ", " + std::to_string(high_pad_size[i]) + ") for axis " + std::to_string(ax[i]));
    }
    int64_t n = int64_t(shape[ax[i]]) + low_pad_size[i] + high_pad_size[i];
    if (n > std::numeric_limits<int32_t>::max()) throw std::invalid_argument("[pad] padded axis exceeds 2^31-1");
    shape[ax[i]] = int32_t(n);
    none &= low_pad_size[i] == 0 && high_pad_size[i] == 0;
  }
  if (pad_value.size() != 1) {
    throw std::invalid_argument("[pad] pad_value must hold one element, got shape " + shape_str(pad_value.shape()));
  }
  if (none) return a;
  if (mode == "edge") return edge_pad(a, ax, low_pad_size, high_pad_size, s);
  array value = reshape(astype(pad_value, a.dtype(), s), {}, s);
  return array(shape, a.dtype(), std::make_shared<Pad>(to_stream(s), ax, low_pad_size, high_pad_size), {a, value});
}

array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) {
  if (pad_width.size() != a.ndim()) {
    throw std::invalid_argument("[pad] got " + std::to_string(pad_width.size()) + " (low, high) pairs for an array of " +
                                std::to_string(a.ndim()) + " dimensions");
  }
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  Shape low, high;
  for (auto& [l, h] : pad_width) {
    low.push_back(l);
    high.push_back(h);
  }
  return pad(a, axes, low, high, pad_value, mode, s);
}

array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value, const std::string& mode,
          StreamOrDevice s) {
  return pad(a, std::vector<std::pair<int, int>>(a.ndim(), pad_width), pad_value, mode, s);
}

array pad(const array& a, int pad_width, const array& pad_value, const std::string& mode, StreamOrDevice s) {
  return pad(a, std::pair<int, int>{pad_width, pad_width}, pad_value, mode, s);
}

// ------------------------------------------------------------ repeating

array repeat(const array& a, int repeats, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, int(a.ndim()), "repeat");
  if (repeats < 0) throw std::invalid_argument("[repeat] repeats must be non-negative, got " + std::to_string(repeats));
  if (repeats == 1) return a;
  // (.., n, ..) -> (.., n, repeats, ..) broadcast -> (.., n * repeats, ..)
  Shape b = a.shape();
  b.insert(b.begin() + ax + 1, repeats);
  Shape out = a.shape();
  out[ax] *= repeats;
  return reshape(broadcast_to(expand_dims(a, ax + 1, s), b, s), out, s);
}

array repeat(const array& a, int repeats, StreamOrDevice s) { return repeat(flatten(a, 0, -1, s), repeats, 0, s); }

array tile(const array& a, std::vector<int> reps, StreamOrDevice s) {
  for (int r : reps) {
    if (r < 0) throw std::invalid_argument("[tile] reps must be non-negative, got a rep of " + std::to_string(r));
  }
  Shape shape = a.shape();
  if (reps.size() < shape.size()) reps.insert(reps.begin(), shape.size() - reps.size(), 1);
  if (reps.size() > shape.size()) shape.insert(shape.begin(), reps.size() - shape.size(), 1);
  // (.., n, ..) -> (.., 1, n, ..) broadcast to (.., r, n, ..) -> (.., r * n, ..)
  Shape expand, bcast, out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reps[i] != 1) {
      expand.push_back(1);
      bcast.push_back(reps[i]);
    }
    expand.push_back(shape[i]);
    bcast.push_back(shape[i]);
    out.push_back(reps[i] * shape[i]);
  }
  return reshape(broadcast_to(reshape(a, expand, s), bcast, s), out, s);
}

// ------------------------------------------------------------ roll and flip

namespace {

array roll_axis(const array& a, int64_t shift, int ax, StreamOrDevice s) {
  int64_t n = a.shape(ax);
  if (n == 0) return a;
  int64_t k = ((shift % n) + n) % n;
  if (k == 0) return a;
  Shape start(a.ndim(), 0), stop = a.shape();
  start[ax] = int32_t(n - k);
  array tail = slice(a, start, stop, s);
  start[ax] = 0;
  stop[ax] = int32_t(n - k);
  return concatenate({tail, slice(a, start, stop, s)}, ax, s);
}

}  // namespace

array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s) {
  if (shift.size() != axes.size() && shift.size() != 1) {
    throw std::invalid_argument("[roll] got " + std::to_string(shift.size()) + " shifts for " +
                                std::to_string(axes.size()) + " axes");
  }
  std::vector<int> ax(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) ax[i] = normalize_axis(axes[i], int(a.ndim()), "roll");
  array out = a;
  for (size_t i = 0; i < ax.size(); ++i) out = roll_axis(out, shift[shift.size() == 1 ? 0 : i], ax[i], s);
  return out;
}

array roll(const array& a, const Shape& shift, StreamOrDevice s) {
  int64_t total = 0;
  for (auto v : shift) total += v;
  return reshape(roll_axis(flatten(a, 0, -1, s), total, 0, s), a.shape(), s);
}

array roll(const array& a, int shift, StreamOrDevice s) { return roll(a, Shape{shift}, s); }
array roll(const array& a, int shift, int axis, StreamOrDevice s) {
  return roll(a, Shape{shift}, std::vector<int>{axis}, s);
}
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s) {
  return roll(a, Shape{shift}, axes, s);
}
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s) {
  int64_t total = 0;
  for (auto v : shift) total += v;
  return roll(a, Shape{int32_t(total)}, std::vector<int>{axis}, s);
}

array flip(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  std::vector<int> ax = axes;
  if (ax.empty()) {
    ax.resize(a.ndim());
    std::iota(ax.begin(), ax.end(), 0);
  }
  ax = normalize_axes(ax, int(a.ndim()), "flip");
  Shape start(a.ndim(), 0), stop = a.shape(), step(a.ndim(), 1);
  for (int i : ax) {
    start[i] = -1;
    stop[i] = std::numeric_limits<int32_t>::min();
    step[i] = -1;
  }
  return slice(a, start, stop, step, s);
}

}  // namespace uma
