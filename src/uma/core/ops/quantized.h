// Quantization ops with MLX's names, arguments and layout (mlx/ops.h):
//
//   auto [wq, scales, biases] = quantize(w, 64, 4);        // affine, 4-bit, groups of 64
//   array w2 = dequantize(wq, scales, biases, 64, 4);       // ~ w
//   array y = quantized_matmul(x, wq, scales, biases);      // ~ x @ w.T
//   auto q = quantize(w, 32, 4, "mxfp4");                   // {wq, uint8 scales}
//   array y = gather_qmm(x, wq, s, b, std::nullopt, experts); // x @ w[experts].T
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
// Floating-point modes (no biases; one uint8 scale per group; w ~ scale * v):
//   mxfp4  group 32, bits 4: v an E2M1 value (0, .5, 1, 1.5, 2, 3, 4, 6 and
//          negatives; the code is its index, sign in bit 3), 8 per word with
//          code k at bits 4k; scale 2^(byte - 127) (E8M0).
//   nvfp4  group 16, bits 4: E2M1 codes as mxfp4; scale an E4M3 byte, times
//          global_scale / (448 * 6) when a float32 global_scale is given.
//   mxfp8  group 32, bits 8: v an E4M3FN byte (4 per word, little-endian),
//          |v| <= 448; E8M0 scale.
// Also bit-exact with MLX's CPU build, whose rules are not the OCP MX ones:
// the mx exponent is rint(log2(max|w| / maxval)) (maxval 6 or 448) computed
// step by step in w's dtype, so bfloat16 weights can get another exponent
// than the same values in float32; E2M1 codes are the nearest LUT value with
// ties to the smaller magnitude (2.5 -> 2, 5 -> 4) and anything that rounds
// to zero as +0 (code 0); E4M3 rounds half to even and saturates at 448.
// tests/fixtures/quantization/README.md has the full semantics. NaN and
// infinite weights are not checked (MLX's result is undefined there).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "uma/core/array.h"
#include "uma/core/device.h"

namespace uma::io::gguf {
struct TypeTraits;
}

namespace uma {

// Affine: {wq (..., K * bits / 32) uint32, scales (..., K / group_size),
// biases (same)} in w's dtype. fp modes: {wq, scales (..., K / group_size)
// uint8}. w (..., K) is float32, float16 or bfloat16 with at least 2 dims;
// group_size and bits default to the mode's (affine 64/4, mxfp4 32/4, nvfp4
// 16/4, mxfp8 32/8) and the fp modes take only those. global_scale (nvfp4
// only, a float32 scalar) divides 448 * 6 into the scale encoding.
std::vector<array> quantize(const array& w, std::optional<int> group_size = std::nullopt,
                            std::optional<int> bits = std::nullopt,
                            const std::string& mode = "affine",
                            const std::optional<array>& global_scale = std::nullopt,
                            StreamOrDevice s = {});

// The matrix quantize() packed: (..., G * group_size) of `dtype`; by default
// the scales' and biases' promoted dtype (affine) or bfloat16 (fp modes, as
// MLX). The fp modes take no biases and uint8 scales; global_scale is
// nvfp4's, the one quantize() was given.
array dequantize(const array& w, const array& scales,
                 const std::optional<array>& biases = std::nullopt,
                 std::optional<int> group_size = std::nullopt,
                 std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                 const std::optional<array>& global_scale = std::nullopt,
                 std::optional<Dtype> dtype = std::nullopt, StreamOrDevice s = {});

// x @ dequantize(w).T (transpose, the Linear layout: w packs (N, K)) or
// x @ dequantize(w) (w packs (K, N)), without forming the float matrix.
// Computed in float32 (for 4- and 8-bit affine x @ W.T with x rounded to
// integers per group unless the precision below is float32) and rounded
// once to the result dtype (affine: x's promoted with the scales' and
// biases'; fp modes: x's); see backend/cpu/quantized_matmul.cpp for the
// error bound against
// matmul(x, dequantize(w)). A w with batch dims (..., N, Kp) is broadcast
// with x's (..., M, K). nvfp4 here has no global scale (as in MLX).
array quantized_matmul(const array& x, const array& w, const array& scales,
                       const std::optional<array>& biases = std::nullopt, bool transpose = true,
                       std::optional<int> group_size = std::nullopt, std::optional<int> bits = std::nullopt,
                       const std::string& mode = "affine", StreamOrDevice s = {});

// quantized_matmul of gathered matrices, for mixture-of-experts layers:
// x (X..., M, K), w (E..., N, Kp) (transpose) or (E..., K, Np), scales and
// biases as quantized_matmul's, integer index arrays lhs_indices into the
// flattened X and rhs_indices into the flattened E (each defaults to every
// matrix in order, shaped X or E); the two broadcast to a shape I, and
//   out[i] = quantized_matmul(x[lhs[i]], w[rhs[i]], ...)    out: (I..., M, N).
// With neither index array this is quantized_matmul. An index outside
// [0, number of matrices) is an error when the result is computed (MLX's CPU
// kernel does not check and reads out of bounds; uma neither clamps nor
// wraps). sorted_indices is MLX's hint that the indices are sorted; the CPU
// kernel does not need it. Differentiable in x (vjp and jvp), as
// quantized_matmul.
array gather_qmm(const array& x, const array& w, const array& scales,
                 const std::optional<array>& biases = std::nullopt,
                 std::optional<array> lhs_indices = std::nullopt,
                 std::optional<array> rhs_indices = std::nullopt, bool transpose = true,
                 std::optional<int> group_size = std::nullopt,
                 std::optional<int> bits = std::nullopt, const std::string& mode = "affine",
                 bool sorted_indices = false, StreamOrDevice s = {});

// GGUF's block-quantized matrices as llama.cpp stores them, without
// converting them: w (N, Kb) uint8 holds, per row, the Kb bytes of the ggml
// blocks of K values of `type` (a ggml_type id, io::gguf::GgmlType: Q4_K,
// Q5_K and Q6_K, the K-quants of llama.cpp's Q4_K_M/Q5_K_M/Q6_K files).
//   gguf_matmul(x, w, type)       x (..., K) float -> x @ W.T, (..., N) in x's
//                                 dtype; on the CPU with x rounded to int8
//                                 per 256 values (as llama.cpp's Q8_K) and
//                                 integer dot products per block for up to
//                                 512 rows of x, from dequantized panels of W
//                                 for more
//   gguf_dequantize(w, type, dt)  (..., Kb) -> (..., K) of dt, value for value
//                                 llama.cpp's dequantize_row_* (then rounded)
// gguf_type_kernels(type) says which types these take.
bool gguf_type_kernels(uint32_t type);
array gguf_matmul(const array& x, const array& w, uint32_t type, StreamOrDevice s = {});
array gguf_dequantize(const array& w, uint32_t type, Dtype dtype = float32, StreamOrDevice s = {});

// Q4_0 and Q8_0 in uma's own layouts for the CPU kernels, which gguf_matmul
// and gguf_dequantize take like ggml types (never a file's): the rows in
// groups of eight, and per group and block j (at j * 8 * block bytes from
// the group's start) the eight rows' float16 d (16 bytes), then their codes
// as runs of 32 bytes, run c holding bytes 4c..4c+3 of each row's codes in
// row order (Q4_0: 4 runs of its 16 bytes of nibbles; Q8_0: 8 runs of its
// 32 int8). One load of a run gives eight rows' values (Q4_0: 4c..4c+3 in
// the low nibbles, 16+4c..16+4c+3 in the high ones), so decode takes one x
// broadcast per four values and no horizontal sums, and the eight scales
// convert in one instruction (llama.cpp and ik_llama.cpp repack these types
// for the same reason). The matrix keeps its (N, Kb) shape and size (N a
// multiple of 8; for gguf_dequantize, w.shape(-2)), but a row of the array
// is no longer a row of W: rows cannot be picked (take) from it.
inline constexpr uint32_t kGgufQ4_0x8 = 0x10000 | 2;
inline constexpr uint32_t kGgufQ8_0x8 = 0x10000 | 8;
// The interleaved id of a file type (Q4_0, Q8_0), or 0 for the others.
uint32_t gguf_interleaved(uint32_t type);
// The file type an interleaved id was made from (Q4_0, Q8_0); any other
// type itself. `gguf_stored_type(t) != t` says that t is interleaved.
uint32_t gguf_stored_type(uint32_t type);
// The name and block sizes of `type`, the interleaved ids included
// ("Q4_0x8": 32 values in 18 bytes, "Q8_0x8": in 34); nullptr for an
// unknown id.
const io::gguf::TypeTraits* gguf_traits(uint32_t type);
// Interleaves the rows [8 g0, 8 g1) of an N x Kb matrix of Q4_0 or Q8_0
// blocks (row(n) gives row n's Kb bytes) into `dst`, the matrix of all N
// rows in layout x8 (kGgufQ4_0x8 or kGgufQ8_0x8; groups outside [g0, g1)
// untouched: callers split the groups among threads).
void gguf_interleave_x8(uint32_t x8, const std::function<const uint8_t*(int64_t)>& row, int64_t row_bytes,
                        int64_t g0, int64_t g1, uint8_t* dst);

// How quantized_matmul multiplies on the CPU (a process-wide setting):
//   int8     the default, as llama.cpp: for x @ W.T with 4- or 8-bit W, x is
//            rounded per group to int8 for 4-bit W (dx = max|x| / 127) or
//            int16 for 8-bit W (dx = max|x| / 32767) and each group's dot
//            product is exact in integers; the result is within
//            sum_g |s_g| (dx_g / 2) sum_k q_k of the exact product, plus
//            float32 rounding (backend/cpu/quantized_matmul.cpp). Other
//            widths and layouts compute as float32. On AMX CPUs, products
//            with bfloat16 results and 32 or more rows of x (prefill) round
//            x and the dequantized W to bfloat16 for the AMX tiles instead:
//            within 2^-8 (sum_k |x_k w_k| + |y|) of the float32 product.
//   float32  every product in float32 from the float x (MLX's arithmetic, the
//            bound above without the rounding of x), 2-4x slower at decode.
// It applies to the products evaluated while it is set (arrays are lazy).
// UMA_QMM_PRECISION=float32 (or int8) sets it at startup.
enum class QuantizedMatmulPrecision : uint8_t { int8, float32 };
void set_quantized_matmul_precision(QuantizedMatmulPrecision p);
QuantizedMatmulPrecision quantized_matmul_precision();

// E4M3 (FN) bytes, as MLX's to_fp8 / from_fp8: to_fp8 rounds half to even,
// saturates at +-448 (0x7E/0xFE; infinities and NaN too, keeping the sign)
// and takes real floating x (float64 is rounded to float32 first).
// from_fp8 decodes uint8 bytes into the floating `dtype`; 0x7F/0xFF, NaN in
// the OCP format, decode to +-480 as in MLX. Both are composed of ops.
array to_fp8(const array& x, StreamOrDevice s = {});
array from_fp8(const array& x, Dtype dtype, StreamOrDevice s = {});

}  // namespace uma
