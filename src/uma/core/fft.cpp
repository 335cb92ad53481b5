// The fft namespace: argument checks, padding / truncation to the requested
// sizes and casts, then one FFT node (MLX's fft_impl); fftshift is a roll.
#include "uma/core/fft.h"

#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>

#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/fft.h"

namespace uma::fft {

namespace {

std::string to_string(const std::vector<int>& v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

// The transform of `a` over `axes` with sizes `n` (see fft.h and FFT).
array fft_impl(const array& a, const Shape& n, const std::vector<int>& axes, bool real, bool inverse,
               const char* op, StreamOrDevice s) {
  auto fail = [&](const std::string& msg) { throw std::invalid_argument("[" + std::string(op) + "] " + msg); };
  int nd = int(a.ndim());
  if (nd < 1) fail("requires an array with at least one dimension.");
  if (n.size() != axes.size()) {
    fail("got " + std::to_string(n.size()) + " sizes " + to_string(n) + " for " + std::to_string(axes.size()) +
         " axes " + to_string(axes) + ".");
  }
  if (axes.empty()) return a;
  std::vector<int> ax;
  for (int x : axes) {
    if (x < -nd || x >= nd) fail("axis " + std::to_string(x) + " is out of range for an array of " +
                                 std::to_string(nd) + " dimensions.");
    ax.push_back(x < 0 ? x + nd : x);
  }
  if (std::set<int>(ax.begin(), ax.end()).size() != ax.size()) fail("duplicated axis in " + to_string(axes) + ".");
  for (int k : n) {
    if (k <= 0) fail("invalid transform sizes " + to_string(n) + ": each must be positive.");
  }
  Dtype in_type = real && !inverse ? float32 : complex64;
  Dtype out_type = real && inverse ? float32 : complex64;
  Stream st = to_stream(s);

  // The input's shape: n along the axes, n / 2 + 1 on a c2r transform's last.
  Shape in_shape = a.shape();
  for (size_t i = 0; i < ax.size(); ++i) in_shape[ax[i]] = n[i];
  if (real && inverse) in_shape[ax.back()] = n.back() / 2 + 1;
  array in = astype(a, in_type, st);
  Shape stop = a.shape();
  std::vector<int> pad_axes;
  Shape low, high;
  bool cut = false;
  for (int d = 0; d < nd; ++d) {
    if (in_shape[d] < a.shape(d)) {
      stop[d] = in_shape[d];
      cut = true;
    } else if (in_shape[d] > a.shape(d)) {
      pad_axes.push_back(d);
      low.push_back(0);
      high.push_back(in_shape[d] - a.shape(d));
    }
  }
  if (cut) in = slice(in, Shape(nd, 0), stop, st);
  if (!pad_axes.empty()) in = pad(in, pad_axes, low, high, array(0), "constant", st);

  Shape out_shape = in_shape;
  if (real) out_shape[ax.back()] = inverse ? n.back() : n.back() / 2 + 1;
  return array(out_shape, out_type, std::make_shared<FFT>(st, ax, n, inverse, real), {in});
}

// Sizes from the input's shape: its lengths along the axes, and for irfft*
// 2 * (m - 1) on the last one.
array fft_impl(const array& a, const std::vector<int>& axes, bool real, bool inverse, const char* op,
               StreamOrDevice s) {
  int nd = int(a.ndim());
  if (nd < 1) throw std::invalid_argument("[" + std::string(op) + "] requires an array with at least one dimension.");
  Shape n;
  for (int x : axes) {
    if (x < -nd || x >= nd) {
      throw std::invalid_argument("[" + std::string(op) + "] axis " + std::to_string(x) +
                                  " is out of range for an array of " + std::to_string(nd) + " dimensions.");
    }
    n.push_back(a.shape(x < 0 ? x + nd : x));
  }
  if (real && inverse && !n.empty()) n.back() = (n.back() - 1) * 2;
  return fft_impl(a, n, axes, real, inverse, op, s);
}

std::vector<int> all_axes(const array& a) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

array all_axes_impl(const array& a, bool real, bool inverse, const char* op, StreamOrDevice s) {
  return fft_impl(a, all_axes(a), real, inverse, op, s);
}

array shift_impl(const array& a, const std::vector<int>& axes, bool inverse, const char* op, StreamOrDevice s) {
  if (axes.empty()) return a;
  int nd = int(a.ndim());
  Shape shifts;
  for (int x : axes) {
    if (x < -nd || x >= nd) {
      throw std::invalid_argument("[" + std::string(op) + "] axis " + std::to_string(x) +
                                  " is out of range for an array of " + std::to_string(nd) + " dimensions.");
    }
    int size = a.shape(x < 0 ? x + nd : x);
    shifts.push_back(inverse ? (size + 1) / 2 : size / 2);
  }
  return roll(a, shifts, axes, s);
}

}  // namespace

array fft(const array& a, int n, int axis, StreamOrDevice s) { return fft_impl(a, {n}, {axis}, false, false, "fft", s); }
array fft(const array& a, int axis, StreamOrDevice s) { return fft_impl(a, {axis}, false, false, "fft", s); }
array ifft(const array& a, int n, int axis, StreamOrDevice s) { return fft_impl(a, {n}, {axis}, false, true, "ifft", s); }
array ifft(const array& a, int axis, StreamOrDevice s) { return fft_impl(a, {axis}, false, true, "ifft", s); }
array rfft(const array& a, int n, int axis, StreamOrDevice s) { return fft_impl(a, {n}, {axis}, true, false, "rfft", s); }
array rfft(const array& a, int axis, StreamOrDevice s) { return fft_impl(a, {axis}, true, false, "rfft", s); }
array irfft(const array& a, int n, int axis, StreamOrDevice s) { return fft_impl(a, {n}, {axis}, true, true, "irfft", s); }
array irfft(const array& a, int axis, StreamOrDevice s) { return fft_impl(a, {axis}, true, true, "irfft", s); }

array fft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, false, false, "fft2", s);
}
array fft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, false, false, "fft2", s);
}
array ifft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, false, true, "ifft2", s);
}
array ifft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, false, true, "ifft2", s);
}
array rfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, true, false, "rfft2", s);
}
array rfft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, true, false, "rfft2", s);
}
array irfft2(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, true, true, "irfft2", s);
}
array irfft2(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, true, true, "irfft2", s);
}

array fftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, false, false, "fftn", s);
}
array fftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, false, false, "fftn", s);
}
array fftn(const array& a, StreamOrDevice s) { return all_axes_impl(a, false, false, "fftn", s); }
array ifftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, false, true, "ifftn", s);
}
array ifftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, false, true, "ifftn", s);
}
array ifftn(const array& a, StreamOrDevice s) { return all_axes_impl(a, false, true, "ifftn", s); }
array rfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, true, false, "rfftn", s);
}
array rfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, true, false, "rfftn", s);
}
array rfftn(const array& a, StreamOrDevice s) { return all_axes_impl(a, true, false, "rfftn", s); }
array irfftn(const array& a, const Shape& n, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, n, axes, true, true, "irfftn", s);
}
array irfftn(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return fft_impl(a, axes, true, true, "irfftn", s);
}
array irfftn(const array& a, StreamOrDevice s) { return all_axes_impl(a, true, true, "irfftn", s); }

array fftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return shift_impl(a, axes, false, "fftshift", s);
}
array fftshift(const array& a, StreamOrDevice s) { return shift_impl(a, all_axes(a), false, "fftshift", s); }
array ifftshift(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  return shift_impl(a, axes, true, "ifftshift", s);
}
array ifftshift(const array& a, StreamOrDevice s) { return shift_impl(a, all_axes(a), true, "ifftshift", s); }

}  // namespace uma::fft
