// CPU kernels of Softmax and LogSumExp over the last axis of row-major rows.
// float32 and the half types run the SIMD rows of the tier in use
// (simd/impl.h: the same exp as the elementwise `exp`, so softmax's
// exp(x - max) equals exp of the same float32 values bit for bit); float64
// is scalar.
//   x: (rows, n) -> softmax: (rows, n), logsumexp: (rows, 1)
#include <cmath>
#include <limits>
#include <vector>

#include "uma/backend/cpu/elementwise.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

void softmax_row(const double* x, double* y, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  bool nan = false;
  for (int64_t j = 0; j < n; ++j) {
    nan |= std::isnan(x[j]);
    m = std::max(m, x[j]);
  }
  if (nan) m = std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += (y[j] = std::exp(x[j] - m));
  double inv = 1.0 / s;
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
}

// log(sum(exp(x))) of one row; -inf for an empty row.
double logsumexp_row(const double* x, int64_t n) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (n == 0) return -inf;
  double m = -inf;
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    m = std::max(m, x[j]);
  }
  if (std::isinf(m)) return m;
  double s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
  return m + std::log(s);
}

template <typename F>
void for_rows(int64_t rows, int64_t n, F&& f) {
  size_t grain = size_t(std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(n, 1)));
  cpu::parallel_for(size_t(rows), grain, [&](size_t b, size_t e) { f(int64_t(b), int64_t(e)); });
}

}  // namespace

void Softmax::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array in = cpu::row_major(inputs[0]);
  int64_t n = in.shape(-1), rows = int64_t(in.size()) / n;
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(in.raw_ptr());
    T* y = static_cast<T*>(out.raw_ptr());
    for_rows(rows, n, [&](int64_t b, int64_t e) {
      if constexpr (std::is_same_v<T, double>) {
        for (int64_t r = b; r < e; ++r) softmax_row(x + r * n, y + r * n, n);
      } else {
        auto row = cpu::simd::kernels().softmax_row[cpu::simd_format_v<T>];
        std::vector<float> scratch(std::is_same_v<T, float> ? 0 : size_t(n));
        for (int64_t r = b; r < e; ++r) row(x + r * n, y + r * n, n, scratch.data());
      }
    });
  };
  cpu::dispatch_float(in.dtype(), "softmax", run);
}

void LogSumExp::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array in = cpu::row_major(inputs[0]);
  int64_t rows = int64_t(out.size()), n = in.shape(-1);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(in.raw_ptr());
    T* y = static_cast<T*>(out.raw_ptr());
    for_rows(rows, n, [&](int64_t b, int64_t e) {
      if constexpr (std::is_same_v<T, double>) {
        for (int64_t r = b; r < e; ++r) y[r] = logsumexp_row(x + r * n, n);
      } else {
        auto row = cpu::simd::kernels().logsumexp_row[cpu::simd_format_v<T>];
        for (int64_t r = b; r < e; ++r) y[r] = T(row(x + r * n, n));
      }
    });
  };
  cpu::dispatch_float(in.dtype(), "logsumexp", run);
}

}  // namespace uma
