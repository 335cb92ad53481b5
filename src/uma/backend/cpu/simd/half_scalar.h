// Scalar bfloat16 / float16 <-> float32 and the scalar C update of the
// half-precision row kernels, shared by gemm_rows_avx2.cpp and
// gemm_rows_avx512.cpp. Everything has internal linkage (an unnamed
// namespace, as in impl.h): each ISA's file compiles its own copy, so the
// linker can never hand an AVX-512-compiled copy to code on an AVX2 machine.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "uma/backend/cpu/gemm.h"

namespace uma::cpu {
namespace {

inline float bf16_to_f(uint16_t v) {
  uint32_t u = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t f_to_bf16(float f) {  // round to nearest even, NaN stays NaN
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

template <bool BF16>
inline float to_f(uint16_t v) {
  if constexpr (BF16) {
    return bf16_to_f(v);
  } else {
    return _cvtsh_ss(v);
  }
}

template <bool BF16>
inline uint16_t from_f(float f) {
  if constexpr (BF16) {
    return f_to_bf16(f);
  } else {
    return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
  }
}

// C[m, n] = alpha * acc + beta * C[m, n].
template <bool BF16>
inline void store_one(const RowKernelArgs& r, int64_t m, int64_t n, float acc) {
  uint16_t* c = r.c + m * r.ldc + n;
  float v = r.alpha * acc;
  if (r.beta != 0.f) v += r.beta * to_f<BF16>(*c);
  *c = from_f<BF16>(v);
}

}  // namespace
}  // namespace uma::cpu
