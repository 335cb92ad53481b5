// Array creation.
#pragma once

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

array full(Shape shape, const array& vals, Dtype dtype, StreamOrDevice s = {});
array full(Shape shape, const array& vals, StreamOrDevice s = {});
template <typename T>
array full(Shape shape, T val, Dtype dtype, StreamOrDevice s = {}) {
  return full(std::move(shape), array(val, dtype), dtype, s);
}
template <typename T>
array full(Shape shape, T val, StreamOrDevice s = {}) {
  return full(std::move(shape), array(val), s);
}
array zeros(const Shape& shape, Dtype dtype = float32, StreamOrDevice s = {});
array ones(const Shape& shape, Dtype dtype = float32, StreamOrDevice s = {});
array zeros_like(const array& a, StreamOrDevice s = {});
array ones_like(const array& a, StreamOrDevice s = {});
array full_like(const array& a, double val, StreamOrDevice s = {});

// [start, stop) in steps of `step`; length ceil((stop - start) / step).
array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s = {});
array arange(double start, double stop, double step = 1.0, StreamOrDevice s = {});  // float32
array arange(double start, double stop, Dtype dtype, StreamOrDevice s = {});
array arange(double stop, Dtype dtype, StreamOrDevice s = {});
array arange(int start, int stop, int step = 1, StreamOrDevice s = {});  // int32
array arange(int stop, StreamOrDevice s = {});

// Defined with the elementwise family (they compose comparisons and where).
array linspace(double start, double stop, int num = 50, Dtype dtype = float32, StreamOrDevice s = {});
array eye(int n, int m, int k = 0, Dtype dtype = float32, StreamOrDevice s = {});
array eye(int n, Dtype dtype = float32, StreamOrDevice s = {});
array identity(int n, Dtype dtype = float32, StreamOrDevice s = {});
array tri(int n, int m, int k = 0, Dtype dtype = float32, StreamOrDevice s = {});
array tri(int n, Dtype dtype = float32, StreamOrDevice s = {});
array tril(const array& x, int k = 0, StreamOrDevice s = {});
array triu(const array& x, int k = 0, StreamOrDevice s = {});

// --- window functions (numpy's definitions, float32 as MLX): M points,
// symmetric; M < 1 gives an empty array and M == 1 gives [1].
array hanning(int M, StreamOrDevice s = {});   // 0.5 - 0.5 cos(2 pi n / (M - 1)), as sin^2(pi n / (M - 1))
array hamming(int M, StreamOrDevice s = {});   // 0.54 - 0.46 cos(2 pi n / (M - 1))
array bartlett(int M, StreamOrDevice s = {});  // 1 - |2 n / (M - 1) - 1|
array blackman(int M, StreamOrDevice s = {});  // 0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))

}  // namespace uma
