// bfloat16 prefill on the avx512_bf16 tier (CPUs without AMX: AMD Zen 4/5,
// Intel Cooper Lake): a register-blocked GEMM whose weights are repacked into
// VNNI pairs, so that one vdpbf16ps multiplies a broadcast pair of A by 16
// columns of W at once.
//
//   C (M, N) = alpha * A (M, K) @ B (K, N) + beta * C,  B(k, n) = W(n, k)
//
// Panels of 32 columns of B are packed per call: pair p of the panel is 32
// dwords (B[2p, n], B[2p+1, n]), n = n0..n0+31 (zero past N and past K).
// The micro-kernel keeps a 12 x 32 tile of C in 24 registers; per pair it
// loads two vectors of the panel and broadcasts one dword of each A row, so
// it reads 176 bytes per 24 vdpbf16ps (the dot-product kernels of
// gemm_rows_avx512_bf16.cpp read 640) and stays compute-bound from L2.
//
// Loop nest of a thread over its columns [n0, n1):
//   256-column blocks of B, packed (K x 256 bf16 in L2/L3)
//     64-row blocks of A (about 512 KiB at K = 4096, in L2)
//       32-column panels (the packed panel streams from L2)
//         12-row tiles: micro-kernel over all of K
//
// Compiled with the avx512_bf16 tier's flags; internal linkage except the
// entry point.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstring>

#include "uma/backend/cpu/simd/gemm_rows_avx512.h"

namespace uma::cpu {

namespace {

constexpr int kMR = 12;       // rows of A per tile
constexpr int64_t kNR = 32;   // columns per panel
constexpr int64_t kNC = kPackedBlockCols;  // columns per packed block
constexpr int64_t kMC = 60;   // rows of A per block (a multiple of kMR)

// The panel of columns [n, n + width) of B for all K: pairs(K) x 32 dwords.
void pack_panel(const RowKernelArgs& r, int64_t n, int64_t width, uint32_t* dst) {
  int64_t pairs = (r.K + 1) / 2;
  std::memset(dst, 0, size_t(pairs * kNR) * 4);
  for (int64_t j = 0; j < width; ++j) {
    // B(k, n + j): W row n + j (x @ W.T) or column n + j of B.
    const uint16_t* col = r.b_trans ? r.b + (n + j) * r.ldb : r.b + (n + j);
    int64_t step = r.b_trans ? 1 : r.ldb;
    uint32_t* d = dst + j;
    if (step == 1) {
      int64_t p = 0;
      for (; 2 * p + 1 < r.K; ++p) {
        uint32_t v;
        std::memcpy(&v, col + 2 * p, 4);
        d[p * kNR] = v;
      }
      if (r.K % 2) d[p * kNR] = col[2 * p];
    } else {
      int64_t p = 0;
      for (; 2 * p + 1 < r.K; ++p) d[p * kNR] = uint32_t(col[2 * p * step]) | uint32_t(col[(2 * p + 1) * step]) << 16;
      if (r.K % 2) d[p * kNR] = col[2 * p * step];
    }
  }
}

// C[m0 : m0 + MR, n : n + width) from A's rows and one packed panel.
template <int MR>
void micro_kernel(const RowKernelArgs& r, int64_t m0, int64_t n, int64_t width, const uint32_t* panel) {
  __m512 c[MR][2];
  zero_tile(c);
  const uint16_t* a[MR];
  for (int i = 0; i < MR; ++i) a[i] = r.a + (m0 + i) * r.lda;
  int64_t full = r.K / 2;
  for (int64_t p = 0; p < full; ++p) {
    __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + p * kNR);
    __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + p * kNR + 16);
    for (int i = 0; i < MR; ++i) {
      uint32_t pair;
      std::memcpy(&pair, a[i] + 2 * p, 4);
      __m512bh av = (__m512bh)_mm512_set1_epi32(int(pair));
      c[i][0] = _mm512_dpbf16_ps(c[i][0], av, w0);
      c[i][1] = _mm512_dpbf16_ps(c[i][1], av, w1);
    }
  }
  if (r.K % 2) {  // the last k pairs with a zero
    __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + full * kNR);
    __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + full * kNR + 16);
    for (int i = 0; i < MR; ++i) {
      __m512bh av = (__m512bh)_mm512_set1_epi32(int(a[i][2 * full]));
      c[i][0] = _mm512_dpbf16_ps(c[i][0], av, w0);
      c[i][1] = _mm512_dpbf16_ps(c[i][1], av, w1);
    }
  }
  __mmask16 m0k = mask16(width), m1k = mask16(width - 16);
  for (int i = 0; i < MR; ++i) {
    uint16_t* out = r.c + (m0 + i) * r.ldc + n;
    store16<true>(r, out, c[i][0], m0k);
    if (m1k) store16<true>(r, out + 16, c[i][1], m1k);
  }
}

void tile_rows(const RowKernelArgs& r, int64_t m, int64_t m1, int64_t n, int64_t width, const uint32_t* panel) {
  for (; m + kMR <= m1; m += kMR) micro_kernel<kMR>(r, m, n, width, panel);
  switch (m1 - m) {
    case 11: return micro_kernel<11>(r, m, n, width, panel);
    case 10: return micro_kernel<10>(r, m, n, width, panel);
    case 9: return micro_kernel<9>(r, m, n, width, panel);
    case 8: return micro_kernel<8>(r, m, n, width, panel);
    case 7: return micro_kernel<7>(r, m, n, width, panel);
    case 6: return micro_kernel<6>(r, m, n, width, panel);
    case 5: return micro_kernel<5>(r, m, n, width, panel);
    case 4: return micro_kernel<4>(r, m, n, width, panel);
    case 3: return micro_kernel<3>(r, m, n, width, panel);
    case 2: return micro_kernel<2>(r, m, n, width, panel);
    case 1: return micro_kernel<1>(r, m, n, width, panel);
    default: return;
  }
}

}  // namespace

void packed_gemm_avx512_bf16(const RowKernelArgs& r, int64_t n0, int64_t n1, uint32_t* packed) {
  int64_t panel_elems = (r.K + 1) / 2 * kNR;
  for (int64_t nb = n0; nb < n1; nb += kNC) {
    int64_t ne = n1 - nb < kNC ? n1 : nb + kNC;
    for (int64_t n = nb; n < ne; n += kNR) {
      pack_panel(r, n, ne - n < kNR ? ne - n : kNR, packed + (n - nb) / kNR * panel_elems);
    }
    for (int64_t mb = 0; mb < r.M; mb += kMC) {
      int64_t me = r.M - mb < kMC ? r.M : mb + kMC;
      for (int64_t n = nb; n < ne; n += kNR) {
        tile_rows(r, mb, me, n, ne - n < kNR ? ne - n : kNR, packed + (n - nb) / kNR * panel_elems);
      }
    }
  }
}

}  // namespace uma::cpu
