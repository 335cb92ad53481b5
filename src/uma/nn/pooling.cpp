#include "uma/nn/pooling.h"

#include <cmath>
#include <numeric>

#include "uma/core/utils.h"

namespace uma::nn {

namespace {

std::string list_str(const std::vector<int>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

// (N, spatial..., C) -> (N, out..., window..., C).
array sliding_windows(const array& x, const std::vector<int>& window, const std::vector<int>& stride) {
  int d = int(window.size());
  bool tiles = true;
  for (int i = 0; i < d; ++i) tiles = tiles && window[size_t(i)] == stride[size_t(i)] && x.shape(1 + i) % window[size_t(i)] == 0;
  if (tiles) {
    // Non-overlapping windows: a reshape and a transpose, no strided view.
    Shape split{x.shape(0)};
    for (int i = 0; i < d; ++i) {
      split.push_back(x.shape(1 + i) / window[size_t(i)]);
      split.push_back(window[size_t(i)]);
    }
    split.push_back(x.shape(-1));
    std::vector<int> order{0};
    for (int i = 0; i < d; ++i) order.push_back(1 + 2 * i);
    for (int i = 0; i < d; ++i) order.push_back(2 + 2 * i);
    order.push_back(2 * d + 1);
    return transpose(reshape(x, split), order);
  }
  // Row-major strides of x, then each output step moves `stride` rows.
  Strides strides(x.ndim(), 1);
  for (int i = int(x.ndim()) - 2; i >= 0; --i) strides[size_t(i)] = strides[size_t(i) + 1] * x.shape(i + 1);
  Shape shape{x.shape(0)};
  Strides st{strides[0]};
  for (int i = 0; i < d; ++i) {
    shape.push_back((x.shape(1 + i) - window[size_t(i)]) / stride[size_t(i)] + 1);
    st.push_back(strides[size_t(1 + i)] * stride[size_t(i)]);
  }
  for (int i = 0; i < d; ++i) {
    shape.push_back(window[size_t(i)]);
    st.push_back(strides[size_t(1 + i)]);
  }
  shape.push_back(x.shape(-1));
  st.push_back(1);
  return as_strided(x, shape, st);
}

}  // namespace

Pool::Pool(const char* name, bool max, std::vector<int> kernel, std::optional<std::vector<int>> stride,
           std::vector<int> padding)
    : name_(name), max_(max), kernel_(std::move(kernel)), stride_(stride ? *stride : kernel_), padding_(std::move(padding)) {
  auto check = [&](const char* what, const std::vector<int>& v, int min) {
    for (int x : v) {
      if (x < min) {
        throw std::invalid_argument(std::string("[") + name + "] '" + what + "' must be " +
                                    (min > 0 ? "positive" : "non-negative") + " but got " + list_str(v));
      }
    }
  };
  check("kernel_size", kernel_, 1);
  check("stride", stride_, 1);
  check("padding", padding_, 0);
}

array Pool::operator()(const array& x) const {
  int d = int(kernel_.size());
  if (int(x.ndim()) != d + 2) {
    throw std::invalid_argument(std::string("[") + name_ + "] expects input (N, " + std::to_string(d) +
                                " spatial dims, C), got " + shape_str(x.shape()));
  }
  array y = x;
  if (std::any_of(padding_.begin(), padding_.end(), [](int p) { return p > 0; })) {
    std::vector<int> axes(static_cast<size_t>(d));
    std::iota(axes.begin(), axes.end(), 1);
    Shape pad_size(padding_.begin(), padding_.end());
    y = pad(y, axes, pad_size, pad_size, array(max_ ? -INFINITY : 0.0f, x.dtype()));
  }
  for (int i = 0; i < d; ++i) {
    if (y.shape(1 + i) < kernel_[size_t(i)]) {
      throw std::invalid_argument(std::string("[") + name_ + "] the padded input " + shape_str(y.shape()) +
                                  " is smaller than the kernel " + list_str(kernel_));
    }
  }
  y = sliding_windows(y, kernel_, stride_);
  std::vector<int> axes;
  for (int i = 0; i < d; ++i) axes.push_back(-d - 1 + i);
  return max_ ? max(y, axes) : mean(y, axes);
}

#define UMA_POOL_1D(Class, is_max)                                                         \
  Class::Class(int kernel_size, std::optional<int> stride, int padding)                    \
      : Pool(#Class, is_max, {kernel_size},                                                \
             stride ? std::optional<std::vector<int>>(std::vector<int>{*stride}) : std::nullopt, {padding}) {}
#define UMA_POOL_ND(Class, N, is_max)                                                                      \
  Class::Class(Ints<N> kernel_size, std::optional<Ints<N>> stride, Ints<N> padding)                        \
      : Pool(#Class, is_max, kernel_size.vec(),                                                            \
             stride ? std::optional<std::vector<int>>(stride->vec()) : std::nullopt, padding.vec()) {}

UMA_POOL_1D(MaxPool1d, true)
UMA_POOL_1D(AvgPool1d, false)
UMA_POOL_ND(MaxPool2d, 2, true)
UMA_POOL_ND(AvgPool2d, 2, false)
UMA_POOL_ND(MaxPool3d, 3, true)
UMA_POOL_ND(AvgPool3d, 3, false)

}  // namespace uma::nn
