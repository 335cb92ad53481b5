// Per-dimension integer settings of spatial layers (kernel sizes, strides,
// padding), as MLX's `int or tuple` arguments: Ints<2>(3) is (3, 3),
// Ints<2>{3, 5} is (3, 5).
#pragma once

#include <algorithm>
#include <array>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace uma::nn {

template <int N>
struct Ints {
  std::array<int, N> v{};
  Ints(int x) { v.fill(x); }  // NOLINT: implicit, as Python's int-or-tuple
  Ints(std::initializer_list<int> xs) {
    if (xs.size() != size_t(N)) {
      throw std::invalid_argument("[nn] expected " + std::to_string(N) + " values, got " +
                                  std::to_string(xs.size()));
    }
    std::copy(xs.begin(), xs.end(), v.begin());
  }
  int operator[](int i) const { return v[size_t(i)]; }
  std::vector<int> vec() const { return {v.begin(), v.end()}; }
  int product() const {
    int p = 1;
    for (int x : v) p *= x;
    return p;
  }
};

}  // namespace uma::nn
