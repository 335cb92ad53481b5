// Quantization ops with MLX's names, arguments and layout (mlx/ops.h):
//
//   auto [wq, scales, biases] = quantize(w, 64, 4);        // affine, 4-bit, groups of 64
//   array w2 = dequantize(wq, scales, biases, 64, 4);       // ~ w
//   array y = quantized_matmul(x, wq, scales, biases);      // ~ x @ w.T
//
// Affine mode: each run of `group_size` (32, 64, 128) elements along the last
// axis gets a scale s and bias b, and each element the code
// q = rint((w - b) / s) in [0, 2^bits - 1] (bits 2, 3, 4, 5, 6, 8), so
// w ~ s * q + b. Codes are packed as an LSB-first bit stream into little-endian
// uint32 words (3-, 5- and 6-bit codes cross word boundaries), so a row of K
// elements takes K * bits / 32 words. Results equal MLX's (846d176, CPU) bit
// for bit: codes come from the float32 scale and bias, which are then stored
// rounded to w's dtype; the group's edge value (the one of largest magnitude)
// snaps exactly to code 0 (so it dequantizes to itself), and zero sits on a
// code in exact arithmetic (the scale is adjusted to make edge / scale whole).
//
// Modes mxfp4, nvfp4 and mxfp8 are recognized and refused ("not supported
// yet"); MLX's optional global_scale (nvfp4 only) is therefore not taken.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma {

// {wq (..., K * bits / 32) uint32, scales (..., K / group_size), biases (same)}
// for w (..., K) of float32, float16 or bfloat16 with at least 2 dims.
// group_size and bits default to the mode's (affine: 64 and 4).
std::vector<array> quantize(const array& w, std::optional<int> group_size = std::nullopt,
                            std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                            StreamOrDevice s = {});

// The matrix quantize() packed: (..., G * group_size) of `dtype`, by default
// the scales' and biases' promoted dtype.
array dequantize(const array& w, const array& scales, const std::optional<array>& biases = std::nullopt,
                 std::optional<int> group_size = std::nullopt, std::optional<int> bits = std::nullopt,
                 const std::string& mode = "affine", std::optional<Dtype> dtype = std::nullopt,
                 StreamOrDevice s = {});

// x @ dequantize(w).T (transpose, the Linear layout: w packs (N, K)) or
// x @ dequantize(w) (w packs (K, N)), without forming the float matrix.
// Computed in float32 and rounded once to the result dtype (x's promoted with
// the scales'); see backend/cpu/quantized.cpp for the error bound against
// matmul(x, dequantize(w)).
array quantized_matmul(const array& x, const array& w, const array& scales,
                       const std::optional<array>& biases = std::nullopt, bool transpose = true,
                       std::optional<int> group_size = std::nullopt, std::optional<int> bits = std::nullopt,
                       const std::string& mode = "affine", StreamOrDevice s = {});

// How quantized_matmul multiplies on the CPU (a process-wide setting):
//   int8     the default, as llama.cpp: for x @ W.T with 4- or 8-bit W, x is
//            rounded per group to int8 for 4-bit W (dx = max|x| / 127) or
//            int16 for 8-bit W (dx = max|x| / 32767) and each group's dot
//            product is exact in integers; the result is within
//            sum_g |s_g| (dx_g / 2) sum_k q_k of the exact product, plus
//            float32 rounding (backend/cpu/quantized_matmul.cpp). Other
//            widths and layouts compute as float32.
//   float32  every product in float32 from the float x (MLX's arithmetic, the
//            bound above without the rounding of x), 2-4x slower at decode.
// It applies to the products evaluated while it is set (arrays are lazy).
// UMA_QMM_PRECISION=float32 (or int8) sets it at startup.
enum class QuantizedMatmulPrecision : uint8_t { int8, float32 };
void set_quantized_matmul_precision(QuantizedMatmulPrecision p);
QuantizedMatmulPrecision quantized_matmul_precision();

}  // namespace uma
