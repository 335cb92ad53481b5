#include "uma/core/utils.h"

#include <algorithm>
#include <sstream>

namespace uma {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << ")";
  return os.str();
}

int normalize_axis(int axis, int ndim, const char* op) {
  int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) {
    throw std::invalid_argument(std::string("[") + op + "] axis " + std::to_string(axis) +
                                " is out of bounds for an array of " + std::to_string(ndim) + " dimensions");
  }
  return a;
}

std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* op) {
  std::vector<int> out;
  out.reserve(axes.size());
  for (int a : axes) out.push_back(normalize_axis(a, ndim, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw std::invalid_argument(std::string("[") + op + "] repeated axis in the axes argument");
  }
  return out;
}

Shape normalize_slice(const Shape& shape, Shape& start, Shape& stop, const Shape& strides, const char* op) {
  int nd = int(shape.size());
  if (int(start.size()) != nd || int(stop.size()) != nd || int(strides.size()) != nd) {
    throw std::invalid_argument(std::string("[") + op + "] start, stop and strides need one entry per dimension (" +
                                std::to_string(nd) + ")");
  }
  Shape out(nd);
  for (int i = 0; i < nd; ++i) {
    int64_t n = shape[i], st = strides[i];
    if (st == 0) throw std::invalid_argument(std::string("[") + op + "] step of axis " + std::to_string(i) + " is zero");
    int64_t b = start[i], e = stop[i];
    if (b < 0) b += n;
    if (e < 0) e += n;
    if (st > 0) {
      b = std::clamp<int64_t>(b, 0, n);
      e = std::clamp<int64_t>(e, 0, n);
      out[i] = int32_t(e > b ? (e - b + st - 1) / st : 0);
    } else {
      b = std::clamp<int64_t>(b, -1, n - 1);
      e = std::clamp<int64_t>(e, -1, n - 1);
      out[i] = int32_t(b > e ? (b - e - st - 1) / (-st) : 0);
    }
    start[i] = int32_t(b);
    stop[i] = int32_t(e);
  }
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int32_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw std::invalid_argument(std::string("[") + op + "] shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " cannot be broadcast together");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void share_view(const array& in, array& out, const Strides& strides, int64_t offset) {
  if (out.size() == 0) {
    out.set_data(allocator::malloc(0));
    return;
  }
  Layout l = compute_layout(out.shape(), strides);
  out.copy_shared_buffer(in, strides, l.flags, l.data_size, offset);
}

void transpose_view(const array& in, array& out, const std::vector<int>& axes) {
  Strides st(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) st[i] = in.strides()[axes[i]];
  share_view(in, out, st);
}

void broadcast_view(const array& in, array& out) {
  size_t nd = out.ndim(), off = nd - in.ndim();
  Strides st(nd, 0);
  for (size_t i = 0; i < in.ndim(); ++i) st[off + i] = in.shape()[i] == 1 ? 0 : in.strides()[i];
  share_view(in, out, st);
}

void slice_view(const array& in, array& out, const Shape& start, const Shape& step) {
  Strides st(in.ndim());
  int64_t offset = 0;
  for (size_t i = 0; i < in.ndim(); ++i) {
    st[i] = in.strides()[i] * step[i];
    offset += int64_t(start[i]) * in.strides()[i];
  }
  share_view(in, out, st, offset);
}

bool reshape_view(const array& in, array& out) {
  if (in.size() == 0) {
    out.set_data(allocator::malloc(0));
    return true;
  }
  Strides st = in.flags().row_contiguous ? detail::row_strides(out.shape())
                                         : reshape_strides(in.shape(), in.strides(), out.shape());
  if (st.empty() && out.ndim() != 0) return false;
  share_view(in, out, st);
  return true;
}

Layout compute_layout(const Shape& shape, const Strides& strides) {
  Layout l;
  size_t size = 1;
  for (auto d : shape) size *= size_t(d);
  if (size == 0) {
    l.flags = Flags{true, true, true};
    l.data_size = 0;
    return l;
  }
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t ext = int64_t(shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  l.data_size = size_t(hi - lo + 1);
  bool row = true, col = true;
  int64_t expect = 1;
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    row &= strides[i] == expect;
    expect *= shape[i];
  }
  expect = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    col &= strides[i] == expect;
    expect *= shape[i];
  }
  // Dense in some order: every element distinct and the span has no holes.
  bool dense = l.data_size == size && lo == 0;
  if (dense && !row && !col) {
    for (size_t i = 0; i < shape.size(); ++i) dense &= shape[i] == 1 || strides[i] != 0;
  }
  l.flags = Flags{row || col || dense, row, col};
  return l;
}

Strides reshape_strides(const Shape& shape, const Strides& strides, const Shape& new_shape) {
  // Group input dims into runs that are contiguous with each other, then map
  // output dims onto those runs (NumPy's _attempt_nocopy_reshape).
  Shape os;
  Strides ost;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1) {
      os.push_back(shape[i]);
      ost.push_back(strides[i]);
    }
  }
  Strides out(new_shape.size(), 0);
  size_t oi = 0, ni = 0;
  size_t on = os.size(), nn = new_shape.size();
  while (oi < on && ni < nn) {
    int64_t np = new_shape[ni], op = os[oi];
    size_t oj = oi + 1, nj = ni + 1;
    while (np != op) {
      if (np < op) {
        if (nj >= nn) return {};
        np *= new_shape[nj++];
      } else {
        if (oj >= on) return {};
        op *= os[oj++];
      }
    }
    for (size_t k = oi; k + 1 < oj; ++k) {
      if (ost[k] != ost[k + 1] * os[k + 1]) return {};
    }
    out[nj - 1] = ost[oj - 1];
    for (size_t k = nj - 1; k > ni; --k) out[k - 1] = out[k] * new_shape[k];
    oi = oj;
    ni = nj;
  }
  // Remaining new dims must be 1 (strides irrelevant).
  for (; ni < nn; ++ni) {
    if (new_shape[ni] != 1) return {};
    out[ni] = 1;
  }
  if (oi != on) return {};
  // Size-1 dims: a stride that keeps row-contiguity detection simple.
  for (size_t i = 0; i < nn; ++i) {
    if (new_shape[i] == 1) out[i] = (i + 1 < nn) ? out[i + 1] * new_shape[i + 1] : 1;
  }
  return out;
}

Dtype result_type(const array& a, const array& b) { return promote_types(a.dtype(), b.dtype()); }

}  // namespace uma
