// Helpers of the elementwise suites: inputs of any dtype from double values,
// and checks of an op against a float64 <cmath> reference computed here.
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "core/util.h"
#include "uma/core/utils.h"

namespace uma::test {

inline const std::vector<Dtype>& float_dtypes() {
  static const std::vector<Dtype> v = {float16, bfloat16, float32, float64};
  return v;
}
inline const std::vector<Dtype>& int_dtypes() {
  static const std::vector<Dtype> v = {uint8, uint16, uint32, uint64, int8, int16, int32, int64};
  return v;
}
inline std::vector<Dtype> all_real_dtypes() {
  std::vector<Dtype> v = {bool_};
  v.insert(v.end(), int_dtypes().begin(), int_dtypes().end());
  v.insert(v.end(), float_dtypes().begin(), float_dtypes().end());
  return v;
}

// n values evenly spread over [lo, hi], as dtype t (rounded or truncated by
// the cast; read them back with .to_vector<double>() for references).
inline array spread(Dtype t, double lo, double hi, int n, Shape shape = {}) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = n == 1 ? lo : lo + (hi - lo) * i / (n - 1);
  if (shape.empty()) shape = {n};
  return astype(array(v, shape), t);
}

// Tolerance of a result stored in dtype t (float32 results of float math
// may be off by a couple of ulp).
inline double tol_for(Dtype t) {
  switch (t) {
    case Dtype::float16: return 2e-3;
    case Dtype::bfloat16: return 1.6e-2;
    case Dtype::float32: return 4e-6;
    case Dtype::float64: return 1e-12;
    default: return 0;
  }
}

// Rounds a reference value the way storing it in t does.
inline double round_to(double v, Dtype t) {
  if (!is_floating_point(t)) return v;
  return dispatch_all(t, [&](auto tag) -> double {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, complex64_t>) {
      return v;
    } else {
      return convert<double>(convert<T>(v));
    }
  });
}

// Checks out against f applied in float64 to the elements of x.
inline void expect_unary(const array& out, array x, const std::function<double(double)>& f, Dtype out_dtype,
                         double tol = -1) {
  ASSERT_EQ(out.dtype(), out_dtype);
  ASSERT_EQ(out.shape(), x.shape());
  auto xs = x.to_vector<double>();
  std::vector<double> e(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) e[i] = round_to(f(xs[i]), out_dtype);
  double t = tol >= 0 ? tol : tol_for(out_dtype);
  expect_close(out, e, t, t);
}

inline void expect_binary(const array& out, array a, array b, const std::function<double(double, double)>& f,
                          Dtype out_dtype, double tol = -1) {
  ASSERT_EQ(out.dtype(), out_dtype);
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  ASSERT_EQ(out.shape(), shape);
  auto as = broadcast_to(a, shape).to_vector<double>();
  auto bs = broadcast_to(b, shape).to_vector<double>();
  std::vector<double> e(as.size());
  for (size_t i = 0; i < as.size(); ++i) e[i] = round_to(f(as[i], bs[i]), out_dtype);
  double t = tol >= 0 ? tol : tol_for(out_dtype);
  expect_close(out, e, t, t);
}

}  // namespace uma::test
