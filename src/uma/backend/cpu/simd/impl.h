// The SIMD kernels, written once over the vector layer (vec.h) and the math
// (math.h) and compiled per ISA: included only by kernels_avx2.cpp and
// kernels_avx512.cpp. Everything sits in an ISA-named namespace with internal
// linkage, so the AVX-512 copy can never be picked by the linker for code
// that runs on an AVX2 machine.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "uma/backend/cpu/simd/kernels.h"
#include "uma/backend/cpu/simd/math.h"
#include "uma/backend/cpu/simd/ops.h"

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

// ------------------------------------------------------------ loops
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

// ------------------------------------------------------------ softmax rows
inline int64_t lanes_left(int64_t n, int64_t i) { return n - i < W ? n - i : W; }

// Max of n >= 1 elements as float32; NaN if any is NaN.
template <typename Fmt>
float max_row(const typename Fmt::T* x, int64_t n) {
  const vf ninf = set1(-__builtin_inff());
  vf m0 = ninf, m1 = ninf;
  vm nan = lt(ninf, ninf);  // no lane set
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    vf a = Fmt::load(x + i, W), b = Fmt::load(x + i + W, W);
    m0 = vmax(m0, a);
    m1 = vmax(m1, b);
    nan = mask_or(nan, unord(a, b));  // vmax drops NaN operands: tracked apart
  }
  for (; i < n; i += W) {
    int64_t c = lanes_left(n, i);
    vf a = select(first_lanes(c), Fmt::load(x + i, c), ninf);
    m0 = vmax(m0, a);
    nan = mask_or(nan, unord(a, a));
  }
  if (any(nan)) return __builtin_nanf("");
  return hmax(vmax(m0, m1));
}

// e[j] = exp(x[j] - m) for j < n (e may be null), by exp_v as the
// elementwise exp computes it; returns the sum of e (float32 lanes, then
// float64).
template <typename Fmt>
double exp_shift_sum(const typename Fmt::T* x, float m, float* e, int64_t n) {
  const vf vm_ = set1(m);
  vf s0 = set1(0.0f), s1 = s0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    vf e0 = exp_v(Fmt::load(x + i, W) - vm_);
    vf e1 = exp_v(Fmt::load(x + i + W, W) - vm_);
    if (e) {
      storeu(e + i, e0);
      storeu(e + i + W, e1);
    }
    s0 = s0 + e0;
    s1 = s1 + e1;
  }
  for (; i < n; i += W) {
    int64_t c = lanes_left(n, i);
    vf e0 = exp_v(Fmt::load(x + i, c) - vm_);
    if (c < W) e0 = select(first_lanes(c), e0, set1(0.0f));
    if (e) F32::store(e + i, e0, c);
    s0 = s0 + e0;
  }
  return double(hsum(s0 + s1));
}

// y = softmax(x) over n >= 1 elements: exp(x - max) / sum. `scratch` holds n
// float32 for the half formats (float32 rows work in y).
template <typename Fmt>
void softmax_row(const void* xv, void* yv, int64_t n, float* scratch) {
  auto x = static_cast<const typename Fmt::T*>(xv);
  auto y = static_cast<typename Fmt::T*>(yv);
  float* e = scratch;
  if constexpr (std::is_same_v<Fmt, F32>) e = y;
  float m = max_row<Fmt>(x, n);
  vf inv = set1(float(1.0 / exp_shift_sum<Fmt>(x, m, e, n)));
  for (int64_t i = 0; i < n; i += W) {
    int64_t c = lanes_left(n, i);
    Fmt::store(y + i, F32::load(e + i, c) * inv, c);
  }
}

// log(sum(exp(x))) of n elements: -inf for n = 0; NaN, +inf and all--inf
// rows give their max.
template <typename Fmt>
double logsumexp_row(const void* xv, int64_t n) {
  auto x = static_cast<const typename Fmt::T*>(xv);
  if (n == 0) return -__builtin_inf();
  float m = max_row<Fmt>(x, n);
  if (__builtin_isnan(m) || __builtin_isinf(m)) return m;
  return double(m) + std::log(exp_shift_sum<Fmt>(x, m, nullptr, n));
}

double exp_shift_sum_f32(const float* x, float m, float* e, int64_t n) { return exp_shift_sum<F32>(x, m, e, n); }

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
    {softmax_row<F32>, softmax_row<F16>, softmax_row<BF16>},
    {logsumexp_row<F32>, logsumexp_row<F16>, logsumexp_row<BF16>},
    exp_shift_sum_f32,
};
#undef UMA_UNARY3
#undef UMA_BINARY3

}  // namespace

const Kernels& table() { return kTable; }

}  // namespace uma::cpu::simd::UMA_SIMD_NS
