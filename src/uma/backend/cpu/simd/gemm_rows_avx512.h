// The loop nests of the AVX-512 half-precision row kernels, shared by
// gemm_rows_avx512.cpp (float32 FMAs) and gemm_rows_avx512_bf16.cpp
// (vdpbf16ps). Each file supplies a Block type with the tile kernels and
// instantiates the drivers below with its own ISA flags. Everything here has
// internal linkage, so no copy compiled for one tier can serve another.
//
//   b_trans: C[m, n] = dot(A[m, :], W[n, :])       W (N, K) rows, "x @ W.T"
//   else:    C[m, n0:n1] = sum_k A[m, k] * B[k, n0:n1]
//
// Block provides:
//   static constexpr int64_t a_bytes;           // bytes per A element it reads
//   template <int MB, int NB> static void nt(r, m0, n);      // MB x NB outputs
//   template <int MB> static void nn(r, m0, n, width);       // MB x width<=64
#pragma once

#include <immintrin.h>

#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/simd/avx512_half.h"
#include "uma/backend/cpu/simd/half_scalar.h"

namespace uma::cpu {
namespace {

// 16 halves -> 16 floats.
template <bool BF16>
inline __m512 widen16(__m256i v) {
  if constexpr (BF16) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  } else {
    return _mm512_cvtph_ps(v);
  }
}
template <bool BF16>
inline __m512 load16(const uint16_t* p) {
  return widen16<BF16>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// Masked lanes read as zero (and are not touched in memory).
template <bool BF16>
inline __m512 load16(const uint16_t* p, __mmask16 m) {
  return widen16<BF16>(_mm256_maskz_loadu_epi16(m, p));
}

// 16 floats -> 16 halves, round to nearest even.
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

// Lanes [0, n) of 32; none for n <= 0.
inline __mmask32 mask32(int64_t n) {
  return n >= 32 ? __mmask32(0xffffffffu) : n <= 0 ? 0 : __mmask32((1u << n) - 1);
}

// The sums of four vectors, as one vector (a, b, c, d): pairs reduce
// together, about a third of the work of four separate reductions.
inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // a02 b02 a13 b13 per lane
  __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  __m512 s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                           _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));  // a b c d per 128-bit lane
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

template <int MB, int NB>
inline void zero_tile(__m512 (&acc)[MB][NB]) {
  for (int i = 0; i < MB; ++i) {
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm512_setzero_ps();
  }
}

// Pointers to the NB rows of W from row n.
template <int NB>
inline void w_rows(const RowKernelArgs& r, int64_t n, const uint16_t* (&w)[NB]) {
  for (int j = 0; j < NB; ++j) w[j] = r.b + (n + j) * r.ldb;
}

// Writes the MB x NB tile of accumulators (NB = 4 or 1).
template <bool BF16, int MB, int NB>
inline void store_tile(const RowKernelArgs& r, int64_t m0, int64_t n, __m512 (&acc)[MB][NB]) {
  for (int i = 0; i < MB; ++i) {
    if constexpr (NB == 4) {
      alignas(16) float s[4];
      _mm_store_ps(s, reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
      for (int j = 0; j < 4; ++j) store_one<BF16>(r, m0 + i, n + j, s[j]);
    } else {
      for (int j = 0; j < NB; ++j) store_one<BF16>(r, m0 + i, n + j, _mm512_reduce_add_ps(acc[i][j]));
    }
  }
}

// ------------------------------------------------------------ x @ W.T
// Rows [m, m1) of A against NB rows of W: tiles of MB rows, then one tile
// for the 1-5 rows left.
template <class Block, int NB, int MB>
inline void nt_rows(const RowKernelArgs& r, int64_t m, int64_t m1, int64_t n) {
  for (; m + MB <= m1; m += MB) Block::template nt<MB, NB>(r, m, n);
  switch (m1 - m) {
    case 5: Block::template nt<5, NB>(r, m, n); break;
    case 4: Block::template nt<4, NB>(r, m, n); break;
    case 3: Block::template nt<3, NB>(r, m, n); break;
    case 2: Block::template nt<2, NB>(r, m, n); break;
    case 1: Block::template nt<1, NB>(r, m, n); break;
    default: break;
  }
}

// Rows of A in blocks that stay in L2 (about 192 KiB) while the thread's rows
// of W pass them, 4 at a time; within a block, tiles of 6 rows of A by 4 rows
// of W (24 accumulators). For decode (M < 6) this is W rows outer, A rows
// inner: each 4-row block of W comes from memory once.
template <class Block>
void nt_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  int64_t mc = (192 << 10) / (r.K * Block::a_bytes + 1) / 6 * 6;
  mc = mc < 6 ? 6 : mc;
  for (int64_t mb = 0; mb < r.M; mb += mc) {
    int64_t me = r.M - mb < mc ? r.M : mb + mc;
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) nt_rows<Block, 4, 6>(r, mb, me, n);
    for (; n < n1; ++n) nt_rows<Block, 1, 6>(r, mb, me, n);
  }
}

// ------------------------------------------------------------ x @ B
// Column panels outer (a panel of B stays in L2), A rows inner.
template <class Block>
void nn_all(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; n += 64) {
    int64_t width = n1 - n < 64 ? n1 - n : 64;
    int64_t m = 0;
    for (; m + 4 <= r.M; m += 4) Block::template nn<4>(r, m, n, width);
    switch (r.M - m) {
      case 3: Block::template nn<3>(r, m, n, width); break;
      case 2: Block::template nn<2>(r, m, n, width); break;
      case 1: Block::template nn<1>(r, m, n, width); break;
      default: break;
    }
  }
}

template <class Block>
void run_rows(const RowKernelArgs& r, int64_t n0, int64_t n1) {
  r.b_trans ? nt_all<Block>(r, n0, n1) : nn_all<Block>(r, n0, n1);
}

}  // namespace
}  // namespace uma::cpu
