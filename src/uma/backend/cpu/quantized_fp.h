// The CPU kernels of the floating-point quantization modes (mxfp4, nvfp4,
// mxfp8; see core/ops/quantized.h), bit-exact with MLX 846d176's CPU build,
// and the rounding helper they share with the affine kernels.
#pragma once

#include <cstdint>
#include <type_traits>

#include "uma/core/array.h"
#include "uma/core/primitives/quantized.h"

namespace uma::cpu {

// x rounded to the precision of P, as one operation of MLX's CPU ops in P
// computes it (in float32, then rounded). For float32 the asm keeps x a
// separately rounded value: with -ffp-contract=fast (GCC's default) a
// following add would otherwise fuse into an FMA, which MLX's separate
// multiply and add kernels never do.
template <typename P>
inline float round_to(float x) {
  if constexpr (std::is_same_v<P, float>) {
    __asm__("" : "+x"(x));
    return x;
  } else {
    return static_cast<float>(static_cast<P>(x));
  }
}

// E4M3FN (the OCP FP8 with no infinities): round half to even; |x| >= 448,
// infinities and NaN saturate to 448 (0x7E), the sign bit kept.
uint8_t fp8_e4m3_from_float(float x);
// The value of an E4M3 byte; 0x7F / 0xFF read as +-480 (as MLX's from_fp8).
float fp8_e4m3_to_float(uint8_t b);

// quantize in an fp mode: w (rows, K) row-major float -> wq (rows, K * bits
// / 32) uint32 and scales (rows, K / group_size) uint8, allocated here.
// global_scale (nvfp4 only) may be null.
void fp_quantize(const array& w, const array* global_scale, int group_size, QuantizationMode mode,
                 array& wq, array& scales);

// dequantize in an fp mode: wq and uint8 scales row-major -> out (its dtype
// is the output dtype), allocated here.
void fp_dequantize(const array& wq, const array& scales, const array* global_scale, int group_size,
                   QuantizationMode mode, array& out);

// One product of quantized_matmul in an fp mode, in float32: y (M, N) =
// x (M, K) @ W.T (transpose, W packed (N, K)) or x @ W (W packed (K, N)).
// Each group's scale is first rounded to `compute_dtype` (x's), as MLX's
// kernel converts it.
struct FpQmm {
  int64_t M, N, K;
  int group_size;
  QuantizationMode mode;
  bool transpose;
  Dtype compute_dtype;
  const float* x;
  const uint32_t* w;
  const uint8_t* scales;
  float* y;
};
void qmm_fp(const FpQmm& p);

}  // namespace uma::cpu
