// Helpers of the matmul suites: random operands and a float64 reference.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "uma/uma.h"

namespace uma::test {

// Deterministic values in [-1, 1).
inline std::vector<float> random_values(size_t n, uint64_t seed) {
  std::vector<float> v(n);
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& f : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    f = float(int64_t(x >> 40) - (int64_t(1) << 23)) / float(1 << 23);
  }
  return v;
}

inline array random_array(const Shape& shape, Dtype t, uint64_t seed) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  return astype(array(random_values(n, seed), shape), t);
}

// Unit roundoff of a result stored in t.
inline double eps_of(Dtype t) {
  switch (t) {
    case Dtype::bfloat16: return 1.0 / 256;
    case Dtype::float16: return 1.0 / 2048;
    case Dtype::float32: return 1.2e-7;
    default: return 2.3e-16;
  }
}

// |got - ref| <= eps |ref| + a float32 accumulation bound: the inputs are
// exact in every path, so the error is the result's rounding plus that of
// float32 sums of K products (partial sums up to ~sqrt(K) for values in [-1, 1]).
inline void expect_matmul_close(const std::vector<double>& got, const std::vector<double>& ref, Dtype t, int64_t K) {
  ASSERT_EQ(got.size(), ref.size());
  double e = eps_of(t), unit = t == Dtype::float64 ? 2.3e-16 : 1.2e-7;
  double acc = unit * double(K + 1) * (1 + std::sqrt(double(K)) / 2);
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double tol = e * std::abs(ref[i]) + acc;
    if (!(std::abs(got[i] - ref[i]) <= tol) && bad++ < 5) {
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", want " << ref[i] << " (tol " << tol << ")";
    }
  }
  EXPECT_EQ(bad, 0) << "of " << got.size() << " elements";
}

// NumPy matmul of row-major float64 data (1-D promotion, batch broadcast).
inline std::vector<double> ref_matmul(const std::vector<double>& a, Shape as, const std::vector<double>& b, Shape bs,
                                      Shape* out_shape = nullptr) {
  bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  size_t nd = std::max(ab.size(), bb.size());
  ab.insert(ab.begin(), nd - ab.size(), 1);
  bb.insert(bb.begin(), nd - bb.size(), 1);
  Shape batch(nd);
  for (size_t i = 0; i < nd; ++i) batch[i] = std::max(ab[i], bb[i]);
  int64_t nb = 1;
  for (auto d : batch) nb *= d;
  std::vector<double> out(size_t(nb * M * N), 0.0);
  for (int64_t bi = 0; bi < nb; ++bi) {
    int64_t rem = bi, ao = 0, bo = 0, astr = 1, bstr = 1;
    for (int d = int(nd) - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      ao += (ab[d] == 1 ? 0 : idx) * astr;
      bo += (bb[d] == 1 ? 0 : idx) * bstr;
      astr *= ab[d];
      bstr *= bb[d];
    }
    const double* pa = a.data() + ao * M * K;
    const double* pb = b.data() + bo * K * N;
    double* po = out.data() + bi * M * N;
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t j = 0; j < N; ++j) po[i * N + j] += pa[i * K + k] * pb[k * N + j];
      }
    }
  }
  if (out_shape) {
    *out_shape = batch;
    if (!a1) out_shape->push_back(int32_t(M));
    if (!b1) out_shape->push_back(int32_t(N));
  }
  return out;
}

}  // namespace uma::test
