// The vector layer the SIMD kernels are written against: one set of names
// (vf, loadu, fmadd, select, zero_where, hsum, ...) over __m512 where the
// including file is built with AVX-512 flags (*_avx512*.cpp) and over __m256
// for the x86-64-v3 floor. Kernels written once against it (math.h, impl.h)
// are instantiated per tier by the file that includes them.
//
// Everything sits in an ISA-named namespace (uma::cpu::simd::avx2 or
// ::avx512) with internal linkage, so an AVX-512 copy can never be picked by
// the linker for code that runs on an AVX2 machine (cmake/check_isa.py fails
// the build on a weak function in a tier object).
//
// Masks (vm) are __mmask16 at 16 lanes and all-ones/zero lanes at 8.
#pragma once

#include <immintrin.h>

#include <cstdint>

#if defined(__AVX512F__)
#define UMA_SIMD_NS avx512
#else
#define UMA_SIMD_NS avx2
#endif

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

// The float16 at p (any alignment, as in GGUF's blocks) as a float.
inline float f16_at(const void* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Horizontal reductions of 8 float32 lanes, pairing lane i with i + 4, then
// i + 2, then i + 1 (the wider layer folds its halves first). hmax/hmin: no
// NaN lane (callers track NaN apart; max_ps drops a NaN operand).
inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float hmin8(__m256 v) {
  __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_min_ps(s, _mm_movehl_ps(s, s));
  s = _mm_min_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 32 floats at p times inv as int8 codes, rounded to nearest even (and
// saturated), in order.
inline __m256i quantize32(const float* p, __m256 inv) {
  __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(p), inv));
  __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(p + 8), inv));
  __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(p + 16), inv));
  __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(p + 24), inv));
  // packs works within 128-bit lanes: [a0 b0 a1 b1] then [ab0 cd0 ab1 cd1]
  // in dwords; the permute puts the eight dwords back in order.
  __m256i v = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Eight rows of 8 dwords to columns: v[c] becomes dword c of every row.
inline void transpose8x8(__m256i (&v)[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);      // columns 0 and 4, rows i..i+3
    u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);  // 1 and 5
    u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);  // 2 and 6
    u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);  // 3 and 7
  }
  for (int c = 0; c < 4; ++c) {
    v[c] = _mm256_permute2x128_si256(u[c], u[c + 4], 0x20);
    v[c + 4] = _mm256_permute2x128_si256(u[c], u[c + 4], 0x31);
  }
}

#if defined(__AVX512F__)
constexpr int W = 16;
using vf = __m512;
using vi = __m512i;
using vm = __mmask16;
inline vm tail_mask(int64_t n) { return vm((1u << n) - 1); }
inline vf loadu(const float* p) { return _mm512_loadu_ps(p); }
inline void storeu(float* p, vf v) { _mm512_storeu_ps(p, v); }
inline vf load_part(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
inline void store_part(float* p, vf v, int64_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
inline void stream(float* p, vf v) { _mm512_stream_ps(p, v); }  // p 64-byte aligned
inline float first(vf v) { return _mm512_cvtss_f32(v); }
inline vf set1(float x) { return _mm512_set1_ps(x); }
inline vi set1i(int32_t x) { return _mm512_set1_epi32(x); }
inline vf fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }  // b when either is NaN
inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
inline vm lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline vm ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
inline vm eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline vm isnan(vf a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
inline vf select(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
inline vf round_even(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vi to_int(vf x) { return _mm512_cvtps_epi32(x); }
inline vf to_float(vi x) { return _mm512_cvtepi32_ps(x); }
inline vi add(vi a, vi b) { return _mm512_add_epi32(a, b); }
inline vi sub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
inline vi band(vi a, vi b) { return _mm512_and_si512(a, b); }
inline vi bor(vi a, vi b) { return _mm512_or_si512(a, b); }
template <int N>
inline vi shl(vi a) { return _mm512_slli_epi32(a, N); }
template <int N>
inline vi shr(vi a) { return _mm512_srli_epi32(a, N); }
template <int N>
inline vi sar(vi a) { return _mm512_srai_epi32(a, N); }
inline vi gt_select(vi a, vi b, vi x, vi y) {  // a > b ? x : y (signed)
  return _mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(a, b), y, x);
}
inline vf as_f(vi x) { return _mm512_castsi512_ps(x); }
inline vi as_i(vf x) { return _mm512_castps_si512(x); }
inline vf load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)p)); }
inline void store_f16(uint16_t* p, vf v) {
  _mm256_storeu_si256((__m256i*)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
inline vi load_u16(const uint16_t* p) { return _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)p)); }
inline void store_u16(uint16_t* p, vi v) { _mm256_storeu_si256((__m256i*)p, _mm512_cvtepi32_epi16(v)); }
inline vm first_lanes(int64_t n) { return tail_mask(n); }  // lanes [0, n), 0 <= n <= W
inline vm unord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
inline vm mask_or(vm a, vm b) { return vm(a | b); }
inline bool any(vm m) { return m != 0; }
inline vf zero_where(vm m, vf a) { return _mm512_maskz_mov_ps(vm(~m), a); }
inline __m256 high_half(vf v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); }
inline float hsum(vf v) { return hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), high_half(v))); }
inline float hmax(vf v) { return hmax8(_mm256_max_ps(_mm512_castps512_ps256(v), high_half(v))); }
inline float hmin(vf v) { return hmin8(_mm256_min_ps(_mm512_castps512_ps256(v), high_half(v))); }
#else
constexpr int W = 8;
using vf = __m256;
using vi = __m256i;
using vm = __m256;
inline __m256i tail_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline vf loadu(const float* p) { return _mm256_loadu_ps(p); }
inline void storeu(float* p, vf v) { _mm256_storeu_ps(p, v); }
inline vf load_part(const float* p, int64_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
inline void store_part(float* p, vf v, int64_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
inline void stream(float* p, vf v) { _mm256_stream_ps(p, v); }  // p 32-byte aligned
inline float first(vf v) { return _mm256_cvtss_f32(v); }
inline vf set1(float x) { return _mm256_set1_ps(x); }
inline vi set1i(int32_t x) { return _mm256_set1_epi32(x); }
inline vf fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }  // b when either is NaN
inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
inline vm lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline vm ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
inline vm eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline vm isnan(vf a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
inline vf select(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
inline vf round_even(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vi to_int(vf x) { return _mm256_cvtps_epi32(x); }
inline vf to_float(vi x) { return _mm256_cvtepi32_ps(x); }
inline vi add(vi a, vi b) { return _mm256_add_epi32(a, b); }
inline vi sub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
inline vi band(vi a, vi b) { return _mm256_and_si256(a, b); }
inline vi bor(vi a, vi b) { return _mm256_or_si256(a, b); }
template <int N>
inline vi shl(vi a) { return _mm256_slli_epi32(a, N); }
template <int N>
inline vi shr(vi a) { return _mm256_srli_epi32(a, N); }
template <int N>
inline vi sar(vi a) { return _mm256_srai_epi32(a, N); }
inline vi gt_select(vi a, vi b, vi x, vi y) { return _mm256_blendv_epi8(y, x, _mm256_cmpgt_epi32(a, b)); }
inline vf as_f(vi x) { return _mm256_castsi256_ps(x); }
inline vi as_i(vf x) { return _mm256_castps_si256(x); }
inline vf load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
inline void store_f16(uint16_t* p, vf v) {
  _mm_storeu_si128((__m128i*)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
inline vi load_u16(const uint16_t* p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p)); }
inline void store_u16(uint16_t* p, vi v) {
  // Values are < 2^16: pack within lanes, then gather the two low quarters.
  __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
  _mm_storeu_si128((__m128i*)p, _mm256_castsi256_si128(packed));
}
inline vm first_lanes(int64_t n) { return _mm256_castsi256_ps(tail_mask(n)); }  // lanes [0, n)
inline vm unord(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
inline vm mask_or(vm a, vm b) { return _mm256_or_ps(a, b); }
inline bool any(vm m) { return _mm256_movemask_ps(m) != 0; }
inline vf zero_where(vm m, vf a) { return _mm256_andnot_ps(m, a); }
inline float hsum(vf v) { return hsum8(v); }
inline float hmax(vf v) { return hmax8(v); }
inline float hmin(vf v) { return hmin8(v); }
#endif

inline vf vabs(vf x) { return as_f(band(as_i(x), set1i(0x7fffffff))); }
inline vf sign_of(vf x) { return as_f(band(as_i(x), set1i(int32_t(0x80000000u)))); }

// bfloat16 <-> float32: the upper half of the bits, rounded to nearest even;
// NaN stays a (quiet) NaN.
// to_bf16_bits: the bfloat16 in the low half of each 32-bit lane.
inline vi to_bf16_bits(vf v) {
  vi u = as_i(v);
  vi rounded = add(add(u, set1i(0x7fff)), band(shr<16>(u), set1i(1)));
  vi quiet = bor(u, set1i(0x400000));
  vi abs_u = band(u, set1i(0x7fffffff));
  vi bits = gt_select(abs_u, set1i(0x7f800000), quiet, rounded);
  return shr<16>(bits);
}
inline vf load_bf16(const uint16_t* p) { return as_f(shl<16>(load_u16(p))); }
inline void store_bf16(uint16_t* p, vf v) { store_u16(p, to_bf16_bits(v)); }

}  // namespace
}  // namespace uma::cpu::simd::UMA_SIMD_NS
