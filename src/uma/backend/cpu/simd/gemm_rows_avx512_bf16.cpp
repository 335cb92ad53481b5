// bfloat16 row kernels on the avx512_bf16 tier: vdpbf16ps multiplies 32
// bfloat16 pairs per instruction into float32 sums, reading A and W as they
// are stored (no conversion, no packing). Serves decode and, on CPUs without
// AMX, prefill: tiles of 6 rows of A by 4 rows of W over L2-sized blocks of A
// (gemm_rows_avx512.h).
//
// Compiled with the avx512_bf16 tier's flags; everything here has internal
// linkage except row_kernel_avx512_bf16.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "uma/backend/cpu/simd/gemm_rows_avx512.h"

namespace uma::cpu {

namespace {

struct DpBlock {
  static constexpr int64_t a_bytes = 2;  // reads A's bfloat16 rows

  // MB rows of A against NB rows of W, K in steps of 32.
  template <int MB, int NB>
  static void nt(const RowKernelArgs& r, int64_t m0, int64_t n) {
    __m512 acc[MB][NB];
    zero_tile(acc);
    const uint16_t* w[NB];
    w_rows(r, n, w);
    const uint16_t* x[MB];
    for (int i = 0; i < MB; ++i) x[i] = r.a + (m0 + i) * r.lda;
    int64_t k = 0;
    for (; k + 32 <= r.K; k += 32) {
      __m512i wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w[j] + k);
      for (int i = 0; i < MB; ++i) {
        __m512bh xv = (__m512bh)_mm512_loadu_si512(x[i] + k);
        for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, (__m512bh)wv[j]);
      }
    }
    if (k < r.K) {
      __mmask32 m = mask32(r.K - k);
      __m512i wv[NB];
      for (int j = 0; j < NB; ++j) wv[j] = _mm512_maskz_loadu_epi16(m, w[j] + k);
      for (int i = 0; i < MB; ++i) {
        __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, x[i] + k);
        for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, (__m512bh)wv[j]);
      }
    }
    store_tile<true, MB, NB>(r, m0, n, acc);
  }

  // MB rows of A against up to 64 columns of B: rows k and k+1 interleave
  // into (B[k, c], B[k+1, c]) pairs for vdpbf16ps. unpacklo/hi pair columns
  // in the order 0-3, 8-11, ... / 4-7, 12-15, ...; the store puts them back.
  template <int MB>
  static void nn(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width) {
    __m512 lo[MB][2], hi[MB][2];
    for (int i = 0; i < MB; ++i) {
      for (int v = 0; v < 2; ++v) lo[i][v] = hi[i][v] = _mm512_setzero_ps();
    }
    __mmask32 cm[2] = {mask32(width), mask32(width - 32)};
    const uint16_t* b = r.b + n;
    for (int64_t k = 0; k < r.K; k += 2) {
      const uint16_t* r0 = b + k * r.ldb;
      bool pair = k + 1 < r.K;
      for (int v = 0; v < 2; ++v) {
        if (!cm[v]) continue;
        __m512i x0 = _mm512_maskz_loadu_epi16(cm[v], r0 + 32 * v);
        __m512i x1 = pair ? _mm512_maskz_loadu_epi16(cm[v], r0 + r.ldb + 32 * v) : _mm512_setzero_si512();
        __m512bh pl = (__m512bh)_mm512_unpacklo_epi16(x0, x1), ph = (__m512bh)_mm512_unpackhi_epi16(x0, x1);
        for (int i = 0; i < MB; ++i) {
          const uint16_t* a = r.a + (m0 + i) * r.lda + k;
          uint32_t ab = pair ? (uint32_t(a[0]) | (uint32_t(a[1]) << 16)) : uint32_t(a[0]);
          __m512bh av = (__m512bh)_mm512_set1_epi32(int(ab));
          lo[i][v] = _mm512_dpbf16_ps(lo[i][v], av, pl);
          hi[i][v] = _mm512_dpbf16_ps(hi[i][v], av, ph);
        }
      }
    }
    const __m512i i0 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i i1 = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    for (int i = 0; i < MB; ++i) {
      uint16_t* c = r.c + (m0 + i) * r.ldc + n;
      for (int v = 0; v < 2; ++v) {
        int64_t left = width - 32 * v;
        if (left <= 0) break;
        store16<true>(r, c + 32 * v, _mm512_permutex2var_ps(lo[i][v], i0, hi[i][v]), mask16(left));
        if (left > 16) {
          store16<true>(r, c + 32 * v + 16, _mm512_permutex2var_ps(lo[i][v], i1, hi[i][v]), mask16(left - 16));
        }
      }
    }
  }
};

}  // namespace

void row_kernel_avx512_bf16(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  if (r.kind != HalfKind::bf16) {
    // Only bfloat16 has a dot-product instruction here; the caller routes
    // float16 to row_kernel_avx512.
    return row_kernel_avx512(r, n0, n1);
  }
  run_rows<DpBlock>(r, n0, n1);
}

}  // namespace uma::cpu
