// Row kernels for half-precision products on the avx512 tier (AVX-512
// F/BW/DQ/VL): float16, and bfloat16 on CPUs without AVX512_BF16, convert W
// to float32 on the fly and FMA with float32 copies of A's rows. The decode
// path (M = 1..8) streams the weights once at memory bandwidth.
//
// Compiled with the avx512 tier's flags only; everything here has internal
// linkage except row_kernel_avx512 (see gemm_rows_avx512.h).
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "uma/backend/cpu/simd/gemm_rows_avx512.h"

namespace uma::cpu {

namespace {

template <bool BF16>
struct FmaBlock {
  static constexpr int64_t a_bytes = 4;  // reads the float32 copy of A

  // MB rows of A against NB rows of W, 16 k per step.
  template <int MB, int NB>
  static void nt(const RowKernelArgs& r, int64_t m0, int64_t n) {
    __m512 acc[MB][NB];
    zero_tile(acc);
    const uint16_t* w[NB];
    w_rows(r, n, w);
    const float* x[MB];
    for (int i = 0; i < MB; ++i) x[i] = r.af + (m0 + i) * r.K;
    auto step = [&]<bool Full>(int64_t k, __mmask16 m) {
      __m512 wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = Full ? load16<BF16>(w[j] + k) : load16<BF16>(w[j] + k, m);
      for (int i = 0; i < MB; ++i) {
        __m512 xv = Full ? _mm512_loadu_ps(x[i] + k) : _mm512_maskz_loadu_ps(m, x[i] + k);
        for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
      }
    };
    // Plain loads for the full steps, masked ones for the tail.
    int64_t k = 0;
    for (; k + 16 <= r.K; k += 16) step.template operator()<true>(k, 0);
    if (k < r.K) step.template operator()<false>(k, mask16(r.K - k));
    store_tile<BF16, MB, NB>(r, m0, n, acc);
  }

  // MB rows of A against up to 64 columns of B.
  template <int MB>
  static void nn(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width) {
    __m512 acc[MB][4];
    for (int i = 0; i < MB; ++i) {
      for (int v = 0; v < 4; ++v) acc[i][v] = _mm512_setzero_ps();
    }
    __mmask16 cm[4];
    for (int v = 0; v < 4; ++v) cm[v] = width > 16 * v ? mask16(width - 16 * v) : 0;
    const uint16_t* b = r.b + n;
    for (int64_t k = 0; k < r.K; ++k, b += r.ldb) {
      __m512 xb[MB];
      for (int i = 0; i < MB; ++i) xb[i] = _mm512_set1_ps(r.af[(m0 + i) * r.K + k]);
      for (int v = 0; v < 4; ++v) {
        if (!cm[v]) break;
        __m512 bv = load16<BF16>(b + 16 * v, cm[v]);
        for (int i = 0; i < MB; ++i) acc[i][v] = _mm512_fmadd_ps(xb[i], bv, acc[i][v]);
      }
    }
    for (int i = 0; i < MB; ++i) {
      uint16_t* c = r.c + (m0 + i) * r.ldc + n;
      for (int v = 0; v < 4 && cm[v]; ++v) store16<BF16>(r, c + 16 * v, acc[i][v], cm[v]);
    }
  }
};

}  // namespace

void row_kernel_avx512(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  if (r.kind == HalfKind::f16) {
    run_rows<FmaBlock<false>>(r, n0, n1);
  } else {
    run_rows<FmaBlock<true>>(r, n0, n1);
  }
}

}  // namespace uma::cpu
