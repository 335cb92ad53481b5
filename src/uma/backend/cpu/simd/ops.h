// The lane-wise pieces of the elementwise kernels, written once against the
// vector layer (vec.h): element formats (load and store up to W elements as
// float32) and the binary arithmetic. Shared by the table kernels (impl.h)
// and by the kernels compile() generates at run time (jit_prelude.h), so a
// fused step computes exactly what the unfused kernel computes.
#pragma once

#include <cstdint>

#include "uma/backend/cpu/simd/vec.h"

namespace uma::cpu::simd::UMA_SIMD_NS {
namespace {

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

// --- binary arithmetic (maximum and minimum propagate a NaN operand).
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

}  // namespace
}  // namespace uma::cpu::simd::UMA_SIMD_NS
