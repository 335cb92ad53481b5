// Vectorized float32 kernels of the elementwise family, built twice: for the
// x86-64-v3 baseline (AVX2/FMA/F16C, kernels_avx2.cpp) and for AVX-512
// (kernels_avx512.cpp). kernels() picks the table this CPU runs. Half types
// (float16, bfloat16) are converted to float32 in blocks, computed, and
// stored back rounded to nearest even.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uma::cpu::simd {

// Which binary operands are vectors: vv, scalar-vector (a is one value),
// vector-scalar (b is one value).
enum class Mode : int { vv, sv, vs };

using UnaryF32 = void (*)(const float* x, float* y, int64_t n);
using BinaryF32 = void (*)(const float* a, const float* b, float* y, int64_t n, Mode mode);
using ToF32 = void (*)(const uint16_t* x, float* y, int64_t n);
using FromF32 = void (*)(const float* x, uint16_t* y, int64_t n);

struct Kernels {
  const char* isa;
  // ~1-2 ulp polynomial approximations; exact special values (inf, nan, -0).
  UnaryF32 exp, log, tanh, sigmoid;
  BinaryF32 add, subtract, multiply, divide, maximum, minimum;  // max/min propagate NaN
  ToF32 f16_to_f32, bf16_to_f32;
  FromF32 f32_to_f16, f32_to_bf16;
};

// The best table for this CPU (AVX-512 unless absent or UMA_DISABLE_AVX512=1).
const Kernels& kernels();
const Kernels& avx2_kernels();
// nullptr where the CPU lacks AVX-512 (tests compare both tables).
const Kernels* avx512_kernels();

}  // namespace uma::cpu::simd
