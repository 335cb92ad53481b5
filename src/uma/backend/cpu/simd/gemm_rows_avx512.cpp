// Row kernels for small-M half-precision products on AVX-512: the decode
// path (M = 1..8) that streams bf16/fp16 weights once at memory bandwidth.
// bfloat16 uses vdpbf16ps (32 products per instruction, float32 sums) where
// the CPU has AVX512_BF16; float16, and bfloat16 elsewhere, convert to
// float32 on the fly and FMA.
//
//   b_trans: C[m, n] = dot(A[m, :], W[n, :])       W (N, K) rows, "x @ W.T"
//   else:    C[m, n0:n1] = sum_k A[m, k] * B[k, n0:n1]
//
// Compiled with AVX-512 flags: all code here, and the helpers of
// half_scalar.h and avx512_half.h, has internal linkage, so that no AVX-512 instruction leaks
// into baseline paths.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/simd/avx512_half.h"
#include "uma/backend/cpu/simd/half_scalar.h"

namespace uma::cpu {

namespace {

// 16 halves -> 16 floats (masked lanes read as zero).
template <bool BF16>
inline __m512 load16(const uint16_t* p, __mmask16 m = 0xffff) {
  __m256i v = _mm256_maskz_loadu_epi16(m, p);
  if constexpr (BF16) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  } else {
    return _mm512_cvtph_ps(v);
  }
}

// 16 floats -> 16 halves, round to nearest even (no AVX512_BF16 needed).
template <bool BF16>
inline __m256i pack16(__m512 v) {
  if constexpr (BF16) {
    return pack_bf16(v);
  } else {
    return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
}

// c[0:16] (masked) = alpha * acc + beta * c.
template <bool BF16>
inline void store16(const RowKernelArgs& r, uint16_t* c, __m512 acc, __mmask16 m) {
  __m512 v = _mm512_mul_ps(acc, _mm512_set1_ps(r.alpha));
  if (r.beta != 0.f) v = _mm512_fmadd_ps(load16<BF16>(c, m), _mm512_set1_ps(r.beta), v);
  _mm256_mask_storeu_epi16(c, m, pack16<BF16>(v));
}

// Lanes [0, n) of 32; none for n <= 0 (mask16 is in avx512_half.h).
inline __mmask32 mask32(int64_t n) {
  return n >= 32 ? __mmask32(0xffffffffu) : n <= 0 ? 0 : __mmask32((1u << n) - 1);
}

// ------------------------------------------------------------ x @ W.T
// MB rows of A against NB rows of W, K in steps of 32 through vdpbf16ps.
template <int MB, int NB>
void nt_block_dp(const RowKernelArgs& r, int64_t m0, int64_t n) {
  __m512 acc[MB][NB];
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  const uint16_t* w[NB];
  for (int j = 0; j < NB; ++j) w[j] = r.b + (n + j) * r.ldb;
  const uint16_t* x[MB];
  for (int i = 0; i < MB; ++i) x[i] = r.a + (m0 + i) * r.lda;
  for (int64_t k = 0; k < r.K; k += 32) {
    __mmask32 m = mask32(r.K - k);
    __m512i wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = _mm512_maskz_loadu_epi16(m, w[j] + k);
    for (int i = 0; i < MB; ++i) {
      __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, x[i] + k);
      for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, (__m512bh)wv[j]);
    }
  }
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) store_one<true>(r, m0 + i, n + j, _mm512_reduce_add_ps(acc[i][j]));
  }
}

// The same with float32 FMAs, 16 k per step (float16, or bfloat16 without
// AVX512_BF16).
template <bool BF16, int MB, int NB>
void nt_block_fma(const RowKernelArgs& r, int64_t m0, int64_t n) {
  __m512 acc[MB][NB];
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  const uint16_t* w[NB];
  for (int j = 0; j < NB; ++j) w[j] = r.b + (n + j) * r.ldb;
  const float* x[MB];
  for (int i = 0; i < MB; ++i) x[i] = r.af + (m0 + i) * r.K;
  for (int64_t k = 0; k < r.K; k += 16) {
    __mmask16 m = mask16(r.K - k);
    __m512 wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = load16<BF16>(w[j] + k, m);
    for (int i = 0; i < MB; ++i) {
      __m512 xv = _mm512_maskz_loadu_ps(m, x[i] + k);
      for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) store_one<BF16>(r, m0 + i, n + j, _mm512_reduce_add_ps(acc[i][j]));
  }
}

template <bool BF16, bool DP, int MB, int NB>
inline void nt_block(const RowKernelArgs& r, int64_t m0, int64_t n) {
  if constexpr (DP) {
    nt_block_dp<MB, NB>(r, m0, n);
  } else {
    nt_block_fma<BF16, MB, NB>(r, m0, n);
  }
}

template <bool BF16, bool DP, int NB>
void nt_rows_of_a(const RowKernelArgs& r, int64_t n) {
  int64_t m = 0;
  for (; m + 4 <= r.M; m += 4) nt_block<BF16, DP, 4, NB>(r, m, n);
  switch (r.M - m) {
    case 3: nt_block<BF16, DP, 3, NB>(r, m, n); break;
    case 2: nt_block<BF16, DP, 2, NB>(r, m, n); break;
    case 1: nt_block<BF16, DP, 1, NB>(r, m, n); break;
    default: break;
  }
}

// W rows outer, A rows inner: each 4-row block of W comes from memory once.
template <bool BF16, bool DP>
void nt_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) nt_rows_of_a<BF16, DP, 4>(r, n);
  for (; n < n1; ++n) nt_rows_of_a<BF16, DP, 1>(r, n);
}

// ------------------------------------------------------------ x @ B
// MB rows of A against 64 columns of B: rows k and k+1 interleave into
// (B[k, c], B[k+1, c]) pairs for vdpbf16ps. unpacklo/hi pair columns in the
// order 0-3, 8-11, ... / 4-7, 12-15, ...; the store puts them back.
template <int MB>
void nn_panel_dp(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width) {
  __m512 lo[MB][2], hi[MB][2];
  for (int i = 0; i < MB; ++i) {
    for (int v = 0; v < 2; ++v) lo[i][v] = hi[i][v] = _mm512_setzero_ps();
  }
  __mmask32 cm[2] = {mask32(width), mask32(width - 32)};
  const uint16_t* b = r.b + n;
  int64_t k = 0;
  for (; k < r.K; k += 2) {
    const uint16_t* r0 = b + k * r.ldb;
    bool pair = k + 1 < r.K;
    for (int v = 0; v < 2; ++v) {
      if (!cm[v]) continue;
      __m512i x0 = _mm512_maskz_loadu_epi16(cm[v], r0 + 32 * v);
      __m512i x1 = pair ? _mm512_maskz_loadu_epi16(cm[v], r0 + r.ldb + 32 * v) : _mm512_setzero_si512();
      __m512bh pl = (__m512bh)_mm512_unpacklo_epi16(x0, x1), ph = (__m512bh)_mm512_unpackhi_epi16(x0, x1);
      for (int i = 0; i < MB; ++i) {
        uint32_t ab;
        const uint16_t* a = r.a + (m0 + i) * r.lda + k;
        ab = pair ? (uint32_t(a[0]) | (uint32_t(a[1]) << 16)) : uint32_t(a[0]);
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
      if (left > 16) store16<true>(r, c + 32 * v + 16, _mm512_permutex2var_ps(lo[i][v], i1, hi[i][v]), mask16(left - 16));
    }
  }
}

// MB rows of A against 64 columns of B with float32 FMAs.
template <bool BF16, int MB>
void nn_panel_fma(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width) {
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

template <bool BF16, bool DP, int MB>
inline void nn_panel(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width) {
  if constexpr (DP) {
    nn_panel_dp<MB>(r, m0, n, width);
  } else {
    nn_panel_fma<BF16, MB>(r, m0, n, width);
  }
}

// Column panels outer (a panel of B stays in L2), A rows inner.
template <bool BF16, bool DP>
void nn_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; n += 64) {
    int64_t width = n1 - n < 64 ? n1 - n : 64;
    int64_t m = 0;
    for (; m + 4 <= r.M; m += 4) nn_panel<BF16, DP, 4>(r, m, n, width);
    switch (r.M - m) {
      case 3: nn_panel<BF16, DP, 3>(r, m, n, width); break;
      case 2: nn_panel<BF16, DP, 2>(r, m, n, width); break;
      case 1: nn_panel<BF16, DP, 1>(r, m, n, width); break;
      default: break;
    }
  }
}

template <bool BF16, bool DP>
void run(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  r.b_trans ? nt_all<BF16, DP>(r, n0, n1) : nn_all<BF16, DP>(r, n0, n1);
}

}  // namespace

void row_kernel_avx512(const RowKernelArgs& r, int64_t n0, int64_t n1, bool use_dpbf16) {
  if (r.kind == HalfKind::f16) {
    run<false, false>(r, n0, n1);
  } else if (use_dpbf16) {
    run<true, true>(r, n0, n1);
  } else {
    run<true, false>(r, n0, n1);
  }
}

}  // namespace uma::cpu
