// Vectorized kernels of the elementwise family for float32, float16 and
// bfloat16, built twice: for the x86-64-v3 baseline (AVX2/FMA/F16C,
// kernels_avx2.cpp) and for AVX-512 (kernels_avx512.cpp). kernels() picks the
// table this CPU runs. Half formats are converted to float32 in registers
// (8 or 16 lanes at a time), computed, and stored back rounded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uma::cpu::simd {

// Which binary operands are vectors: vv, scalar-vector (a is one value),
// vector-scalar (b is one value).
enum class Mode : int { vv, sv, vs };

// Element formats of the kernels; the half formats compute in float32 and
// store rounded to nearest even.
enum Format : int { f32 = 0, f16 = 1, bf16 = 2 };
inline constexpr int num_formats = 3;

// Pointers to elements of the kernel's format.
using UnaryFn = void (*)(const void* x, void* y, int64_t n);
using BinaryFn = void (*)(const void* a, const void* b, void* y, int64_t n, Mode mode);
using ToF32 = void (*)(const uint16_t* x, float* y, int64_t n);
using FromF32 = void (*)(const float* x, uint16_t* y, int64_t n);
// Rows of n >= 1 contiguous elements; scratch: n float32 (half formats only).
using SoftmaxRowFn = void (*)(const void* x, void* y, int64_t n, float* scratch);
using LogSumExpRowFn = double (*)(const void* x, int64_t n);
using ExpShiftSumFn = double (*)(const float* x, float m, float* e, int64_t n);

// Each kernel array is indexed by Format.
struct Kernels {
  const char* isa;
  // ~1-2 ulp polynomial approximations; exact special values (inf, nan, -0).
  // exp: see exp_v in math.h (results below FLT_MIN flush to +0).
  UnaryFn exp[num_formats], log[num_formats], tanh[num_formats], sigmoid[num_formats];
  BinaryFn add[num_formats], subtract[num_formats], multiply[num_formats], divide[num_formats];
  BinaryFn maximum[num_formats], minimum[num_formats];  // NaN propagates
  ToF32 f16_to_f32, bf16_to_f32;
  FromF32 f32_to_f16, f32_to_bf16;
  // Softmax and LogSumExp over one row, computed in float32 with the same exp
  // as `exp` (exp(x - max), then a float64 sum of float32 lane sums): the
  // exponentials agree bit for bit with exp[f32] of the float32 x - max.
  SoftmaxRowFn softmax_row[num_formats];
  LogSumExpRowFn logsumexp_row[num_formats];
  // e[j] = exp(x[j] - m) for j < n (e may be null); returns their sum. The
  // step both rows are built on, for tests.
  ExpShiftSumFn exp_shift_sum_f32;
};

// The best table for this CPU (AVX-512 unless absent or UMA_DISABLE_AVX512=1).
const Kernels& kernels();
const Kernels& avx2_kernels();
// nullptr where the CPU lacks AVX-512 (tests compare both tables).
const Kernels* avx512_kernels();

}  // namespace uma::cpu::simd
