// The CPU side of the quantized family (MLX's affine layout): the bit-stream
// reader and writer, the quantized-matmul kernel paths, and the fast row
// kernels' entry points (simd/qmm_avx2.cpp).
//
// Layout: a row of K codes of `bits` bits is an LSB-first bit stream in
// little-endian uint32 words: code i occupies bits [i*bits, (i+1)*bits) of the
// stream, bit b of the stream is bit b % 32 of word b / 32. A group of 32, 64
// or 128 codes is always a whole number of words (32 * bits bits at least).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "uma/core/dtype.h"

namespace uma::cpu {

// Code i of the stream at `words` (bits <= 8).
inline uint32_t read_code(const uint32_t* words, int64_t i, int bits) {
  int64_t bit = i * bits;
  int64_t w = bit >> 5;
  int off = int(bit & 31);
  uint32_t v = words[w] >> off;
  if (off + bits > 32) v |= words[w + 1] << (32 - off);  // the code crosses into the next word
  return v & ((1u << bits) - 1u);
}

// Writes n codes (each < 2^bits) as a stream of n * bits / 32 whole words.
inline void write_codes(const uint32_t* codes, int64_t n, int bits, uint32_t* words) {
  uint64_t acc = 0;
  int filled = 0;
  for (int64_t i = 0; i < n; ++i) {
    acc |= uint64_t(codes[i]) << filled;
    filled += bits;
    if (filled >= 32) {
      *words++ = uint32_t(acc);
      acc >>= 32;
      filled -= 32;
    }
  }
}

// Which kernel computes quantized_matmul.
//   automatic   int8 for 4- and 8-bit x @ W.T (quantized_matmul_precision()
//               int8); else rows_avx2 for those with M <= kQmmRowsMaxM,
//               dequant_sgemm for more rows, the reference otherwise
//   reference   dequantize one row (or column block) of W to float32 at a time,
//               then dot products / axpys: every bits, group size and layout
//   rows_avx2   codes unpacked in registers, FMA against float32 x (4- and
//               8-bit, transpose)
//   dequant_sgemm  panels of W dequantized to float32, then OpenBLAS sgemm (transpose)
//   int8        x quantized to int8 per group, integer dot products per group
//               (4- and 8-bit, transpose; the error bound is in quantized_matmul.cpp)
//   dequant_amx panels of W dequantized to bfloat16, x rounded to bfloat16,
//               AMX tiles (gemm_half); automatic takes it on AMX CPUs for
//               bfloat16 results from kQmmAmxMinM rows of x (x @ W.T)
enum class QmmPath : uint8_t { automatic, reference, rows_avx2, dequant_sgemm, int8, dequant_amx };
// Rows of x from which AMX CPUs dequantize to bfloat16 tiles instead.
inline constexpr int64_t kQmmAmxMinM = 32;
// y (M, N float32) = x (M, K float32) @ W.T on AMX tiles, W given as panels:
// decode(n0, nb, out) writes rows [n0, n0 + nb) of W to out (nb x K
// bfloat16; it may use the pool). x is rounded to bfloat16 once and each
// panel's result once, as the bfloat16 model's own matmuls round. Shared by
// quantized_matmul's dequant_amx path and gguf_matmul's.
void amx_bf16_panels(const float* x, int64_t M, int64_t N, int64_t K, float* y,
                     const std::function<void(int64_t n0, int64_t nb, bfloat16_t* out)>& decode);
// Forces a path for every later quantized_matmul (tests, benchmarks); a path
// that cannot run the problem falls back to the reference.
void set_qmm_path(QmmPath p);
QmmPath qmm_path();
// Rows of x at or below which the automatic choice is rows_avx2.
inline constexpr int64_t kQmmRowsMaxM = 6;

// One call of the row kernel: y[m * ldy + n] for m < M and n in [n0, n1), of
// x @ W.T with W (N, K) packed `bits` (4 or 8) in rows of K * bits / 32 words.
// x is float32 (M, K) in the kernel's order (qmm_prepare_x), xsum (M, G) its
// group sums; scales/biases (N, G) of format 0 float32, 1 float16, 2 bfloat16.
struct QmmRows {
  int bits, group_size;
  int64_t M, K;
  const float* x;
  const float* xsum;
  const uint32_t* w;
  const void* scales;
  const void* biases;
  int format;
  float* y;
  int64_t ldy;
};
void qmm_rows_avx2(const QmmRows& a, int64_t n0, int64_t n1);
// The order of x that qmm_rows_avx2 reads for `bits`: for 4-bit, each block of
// 64 is transposed as 8 x 8 (element 8j + i goes to 8i + j), so that shifting
// a vector of 8 words by 4i yields the codes that multiply one load of x; the
// last K % 64 elements (a block of 32) stay in order. 8-bit: x as it is.
void qmm_prepare_x(const float* x, int64_t K, int bits, float* out);

// The integer kernels: x @ W.T for 4- and 8-bit W (N, K) with x rounded per
// weight group to int8 (4-bit W: dx_g = max_{k in g} |x_k| / 127, xq_k =
// rint(x_k / dx_g)) or int16 (8-bit W: dx_g = max |x_k| / 32767), laid out in
// the kernel's order (qmm_int8_prepare_avx2); xsum the float32 group sums of
// x (the bias term is exact in x). y[m * ldy + n] for m < M and n in [n0, n1).
struct QmmInt8 {
  int bits, group_size;
  int64_t M, K;
  const int8_t* xq;    // (M, K), 4-bit W
  const int16_t* xw;   // (M, K), 8-bit W
  const float* dx;     // (M, G)
  const float* xsum;   // (M, G)
  const uint32_t* w;
  const void* scales;  // (N, G), format 0 float32, 1 float16, 2 bfloat16
  const void* biases;
  int format;
  float* y;
  int64_t ldy;
  // 0 (GGUF's F32, never a block type): W in MLX's layout, as above. Else W's
  // rows are GGUF blocks of this type (Q4_0, Q4_1, uma's Q4_0x8: bits 4;
  // Q8_0: bits 8; groups of 32, scales and biases unused) for the panel kernel of
  // qmm_int8_avx2 (from kQmmPanelMinM rows of x), which takes each block's
  // values as scale * code + bias (gguf_kernels.h has the layouts).
  uint32_t gguf_type = 0;
  // 8-bit W against x rounded to int8 (xq, per group as for 4-bit W) rather
  // than int16: GGUF Q8_0 on the VNNI panel kernel, llama.cpp's arithmetic.
  bool int8_x = false;
};
// One row of x (K floats, K a multiple of 32) to xq (4-bit) or xw (8-bit),
// dx and xsum: 4-bit codes in blocks of `block` (64 for AVX2's row kernel,
// 128 for VNNI; then halves for what is left) as the block's even elements,
// then its odd ones, or in order for block 0 (AVX2's panel kernel, used from
// kQmmPanelMinM rows of x); 8-bit in order.
void qmm_int8_prepare_avx2(const float* x, int64_t K, int bits, int group_size, int block, int8_t* xq, int16_t* xw,
                           float* dx, float* xsum);
// Rows of W (of `rows`) whose repacked panels a thread keeps across passes
// of x in prefill (qmm_panel_passes): all of them up to about 4 MiB.
// (Defined in baseline code: an inline copy in a tier's unit could be the
// one every caller links to.)
int64_t qmm_kept_rows(int64_t K, int group_size, int64_t rows);
// Floats of scratch one call of the kernels below needs (per thread): a
// tile's or a panel's, and room to keep the panels of qmm_kept_rows(K,
// group_size, rows) rows of W (rows: the most a call takes in prefill, 0
// for decode).
inline size_t qmm_int8_scratch(int64_t K, int group_size, int64_t rows) {
  const int64_t G = K / group_size, kept = qmm_kept_rows(K, group_size, rows);
  return size_t(std::max(80 * G + 4 * K + 256, (kept + 7) / 8 * (4 * K + 16 * G) + 16 * G));
}
// From this many rows of x, qmm_int8_avx2 runs its panel kernel (x prepared
// with block 0), and [n0, n1) should start on a multiple of 8 rows.
constexpr int64_t kQmmPanelMinM = 8;
void qmm_int8_avx2(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch);
// Rows [n, n + r) of W (r <= 8; missing rows as zeros) as one panel of the
// prefill kernels (simd/qmm_panels_avx2.cpp): pw the codes, a 32-byte vector
// per step of K holding 4 codes of each of the 8 rows as bytes (4-bit W, and
// 8-bit W when `bytes`: K / 4 vectors) or 2 codes of each as int16 (8-bit W:
// K / 2 vectors); ps and pb the scales and biases as float32, 8 per group,
// with 16 G floats of room after pb.
void qmm_panel_repack_avx2(const QmmInt8& a, int64_t n, int r, bool bytes, uint8_t* pw, float* ps, float* pb);
// The panel kernel with AVX-512 VNNI (avx512_bf16 tier), for M >=
// kQmmPanelMinM: the same panels, integer sums and float steps as
// qmm_int8_avx2's (so the same results), by `vpdpbusd` / `vpdpwssd`, eight
// rows of x a pass; and 8-bit W against int8 x (int8_x).
void qmm_int8_panels_vnni(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch);
// Whether prefill (M >= kQmmPanelMinM) takes qmm_int8_panels_vnni: as
// qmm_vnni_enabled().
bool qmm_vnni_panels();
// The integer kernels over all N rows of W (w_row_bytes each) on the pool,
// in chunks of whole panels taken from a shared counter: from
// kQmmPanelMinM rows of x the VNNI panel kernel where qmm_vnni_panels();
// otherwise the VNNI tile kernels when `vnni` (never for GGUF blocks).
void qmm_int8_parallel(const QmmInt8& a, size_t w_row_bytes, int64_t N, bool vnni);
// The same with AVX-512 VNNI (avx512_bf16 tier); x prepared with block 128.
void qmm_int8_avx512_vnni(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch);
// Whether the int8 path uses the VNNI kernels: the machine's tier allows
// them and they are switched on (UMA_QMM_VNNI=1 or set_qmm_vnni(true); off
// by default while their 4-bit prefill is slower than the AVX2 kernels').
void set_qmm_vnni(bool on);
bool qmm_vnni_enabled();

}  // namespace uma::cpu
