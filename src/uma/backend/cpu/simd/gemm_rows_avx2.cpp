// Row kernels for small-M half-precision products on AVX2/FMA/F16C: each
// B element is converted to float32 once per block of A rows and multiplied
// with float32 copies of A's rows. Memory-bound for M = 1..8 (decode).
//
//   b_trans: C[m, n] = dot(A[m, :], W[n, :])       W (N, K) rows, "x @ W.T"
//   else:    C[m, n0:n1] = sum_k A[m, k] * B[k, n0:n1]
#include <immintrin.h>

#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/simd/half_scalar.h"
#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu {

namespace {

template <bool BF16>
inline __m256 load8(const uint16_t* p) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (BF16) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
  } else {
    return _mm256_cvtph_ps(v);
  }
}

using simd::avx2::hsum;

// MB rows of A against NB rows of W; 8 k per step.
template <bool BF16, int MB, int NB>
void nt_block(const RowKernelArgs& r, int64_t m0, int64_t n) {
  __m256 acc[MB][NB];
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  const uint16_t* w[NB];
  for (int j = 0; j < NB; ++j) w[j] = r.b + (n + j) * r.ldb;
  const float* x[MB];
  for (int i = 0; i < MB; ++i) x[i] = r.af + (m0 + i) * r.K;
  int64_t k = 0;
  for (; k + 8 <= r.K; k += 8) {
    __m256 wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = load8<BF16>(w[j] + k);
    for (int i = 0; i < MB; ++i) {
      __m256 xv = _mm256_loadu_ps(x[i] + k);
      for (int j = 0; j < NB; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) {
      float s = hsum(acc[i][j]);
      for (int64_t kk = k; kk < r.K; ++kk) s += x[i][kk] * to_f<BF16>(w[j][kk]);
      store_one<BF16>(r, m0 + i, n + j, s);
    }
  }
}

// MB rows of A against NV * 8 columns of B, all of K.
template <bool BF16, int MB, int NV>
void nn_panel(const RowKernelArgs& r, int64_t m0, int64_t n) {
  __m256 acc[MB][NV];
  for (int i = 0; i < MB; ++i) {
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
  }
  const uint16_t* b = r.b + n;
  for (int64_t k = 0; k < r.K; ++k, b += r.ldb) {
    __m256 xb[MB];
    for (int i = 0; i < MB; ++i) xb[i] = _mm256_broadcast_ss(r.af + (m0 + i) * r.K + k);
    for (int v = 0; v < NV; ++v) {
      __m256 bv = load8<BF16>(b + 8 * v);
      for (int i = 0; i < MB; ++i) acc[i][v] = _mm256_fmadd_ps(xb[i], bv, acc[i][v]);
    }
  }
  for (int i = 0; i < MB; ++i) {
    alignas(32) float t[NV * 8];
    for (int v = 0; v < NV; ++v) _mm256_store_ps(t + 8 * v, acc[i][v]);
    for (int j = 0; j < NV * 8; ++j) store_one<BF16>(r, m0 + i, n + j, t[j]);
  }
}

// W rows outer, A rows inner: each block of W is read from memory once and
// reused from cache for every row of A. From 6 rows of A on, blocks of 6 x 2
// (12 accumulators) do 12 FMAs per 2 converted W vectors instead of 8 per 4.
template <bool BF16>
void nt_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  if (r.M >= 6) {
    int64_t n = n0;
    for (; n + 2 <= n1; n += 2) {
      int64_t m = 0;
      for (; m + 6 <= r.M; m += 6) nt_block<BF16, 6, 2>(r, m, n);
      for (; m + 2 <= r.M; m += 2) nt_block<BF16, 2, 2>(r, m, n);
      if (m < r.M) nt_block<BF16, 1, 2>(r, m, n);
    }
    for (; n < n1; ++n) {
      for (int64_t m = 0; m < r.M; ++m) nt_block<BF16, 1, 1>(r, m, n);
    }
    return;
  }
  for (int64_t n = n0; n < n1; n += 4) {
    bool full = n + 4 <= n1;
    for (int64_t m = 0; m < r.M; m += 2) {
      bool two = m + 2 <= r.M;
      if (full) {
        two ? nt_block<BF16, 2, 4>(r, m, n) : nt_block<BF16, 1, 4>(r, m, n);
      } else {
        for (int64_t j = n; j < n1; ++j) two ? nt_block<BF16, 2, 1>(r, m, j) : nt_block<BF16, 1, 1>(r, m, j);
      }
    }
  }
}

template <bool BF16, int MB, int NV>
void nn_panels(const RowKernelArgs& r, int64_t& n, int64_t n1) {
  for (; n + NV * 8 <= n1; n += NV * 8) {
    int64_t m = 0;
    for (; m + MB <= r.M; m += MB) nn_panel<BF16, MB, NV>(r, m, n);
    for (; m < r.M; ++m) nn_panel<BF16, 1, NV>(r, m, n);
  }
}

// Column panels outer (a panel of B stays in L2), A rows inner.
template <bool BF16>
void nn_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  int64_t n = n0;
  if (r.M >= 4) {
    nn_panels<BF16, 4, 2>(r, n, n1);
  } else if (r.M >= 2) {
    nn_panels<BF16, 2, 4>(r, n, n1);
  } else {
    nn_panels<BF16, 1, 8>(r, n, n1);
  }
  nn_panels<BF16, 1, 1>(r, n, n1);
  for (; n < n1; ++n) {
    for (int64_t i = 0; i < r.M; ++i) {
      const float* x = r.af + i * r.K;
      float s = 0.f;
      for (int64_t k = 0; k < r.K; ++k) s += x[k] * to_f<BF16>(r.b[k * r.ldb + n]);
      store_one<BF16>(r, i, n, s);
    }
  }
}

template <bool BF16>
void run(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  r.b_trans ? nt_all<BF16>(r, n0, n1) : nn_all<BF16>(r, n0, n1);
}

}  // namespace

void row_kernel_avx2(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  if (r.kind == HalfKind::bf16) {
    run<true>(r, n0, n1);
  } else {
    run<false>(r, n0, n1);
  }
}

}  // namespace uma::cpu
