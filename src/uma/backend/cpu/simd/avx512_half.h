// AVX-512 helpers shared by the AVX-512 and AMX kernel files (both compiled
// with AVX-512 flags): lane masks and float32 -> bfloat16 packing. Internal
// linkage (an unnamed namespace), so no AVX-512 copy can reach baseline code.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace uma::cpu {
namespace {

// Lanes [0, n) of 16; all for n >= 16, none for n <= 0.
inline __mmask16 mask16(int64_t n) { return n >= 16 ? __mmask16(0xffff) : n <= 0 ? 0 : __mmask16((1u << n) - 1); }

// 16 floats -> 16 bf16, round to nearest even, NaN kept (no AVX512_BF16 needed).
inline __m256i pack_bf16(__m512 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40)));
  return _mm512_cvtepi32_epi16(r);
}

}  // namespace
}  // namespace uma::cpu
