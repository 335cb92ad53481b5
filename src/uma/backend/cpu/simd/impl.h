// The SIMD kernels, written once over a thin vector layer and compiled per
// ISA: included only by kernels_avx2.cpp and kernels_avx512.cpp. Everything
// sits in an ISA-named namespace with internal linkage, so the AVX-512 copy
// can never be picked by the linker for code that runs on an AVX2 machine.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "uma/backend/cpu/simd/kernels.h"

#if defined(__AVX512F__)
#define UMA_SIMD_NS avx512
#else
#define UMA_SIMD_NS avx2
#endif

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

// ------------------------------------------------------------ vector layer
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
#endif

inline vf vabs(vf x) { return as_f(band(as_i(x), set1i(0x7fffffff))); }
inline vf sign_of(vf x) { return as_f(band(as_i(x), set1i(int32_t(0x80000000u)))); }

// bfloat16 <-> float32: the upper half of the bits, rounded to nearest even;
// NaN stays a (quiet) NaN.
inline vf load_bf16(const uint16_t* p) { return as_f(shl<16>(load_u16(p))); }
inline void store_bf16(uint16_t* p, vf v) {
  vi u = as_i(v);
  vi rounded = add(add(u, set1i(0x7fff)), band(shr<16>(u), set1i(1)));
  vi quiet = bor(u, set1i(0x400000));
  vi abs_u = band(u, set1i(0x7fffffff));
  vi bits = gt_select(abs_u, set1i(0x7f800000), quiet, rounded);
  store_u16(p, shr<16>(bits));
}

// ------------------------------------------------------------ math
// Cephes expf: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial,
// then 2^n applied in two steps so subnormal results round only once.
inline vf exp_v(vf x) {
  x = vmax(set1(-104.0f), vmin(set1(88.8f), x));  // NaN passes through (second operand)
  vf n = round_even(x * set1(1.44269504088896341f));
  vf r = fmadd(n, set1(-0.693359375f), x);
  r = fmadd(n, set1(2.12194440e-4f), r);
  vf p = set1(1.9875691500e-4f);
  p = fmadd(p, r, set1(1.3981999507e-3f));
  p = fmadd(p, r, set1(8.3334519073e-3f));
  p = fmadd(p, r, set1(4.1665795894e-2f));
  p = fmadd(p, r, set1(1.6666665459e-1f));
  p = fmadd(p, r, set1(5.0000001201e-1f));
  vf y = fmadd(p, r * r, r) + set1(1.0f);
  vi ni = to_int(n);
  vi n1 = sar<1>(ni);
  vi n2 = sub(ni, n1);
  vf s1 = as_f(shl<23>(add(n1, set1i(127))));
  vf s2 = as_f(shl<23>(add(n2, set1i(127))));
  return y * s1 * s2;
}

// Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a
// degree-9 polynomial in m - 1.
inline vf log_v(vf x0) {
  vm sub_normal = lt(x0, set1(1.17549435e-38f));
  vf x = select(sub_normal, x0 * set1(8388608.0f), x0);  // 2^23
  vi xi = as_i(x);
  vf e = to_float(sub(shr<23>(xi), set1i(126))) - select(sub_normal, set1(23.0f), set1(0.0f));
  vf m = as_f(bor(band(xi, set1i(0x007fffff)), set1i(0x3f000000)));  // [0.5, 1)
  vm small = lt(m, set1(0.707106781186547524f));
  e = e - select(small, set1(1.0f), set1(0.0f));
  m = select(small, m + m, m) - set1(1.0f);
  vf z = m * m;
  vf p = set1(7.0376836292e-2f);
  p = fmadd(p, m, set1(-1.1514610310e-1f));
  p = fmadd(p, m, set1(1.1676998740e-1f));
  p = fmadd(p, m, set1(-1.2420140846e-1f));
  p = fmadd(p, m, set1(1.4249322787e-1f));
  p = fmadd(p, m, set1(-1.6668057665e-1f));
  p = fmadd(p, m, set1(2.0000714765e-1f));
  p = fmadd(p, m, set1(-2.4999993993e-1f));
  p = fmadd(p, m, set1(3.3333331174e-1f));
  vf y = p * m * z;
  y = fmadd(e, set1(-2.12194440e-4f), y);
  y = fmadd(z, set1(-0.5f), y);
  vf r = fmadd(e, set1(0.693359375f), m + y);
  const vf inf = set1(__builtin_inff());
  r = select(eq(x0, inf), inf, r);
  r = select(eq(x0, set1(0.0f)), set1(-__builtin_inff()), r);
  r = select(lt(x0, set1(0.0f)), set1(__builtin_nanf("")), r);
  return select(isnan(x0), x0, r);
}

// Cephes tanhf: an odd polynomial below 0.625, 1 - 2 / (e^{2|x|} + 1) above.
inline vf tanh_v(vf x) {
  vf z = x * x;
  vf p = set1(-5.70498872745e-3f);
  p = fmadd(p, z, set1(2.06390887954e-2f));
  p = fmadd(p, z, set1(-5.37397155531e-2f));
  p = fmadd(p, z, set1(1.33314422036e-1f));
  p = fmadd(p, z, set1(-3.33332819422e-1f));
  vf small = fmadd(p * z, x, x);
  small = as_f(bor(as_i(vabs(small)), as_i(sign_of(x))));  // tanh(-0) = -0
  vf ax = vabs(x);
  vf e = exp_v(ax + ax);
  vf large = set1(1.0f) - set1(2.0f) / (e + set1(1.0f));
  large = as_f(bor(as_i(large), as_i(sign_of(x))));
  return select(lt(ax, set1(0.625f)), small, large);
}

// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below: no overflow, and tiny
// results keep their precision.
inline vf sigmoid_v(vf x) {
  vf e = exp_v(set1(0.0f) - vabs(x));
  vf r = set1(1.0f) / (set1(1.0f) + e);
  return select(ge(x, set1(0.0f)), r, e * r);
}

// ------------------------------------------------------------ loops
// Outputs this large (per call, i.e. per thread) will not be read from cache
// again: stream them past it, saving the read-for-ownership of each line.
constexpr int64_t kStreamBytes = int64_t(4) << 20;

inline vf load_n(const float* p, int64_t count) { return count == W ? loadu(p) : load_part(p, count); }

// --- element formats: load `count` <= W elements as float32, store back.
struct F32 {
  using T = float;
  static constexpr bool streams = true;
  static vf load(const float* p, int64_t count) { return load_n(p, count); }
  static void store(float* p, vf v, int64_t count) { count == W ? storeu(p, v) : store_part(p, v, count); }
};

template <vf (*Load)(const uint16_t*), void (*Store)(uint16_t*, vf)>
struct Half {
  using T = uint16_t;
  static constexpr bool streams = false;
  static vf load(const uint16_t* p, int64_t count) {
    if (count == W) return Load(p);
    uint16_t tmp[W] = {};
    for (int64_t j = 0; j < count; ++j) tmp[j] = p[j];
    return Load(tmp);
  }
  static void store(uint16_t* p, vf v, int64_t count) {
    if (count == W) return Store(p, v);
    uint16_t tmp[W];
    Store(tmp, v);
    for (int64_t j = 0; j < count; ++j) p[j] = tmp[j];
  }
};
using F16 = Half<load_f16, store_f16>;
using BF16 = Half<load_bf16, store_bf16>;

// y[i, i + count) = f(i, count) over [0, n), count <= W.
template <typename Fmt, typename F>
inline void store_loop(typename Fmt::T* y, int64_t n, F f) {
  int64_t i = 0;
  if (Fmt::streams && n * int64_t(sizeof(float)) >= kStreamBytes) {
    int64_t misalign = int64_t(reinterpret_cast<uintptr_t>(y) % (W * sizeof(float))) / int64_t(sizeof(float));
    if (misalign) {
      i = W - misalign;
      Fmt::store(y, f(0, i), i);
    }
    for (; i + W <= n; i += W) stream(reinterpret_cast<float*>(y + i), f(i, W));
    _mm_sfence();
  } else {
    for (; i + W <= n; i += W) Fmt::store(y + i, f(i, W), W);
  }
  if (i < n) Fmt::store(y + i, f(i, n - i), n - i);
}

template <typename Fmt, vf (*F)(vf)>
void unary_kernel(const void* xv, void* yv, int64_t n) {
  auto x = static_cast<const typename Fmt::T*>(xv);
  store_loop<Fmt>(static_cast<typename Fmt::T*>(yv), n,
                  [&](int64_t i, int64_t c) { return F(Fmt::load(x + i, c)); });
}

template <typename Fmt, typename F>
void binary_kernel(const void* av, const void* bv, void* yv, int64_t n, Mode mode) {
  auto a = static_cast<const typename Fmt::T*>(av);
  auto b = static_cast<const typename Fmt::T*>(bv);
  auto y = static_cast<typename Fmt::T*>(yv);
  F f;
  if (mode == Mode::vv) {
    store_loop<Fmt>(y, n, [&](int64_t i, int64_t c) { return f(Fmt::load(a + i, c), Fmt::load(b + i, c)); });
  } else if (mode == Mode::sv) {
    vf s = set1(first(Fmt::load(a, 1)));
    store_loop<Fmt>(y, n, [&](int64_t i, int64_t c) { return f(s, Fmt::load(b + i, c)); });
  } else {
    vf s = set1(first(Fmt::load(b, 1)));
    store_loop<Fmt>(y, n, [&](int64_t i, int64_t c) { return f(Fmt::load(a + i, c), s); });
  }
}

#define UMA_SIMD_BINARY(NAME, EXPR) \
  struct NAME {                     \
    vf operator()(vf p, vf q) const { return EXPR; } \
  };
UMA_SIMD_BINARY(AddV, p + q)
UMA_SIMD_BINARY(SubtractV, p - q)
UMA_SIMD_BINARY(MultiplyV, p * q)
UMA_SIMD_BINARY(DivideV, p / q)
UMA_SIMD_BINARY(MaximumV, select(isnan(p), p, vmax(p, q)))
UMA_SIMD_BINARY(MinimumV, select(isnan(p), p, vmin(p, q)))
#undef UMA_SIMD_BINARY

// Half conversions: whole vectors, then the tail through a zero-padded block.
template <vf (*Load)(const uint16_t*)>
void to_f32(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) storeu(y + i, Load(x + i));
  if (i < n) {
    uint16_t tmp[W] = {};
    for (int64_t j = 0; j < n - i; ++j) tmp[j] = x[i + j];
    store_part(y + i, Load(tmp), n - i);
  }
}

template <void (*Store)(uint16_t*, vf)>
void from_f32(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) Store(y + i, loadu(x + i));
  if (i < n) {
    uint16_t tmp[W];
    Store(tmp, load_part(x + i, n - i));
    for (int64_t j = 0; j < n - i; ++j) y[i + j] = tmp[j];
  }
}

#define UMA_UNARY3(F) {unary_kernel<F32, F>, unary_kernel<F16, F>, unary_kernel<BF16, F>}
#define UMA_BINARY3(F) {binary_kernel<F32, F>, binary_kernel<F16, F>, binary_kernel<BF16, F>}
constexpr Kernels kTable = {
#if defined(__AVX512F__)
    "avx512",
#else
    "avx2",
#endif
    UMA_UNARY3(exp_v),        UMA_UNARY3(log_v),           UMA_UNARY3(tanh_v),     UMA_UNARY3(sigmoid_v),
    UMA_BINARY3(AddV),        UMA_BINARY3(SubtractV),      UMA_BINARY3(MultiplyV), UMA_BINARY3(DivideV),
    UMA_BINARY3(MaximumV),    UMA_BINARY3(MinimumV),       to_f32<load_f16>,       to_f32<load_bf16>,
    from_f32<store_f16>,      from_f32<store_bf16>,
};
#undef UMA_UNARY3
#undef UMA_BINARY3

}  // namespace

const Kernels& table() { return kTable; }

}  // namespace uma::cpu::simd::UMA_SIMD_NS
