// CPU kernels of Softmax and LogSumExp over the last axis of row-major rows.
// float32 and half types run through float32 vectors (half rows are widened
// into a scratch row); float32 rows use AVX-512 where the CPU has it
// (simd/softmax_avx512.cpp); float64 is scalar.
//   x: (rows, n) -> softmax: (rows, n), logsumexp: (rows, 1)
#include <cmath>
#include <limits>
#include <vector>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/simd/exp_avx2.h"
#include "uma/backend/cpu/simd/reduce_avx2.h"
#include "uma/backend/cpu/simd/softmax_avx512.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/reduction.h"

namespace uma {

namespace {

using cpu::simd::exp8;
using cpu::simd::load8;

// e[j] = exp(x[j] - m); returns the sum of e (float64 over float32 blocks).
template <typename T>
double exp_shift_sum(const T* x, float m, float* e, int64_t n) {
  __m256 vm = _mm256_set1_ps(m), s0 = _mm256_setzero_ps(), s1 = s0;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 e0 = exp8(_mm256_sub_ps(load8(x + j), vm));
    __m256 e1 = exp8(_mm256_sub_ps(load8(x + j + 8), vm));
    if (e) {
      _mm256_storeu_ps(e + j, e0);
      _mm256_storeu_ps(e + j + 8, e1);
    }
    s0 = _mm256_add_ps(s0, e0);
    s1 = _mm256_add_ps(s1, e1);
  }
  double s = cpu::simd::hsum(_mm256_add_ps(s0, s1));
  for (; j < n; ++j) {
    float v = cpu::simd::exp1(static_cast<float>(x[j]) - m);
    if (e) e[j] = v;
    s += v;
  }
  return s;
}

template <typename T>
void softmax_row(const T* x, T* y, int64_t n, std::vector<float>& scratch) {
  if constexpr (std::is_same_v<T, double>) {
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
  } else {
    float m = cpu::simd::extreme_row<true>(x, n);
    float* e;
    if constexpr (std::is_same_v<T, float>) {
      e = y;
    } else {
      scratch.resize(size_t(n));
      e = scratch.data();
    }
    __m256 inv = _mm256_set1_ps(float(1.0 / exp_shift_sum(x, m, e, n)));
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      __m256 v = _mm256_mul_ps(_mm256_loadu_ps(e + j), inv);
      if constexpr (std::is_same_v<T, float>) {
        _mm256_storeu_ps(y + j, v);
      } else if constexpr (std::is_same_v<T, float16_t>) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y + j), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
      } else {
        alignas(32) float t[8];
        _mm256_store_ps(t, v);
        for (int k = 0; k < 8; ++k) y[j + k] = T(t[k]);
      }
    }
    float invs = _mm256_cvtss_f32(inv);
    for (; j < n; ++j) y[j] = T(e[j] * invs);
  }
}

// log(sum(exp(x))) of one row; -inf for an empty row.
template <typename T>
double logsumexp_row(const T* x, int64_t n) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (n == 0) return -inf;
  if constexpr (std::is_same_v<T, double>) {
    double m = -inf;
    for (int64_t j = 0; j < n; ++j) {
      if (std::isnan(x[j])) return x[j];
      m = std::max(m, x[j]);
    }
    if (std::isinf(m)) return m;
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
    return m + std::log(s);
  } else {
    float m = cpu::simd::extreme_row<true>(x, n);
    if (std::isnan(m) || std::isinf(m)) return m;
    return double(m) + std::log(exp_shift_sum(x, m, nullptr, n));
  }
}

// The op layer promotes to a float type; anything else is a bug upstream.
template <typename F>
void dispatch_float(Dtype t, const char* op, F&& f) {
  switch (t) {
    case float32: return f(type_tag<float>{});
    case float16: return f(type_tag<float16_t>{});
    case bfloat16: return f(type_tag<bfloat16_t>{});
    case float64: return f(type_tag<double>{});
    default: throw std::invalid_argument(std::string("[") + op + "] unsupported dtype " + dtype_name(t));
  }
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
    bool wide = std::is_same_v<T, float> && cpu::cpu_features().has_avx512();
    for_rows(rows, n, [&](int64_t b, int64_t e) {
      std::vector<float> scratch;
      for (int64_t r = b; r < e; ++r) {
        if constexpr (std::is_same_v<T, float>) {
          if (wide) {
            cpu::avx512::softmax_row(x + r * n, y + r * n, n);
            continue;
          }
        }
        softmax_row(x + r * n, y + r * n, n, scratch);
      }
    });
  };
  dispatch_float(in.dtype(), "softmax", run);
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
    bool wide = std::is_same_v<T, float> && n > 0 && cpu::cpu_features().has_avx512();
    for_rows(rows, n, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        if constexpr (std::is_same_v<T, float>) {
          if (wide) {
            y[r] = T(cpu::avx512::logsumexp_row(x + r * n, n));
            continue;
          }
        }
        y[r] = T(logsumexp_row(x + r * n, n));
      }
    });
  };
  dispatch_float(in.dtype(), "logsumexp", run);
}

}  // namespace uma
