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

array upsample_linear(const array& x, const std::vector<float>& scale, bool align_corners) {
  check_scales("upsample_linear", x, scale);
  return interpolate(x, scale, align_corners, linear_taps);
}

array upsample_cubic(const array& x, const std::vector<float>& scale, bool align_corners) {
  check_scales("upsample_cubic", x, scale);
  return interpolate(x, scale, align_corners, cubic_taps);
}

Upsample::Upsample(float scale_factor, const std::string& mode, bool align_corners)
    : Upsample(std::vector<float>{scale_factor}, mode, align_corners) {}

Upsample::Upsample(std::vector<float> scale_factor, const std::string& mode, bool align_corners)
    : scale_(std::move(scale_factor)), mode_(mode), align_corners_(align_corners) {
  if (mode != "nearest" && mode != "linear" && mode != "cubic") {
    throw std::invalid_argument("[Upsample] unsupported mode '" + mode + "' (nearest, linear or cubic)");
  }
  if (scale_.empty()) throw std::invalid_argument("[Upsample] scale_factor is empty");
}

array Upsample::operator()(const array& x) const {
  // A single factor applies to every spatial dimension.
  std::vector<float> s = scale_;
  if (s.size() == 1 && x.ndim() > 3) s.assign(x.ndim() - 2, s[0]);
  if (mode_ == "nearest") return upsample_nearest(x, s);
  if (mode_ == "linear") return upsample_linear(x, s, align_corners_);
  return upsample_cubic(x, s, align_corners_);
}

}  // namespace uma::nn
