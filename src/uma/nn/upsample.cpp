#include "uma/nn/upsample.h"

#include <algorithm>
#include <cmath>

#include "uma/core/utils.h"

namespace uma::nn {

namespace {

struct Tap {
  std::vector<int32_t> index;
  std::vector<float> weight;
};

void check_scales(const char* op, const array& x, const std::vector<float>& scale) {
  if (x.ndim() < 3 || x.ndim() - 2 != scale.size()) {
    throw std::invalid_argument(std::string("[") + op + "] expects (N, spatial..., C) with one scale per spatial "
                                "dimension (" + std::to_string(scale.size()) + "), got " + shape_str(x.shape()));
  }
  for (float s : scale) {
    if (!(s > 0)) throw std::invalid_argument(std::string("[") + op + "] scales must be positive, got " + std::to_string(s));
  }
}

int out_size(int n, float scale) { return int(double(scale) * n); }

// Source coordinates of the M outputs (MLX's _scaled_indices).
std::vector<double> source_coords(int n, float scale, bool align_corners) {
  int m = out_size(n, scale);
  std::vector<double> c(size_t(std::max(m, 0)));
  double step = 1.0 / double(scale), start = ((m - 1) * step - n + 1) / 2;
  for (int i = 0; i < m; ++i) {
    c[size_t(i)] = align_corners ? i * (double(n - 1) / std::max(m - 1, 1)) : i * step - start;
  }
  return c;
}

std::vector<Tap> linear_taps(int n, float scale, bool align_corners) {
  std::vector<Tap> taps(2);
  for (double c : source_coords(n, scale, align_corners)) {
    c = std::clamp(c, 0.0, double(n - 1));
    double l = std::floor(c), w = c - l;
    taps[0].index.push_back(int32_t(l));
    taps[0].weight.push_back(float(1 - w));
    taps[1].index.push_back(int32_t(std::ceil(c)));
    taps[1].weight.push_back(float(w));
  }
  return taps;
}

std::vector<Tap> cubic_taps(int n, float scale, bool align_corners) {
  const double a = -0.75;
  auto inner = [&](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };   // |t| <= 1
  auto outer = [&](double t) { return (((t - 5) * t + 8) * t - 4) * a; };        // 1 < |t| <= 2
  std::vector<Tap> taps(4);
  for (double c : source_coords(n, scale, align_corners)) {
    double l1 = std::floor(c), r1 = std::floor(c + 1);
    double grid[4] = {l1, r1, l1 - 1, r1 + 1};
    for (int k = 0; k < 4; ++k) {
      double t = std::abs(c - grid[k]);
      taps[size_t(k)].weight.push_back(float(k < 2 ? inner(t) : outer(t)));
      taps[size_t(k)].index.push_back(int32_t(std::clamp(grid[k], 0.0, double(n - 1))));
    }
  }
  return taps;
}

// Antialiased taps (MLX's _aa_indices, PyTorch's antialias): when
// downsampling the kernel widens by 1 / scale; weights of taps outside the
// input are dropped and the rest renormalized.
template <typename Kernel>
std::vector<Tap> aa_taps(int n, float scale, double radius, Kernel kernel) {
  double inv = scale < 1 ? 1.0 / scale : 1.0;
  int num = int(std::ceil(radius * inv)) + 1;
  auto coords = source_coords(n, scale, false);
  std::vector<Tap> taps(size_t(2 * num - 1));
  for (double c : coords) {
    std::vector<double> w(taps.size());
    double sum = 0;
    for (int k = -num + 1; k < num; ++k) {
      double idx = std::floor(c) + k;
      double wk = (idx >= 0 && idx < n) ? kernel(std::abs(c - idx) / inv) : 0.0;
      w[size_t(k + num - 1)] = wk;
      sum += wk;
    }
    if (!(sum > 0)) sum = 1;
    for (size_t t = 0; t < taps.size(); ++t) {
      double idx = std::floor(c) + double(int(t) - num + 1);
      taps[t].index.push_back(int32_t(std::clamp(idx, 0.0, double(n - 1))));
      taps[t].weight.push_back(float(w[t] / sum));
    }
  }
  return taps;
}

std::vector<Tap> linear_aa_taps(int n, float scale, bool) {
  return aa_taps(n, scale, 1.0, [](double x) { return std::max(1.0 - x, 0.0); });
}

std::vector<Tap> cubic_aa_taps(int n, float scale, bool) {
  const double a = -0.5;  // PyTorch's (and MLX's) antialiasing cubic
  return aa_taps(n, scale, 2.0, [a](double x) {
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    return x <= 2 ? (((x - 5) * x + 8) * x - 4) * a : 0.0;
  });
}

void check_antialias(const char* op, bool align_corners, bool antialias) {
  if (antialias && align_corners) {
    throw std::invalid_argument(std::string("[") + op + "] antialias with align_corners is not supported");
  }
}

// Separable interpolation: along each spatial axis, sum_k take(x, idx_k) * w_k.
array interpolate(const array& x, const std::vector<float>& scale, bool align_corners,
                  std::vector<Tap> (*taps_of)(int, float, bool)) {
  array out = x;
  for (size_t d = 0; d < scale.size(); ++d) {
    int axis = int(d) + 1;
    auto taps = taps_of(x.shape(axis), scale[d], align_corners);
    Shape wshape(x.ndim(), 1);
    wshape[size_t(axis)] = -1;
    std::optional<array> sum;
    for (auto& t : taps) {
      int m = int(t.index.size());
      array w = astype(reshape(array(t.weight, {m}), wshape), x.dtype());
      array term = multiply(take(out, array(t.index, {m}), axis), w);
      sum = sum ? add(*sum, term) : term;
    }
    out = *sum;
  }
  return out;
}

}  // namespace

array upsample_nearest(const array& x, const std::vector<float>& scale) {
  check_scales("upsample_nearest", x, scale);
  array out = x;
  for (size_t d = 0; d < scale.size(); ++d) {
    int axis = int(d) + 1, n = x.shape(axis), m = out_size(n, scale[d]);
    std::vector<int32_t> idx(size_t(std::max(m, 0)));
    for (int i = 0; i < m; ++i) {
      // MLX: upsampling rounds the centre (half to even), downsampling floors.
      double c = m > n ? std::nearbyint((i + 0.5) * (double(n) / m) - 0.5) : std::floor(i * (double(n) / m));
      idx[size_t(i)] = int32_t(std::clamp(c, 0.0, double(n - 1)));
    }
    out = take(out, array(idx, {m}), axis);
  }
  return out;
}

array upsample_linear(const array& x, const std::vector<float>& scale, bool align_corners, bool antialias) {
  check_scales("upsample_linear", x, scale);
  check_antialias("upsample_linear", align_corners, antialias);
  return interpolate(x, scale, align_corners, antialias ? linear_aa_taps : linear_taps);
}

array upsample_cubic(const array& x, const std::vector<float>& scale, bool align_corners, bool antialias) {
  check_scales("upsample_cubic", x, scale);
  check_antialias("upsample_cubic", align_corners, antialias);
  return interpolate(x, scale, align_corners, antialias ? cubic_aa_taps : cubic_taps);
}

Upsample::Upsample(float scale_factor, const std::string& mode, bool align_corners, bool antialias)
    : Upsample(std::vector<float>{scale_factor}, mode, align_corners, antialias) {}

Upsample::Upsample(std::vector<float> scale_factor, const std::string& mode, bool align_corners, bool antialias)
    : scale_(std::move(scale_factor)), mode_(mode), align_corners_(align_corners), antialias_(antialias) {
  if (mode != "nearest" && mode != "linear" && mode != "cubic") {
    throw std::invalid_argument("[Upsample] unsupported mode '" + mode + "' (nearest, linear or cubic)");
  }
  if (antialias && mode == "nearest") {
    throw std::invalid_argument("[Upsample] antialiasing is not supported for nearest neighbor upsampling");
  }
  check_antialias("Upsample", align_corners, antialias);
  if (scale_.empty()) throw std::invalid_argument("[Upsample] scale_factor is empty");
}

array Upsample::operator()(const array& x) const {
  // A single factor applies to every spatial dimension.
  std::vector<float> s = scale_;
  if (s.size() == 1 && x.ndim() > 3) s.assign(x.ndim() - 2, s[0]);
  if (mode_ == "nearest") return upsample_nearest(x, s);
  if (mode_ == "linear") return upsample_linear(x, s, align_corners_, antialias_);
  return upsample_cubic(x, s, align_corners_, antialias_);
}

}  // namespace uma::nn
