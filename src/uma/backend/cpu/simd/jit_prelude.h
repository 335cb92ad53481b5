// What the kernels compile() generates at run time (backend/cpu/jit/) are
// written against: the vector layer (vec.h), the math (math.h), the element
// formats and binary arithmetic (ops.h), and the steps below, each computing
// exactly what the interpreter (backend/cpu/compiled.cpp) computes for it.
// The build embeds the text of these headers into the library
// (cmake/embed_sources.cmake), so generated sources need no include path;
// the library's tests include this header to check the steps directly.
#pragma once

#include <cstdint>

#include "uma/backend/cpu/simd/math.h"
#include "uma/backend/cpu/simd/ops.h"

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

// `JIT_EACH(u) statement`: the statement for u in [0, U), unrolled.
#define JIT_EACH(u) _Pragma("GCC unroll 16") for (int u = 0; u < U; ++u)

// --- steps the table has no kernel for
#if defined(__AVX512F__)
inline vf jit_sqrt(vf x) { return _mm512_sqrt_ps(x); }
inline vf jit_floor(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
inline vf jit_ceil(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
// c != 0 (true for NaN), Select's condition.
inline vm jit_nonzero(vf c) { return _mm512_cmp_ps_mask(c, _mm512_setzero_ps(), _CMP_NEQ_UQ); }
inline vf jit_round_f16(vf x) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// W bools (bytes) as 0 or 1.
inline vf jit_load_bool8(const uint8_t* p) {
  vi v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return to_float(_mm512_min_epu32(v, set1i(1)));
}
#else
inline vf jit_sqrt(vf x) { return _mm256_sqrt_ps(x); }
inline vf jit_floor(vf x) { return _mm256_floor_ps(x); }
inline vf jit_ceil(vf x) { return _mm256_ceil_ps(x); }
inline vm jit_nonzero(vf c) { return _mm256_cmp_ps(c, _mm256_setzero_ps(), _CMP_NEQ_UQ); }
inline vf jit_round_f16(vf x) {
  return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
inline vf jit_load_bool8(const uint8_t* p) {
  vi v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return to_float(_mm256_min_epu32(v, set1i(1)));
}
#endif

// Rounded to bfloat16 and back, as store_bf16 then load_bf16.
inline vf jit_round_bf16(vf x) { return as_f(shl<16>(to_bf16_bits(x))); }

// The std:: steps, lane by lane: the same libm calls as the interpreter's
// and the unfused kernels' (std::sin(float) is __builtin_sinf, i.e. sinf;
// the builtins spare every generated kernel the parsing of <cmath>).
template <float (*F)(float)>
inline vf jit_lanes(vf x) {
  float t[W];
  storeu(t, x);
  for (int j = 0; j < W; ++j) t[j] = F(t[j]);
  return loadu(t);
}
template <float (*F)(float, float)>
inline vf jit_lanes(vf x, vf y) {
  float a[W], b[W];
  storeu(a, x);
  storeu(b, y);
  for (int j = 0; j < W; ++j) a[j] = F(a[j], b[j]);
  return loadu(a);
}
inline float jit_expm1(float v) { return __builtin_expm1f(v); }
inline float jit_log1p(float v) { return __builtin_log1pf(v); }
inline float jit_log2(float v) { return __builtin_log2f(v); }
inline float jit_log10(float v) { return __builtin_log10f(v); }
inline float jit_sin(float v) { return __builtin_sinf(v); }
inline float jit_cos(float v) { return __builtin_cosf(v); }
inline float jit_erf(float v) { return __builtin_erff(v); }
inline float jit_pow(float a, float b) { return __builtin_powf(a, b); }

// --- inputs and outputs
// One broadcast value of each input format.
inline float jit_scalar_f32(const void* p) { return *static_cast<const float*>(p); }
inline float jit_scalar_f16(const void* p) { return _cvtsh_ss(*static_cast<const uint16_t*>(p)); }
inline float jit_scalar_bf16(const void* p) {
  uint32_t u = uint32_t(*static_cast<const uint16_t*>(p)) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline float jit_scalar_bool(const void* p) { return *static_cast<const uint8_t*>(p) ? 1.f : 0.f; }

// `count` <= W bools as 0 or 1.
inline vf jit_load_bool(const uint8_t* p, int64_t count) {
  if (count == W) return jit_load_bool8(p);
  uint8_t tmp[16] = {};
  for (int64_t j = 0; j < count; ++j) tmp[j] = p[j];
  return jit_load_bool8(tmp);
}

// Float32 output: streamed past the cache (NT: whole, aligned vectors), or
// stored.
template <bool NT>
inline void jit_put_f32(float* p, vf v, int64_t count) {
  if constexpr (NT) {
    stream(p, v);
  } else {
    F32::store(p, v, count);
  }
}

// Whether a call over `n` elements streams its float32 outputs (as the
// table kernels decide per call), given every one is vector-aligned at the
// first element.
inline bool jit_streams(int64_t n, bool aligned) { return aligned && n * int64_t(sizeof(float)) >= kStreamBytes; }
inline bool jit_aligned(const float* p) { return reinterpret_cast<uintptr_t>(p) % (W * sizeof(float)) == 0; }

}  // namespace
}  // namespace uma::cpu::simd::UMA_SIMD_NS
