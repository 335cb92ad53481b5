// Max and average pooling as mlx.nn's MaxPool1d/2d/3d and AvgPool1d/2d/3d:
// channels last, x (N, spatial..., C) -> (N, out..., C) with
// out = (size + 2 padding - kernel) / stride + 1; stride defaults to the
// kernel size. Padding is -inf for max pooling and 0 for average pooling,
// which counts the padding in the mean (PyTorch's count_include_pad).
#pragma once

#include <optional>
#include <vector>

#include "uma/core/ops.h"
#include "uma/nn/module.h"
#include "uma/nn/spatial.h"

namespace uma::nn {

class Pool : public Module {
 public:
  array operator()(const array& x) const;

 protected:
  Pool(const char* name, bool max, std::vector<int> kernel, std::optional<std::vector<int>> stride,
       std::vector<int> padding);

 private:
  const char* name_;
  bool max_;
  std::vector<int> kernel_, stride_, padding_;
};

class MaxPool1d : public Pool {
 public:
  explicit MaxPool1d(int kernel_size, std::optional<int> stride = std::nullopt, int padding = 0);
};
class AvgPool1d : public Pool {
 public:
  explicit AvgPool1d(int kernel_size, std::optional<int> stride = std::nullopt, int padding = 0);
};
class MaxPool2d : public Pool {
 public:
  explicit MaxPool2d(Ints<2> kernel_size, std::optional<Ints<2>> stride = std::nullopt, Ints<2> padding = 0);
};
class AvgPool2d : public Pool {
 public:
  explicit AvgPool2d(Ints<2> kernel_size, std::optional<Ints<2>> stride = std::nullopt, Ints<2> padding = 0);
};
class MaxPool3d : public Pool {
 public:
  explicit MaxPool3d(Ints<3> kernel_size, std::optional<Ints<3>> stride = std::nullopt, Ints<3> padding = 0);
};
class AvgPool3d : public Pool {
 public:
  explicit AvgPool3d(Ints<3> kernel_size, std::optional<Ints<3>> stride = std::nullopt, Ints<3> padding = 0);
};

}  // namespace uma::nn
