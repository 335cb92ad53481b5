// Helpers of the CUDA suite (uma_tests_cuda, `make test-cuda`, run on a
// machine with a GPU): random inputs of every dtype, and the check that an
// op computed on the GPU equals the same op on the CPU backend.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "uma/backend/cuda/device.h"
#include "uma/core/gpu.h"
#include "uma/uma.h"

namespace uma::test {

// Kernel tests run with the CPU fallback off: a primitive that has no CUDA
// kernel fails them by name instead of passing on the CPU.
struct NoFallback {
  bool previous = cuda::set_cpu_fallback(false);
  ~NoFallback() { cuda::set_cpu_fallback(previous); }
};

// The default device is d while one lives.
struct OnDevice {
  Device previous = default_device();
  explicit OnDevice(Device d) { set_default_device(d); }
  ~OnDevice() { set_default_device(previous); }
};

inline Device gpu() { return Device{Device::gpu, 0}; }
inline Device cpu() { return Device{Device::cpu, 0}; }

inline std::vector<Dtype> all_dtypes() {
  return {bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16, float32, float64};
}
inline std::vector<Dtype> float_dtypes() { return {float16, bfloat16, float32, float64}; }

// Random values in [lo, hi] of dtype t (integers and bool rounded), made on
// the host: the GPU reads them by uploading, as it reads loaded weights.
inline array random_array(const Shape& shape, Dtype t, uint32_t seed, double lo = -4, double hi = 4) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) {
    x = u(rng);
    if (!is_floating_point(t)) x = std::round(x);
    if (t == bool_) x = x > 0;
    if (t == Dtype::uint8 || t == Dtype::uint16 || t == Dtype::uint32 || t == Dtype::uint64) x = std::fabs(x);
  }
  return astype(array(v, shape), t);
}

// Relative tolerance of a result of dtype t computed by float math in a
// different order (GPU against CPU).
inline double gpu_tol(Dtype t) {
  switch (t) {
    case Dtype::float16: return 2e-3;
    case Dtype::bfloat16: return 1.6e-2;
    case Dtype::float32: return 2e-5;
    case Dtype::float64: return 1e-12;
    case Dtype::complex64: return 2e-5;
    default: return 0;
  }
}

// gpu_out (computed on the GPU) against cpu_out: same shape and dtype, every
// element within rtol * |expected| + atol (NaN only where NaN, infinities
// equal); integers and bool exactly. Reads both through the host.
inline void expect_same(array gpu_out, array cpu_out, double rtol = -1, double atol = -1,
                        const std::string& what = "") {
  ASSERT_EQ(gpu_out.shape(), cpu_out.shape()) << what;
  ASSERT_EQ(gpu_out.dtype(), cpu_out.dtype()) << what;
  if (rtol < 0) rtol = gpu_tol(cpu_out.dtype());
  if (atol < 0) atol = rtol;
  if (cpu_out.dtype() == complex64) {  // compare the (re, im) pairs
    gpu_out = view(reshape(gpu_out, {-1}, cpu()), float32, cpu());
    cpu_out = view(reshape(cpu_out, {-1}, cpu()), float32, cpu());
  }
  auto g = gpu_out.to_vector<double>();
  auto c = cpu_out.to_vector<double>();
  size_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    bool ok;
    if (std::isnan(c[i])) {
      ok = std::isnan(g[i]);
    } else if (std::isinf(c[i])) {
      ok = g[i] == c[i];
    } else {
      ok = std::fabs(g[i] - c[i]) <= rtol * std::fabs(c[i]) + atol;
    }
    if (!ok && ++bad <= 5) {
      ADD_FAILURE() << what << " element " << i << ": gpu " << g[i] << " cpu " << c[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << c.size() << " elements differ";
}

// True when the array's bytes live on the GPU now (computed there).
inline bool on_gpu(const array& a) {
  auto* d = a.desc()->data.get();
  return d && d->gpu && !d->host_valid.load();
}

}  // namespace uma::test
