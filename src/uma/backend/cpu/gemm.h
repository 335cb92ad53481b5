// Half-precision matrix products (bfloat16 / float16 in, float32 accumulate,
// result in the input dtype) and the kernels behind them.
//
// This header is included by the ISA-specific files (simd/*_avx2.cpp,
// *_avx512.cpp, *_amx.cpp), so it holds only plain structs and declarations:
// no inline functions or templates that a wider-ISA file could emit into a
// COMDAT the baseline code then links to.
#pragma once

#include <cstdint>

namespace uma::cpu {

enum class HalfKind : uint8_t { bf16, f16 };

// Which kernel family computes a half-precision product.
//   automatic    the fastest path of the CPU's tier for this problem (gemm_half.cpp)
//   amx          AMX tiles (TDPBF16PS); float16 as a split bfloat16 product
//   avx512_bf16_packed  B repacked into VNNI pairs, 12 x 32 vdpbf16ps tiles (bfloat16 prefill)
//   avx512_bf16  AVX-512 row kernels through vdpbf16ps (bfloat16 only)
//   avx512       AVX-512 row kernels (convert to float32 on the fly, FMA)
//   avx2         AVX2/F16C row kernels (convert to float32 on the fly)
//   sgemm      convert both operands to float32, OpenBLAS sgemm, convert back
//   naive      the reference triple loop
enum class GemmPath : uint8_t { automatic, amx, avx512_bf16_packed, avx512_bf16, avx512, avx2, sgemm, naive };

// C (M, N) = alpha * A (M, K) @ B (K, N) + beta * C.
// A(i, k) is a[i * a_rs + k * a_cs] (element strides, any layout); B likewise;
// C is row-major with leading dimension ldc. beta == 0 never reads C.
struct HalfGemm {
  HalfKind kind = HalfKind::bf16;
  int64_t M = 0, N = 0, K = 0;
  const uint16_t* a = nullptr;
  int64_t a_rs = 0, a_cs = 0;
  const uint16_t* b = nullptr;
  int64_t b_rs = 0, b_cs = 0;
  uint16_t* c = nullptr;
  int64_t ldc = 0;
  float alpha = 1.f, beta = 0.f;
};

// Runs on uma's thread pool (serially when `serial`). Throws
// std::invalid_argument when an explicit path is not available here.
void gemm_half(const HalfGemm& g, GemmPath path = GemmPath::automatic, bool serial = false);
bool half_path_available(HalfKind kind, GemmPath path);
// The path `automatic` takes for this problem.
GemmPath half_path_for(const HalfGemm& g);
// Reference: double-precision accumulation, one output at a time.
void gemm_half_naive(const HalfGemm& g);
// float32 / float64 products through OpenBLAS, C = alpha * op(A) @ op(B) +
// beta * C (row-major; op transposes where ta / tb): uma's pool splits C into
// one block of rows (columns when C is wider than tall) per worker, each a
// single-threaded BLAS call (serially when `serial`). OpenBLAS itself runs
// one thread: its own pool, sized like uma's, spun after every call and took
// the cores uma's elementwise kernels ran on next (training ran ~20% slower).
void blas_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc, bool serial = false);
void blas_dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* a, int64_t lda,
                const double* b, int64_t ldb, double beta, double* c, int64_t ldc, bool serial = false);
// Sets OpenBLAS to one thread (once); LAPACK routines run single-threaded.
void single_thread_blas();

// ---------------------------------------------------------------- row kernels
// Decode, and prefill where nothing faster exists; correct for any M. A has contiguous rows (lda);
// af holds the same rows as float32 (ld K). B(k, n) is b[n * ldb + k] when
// b_trans (weights stored (N, K), x @ W.T), else b[k * ldb + n].
// Each call computes the output columns [n0, n1).
struct RowKernelArgs {
  HalfKind kind;
  int64_t M, K;
  const uint16_t* a;
  int64_t lda;
  const float* af;
  const uint16_t* b;
  int64_t ldb;
  bool b_trans;
  uint16_t* c;
  int64_t ldc;
  float alpha, beta;
};
// One entry point per ISA tier, each in a file compiled for that tier.
void row_kernel_avx2(const RowKernelArgs& r, int64_t n0, int64_t n1);
void row_kernel_avx512(const RowKernelArgs& r, int64_t n0, int64_t n1);
// bfloat16 through vdpbf16ps (float16 goes to row_kernel_avx512).
void row_kernel_avx512_bf16(const RowKernelArgs& r, int64_t n0, int64_t n1);
// bfloat16 with B packed per call (simd/gemm_packed_avx512_bf16.cpp): for
// larger M, where the row kernels are bound by reading both operands.
// `packed` is the calling thread's scratch of (K + 1) / 2 * kPackedBlockCols
// dwords (the tier's code allocates nothing, so it instantiates no library
// templates that baseline code could link to).
inline constexpr int64_t kPackedBlockCols = 256;
void packed_gemm_avx512_bf16(const RowKernelArgs& r, int64_t n0, int64_t n1, uint32_t* packed);

// ---------------------------------------------------------------- AMX
// D (R, Q) = P (R, K) @ X (K, Q) on 16x16 float32 tiles, 32x32 blocks.
// float16 products run here too: each value splits exactly into bfloat16
// hi + lo, and [Ah | Al | Ah | Al] @ [Bh; Bh; Bl; Bl] (K' = 4K) sums the four
// partial products, each exact in float32.
// P: rows of bfloat16 with K contiguous (p + r * ldp), read directly for the
//    first kfull 32-wide chunks of K; the last chunk of a K that is not a
//    multiple of 32 comes from p_tail (R rows of 32, zero padded).
// X: packed by amx_pack_vnni (K padded to kp, Q to a multiple of 32).
// Rows past the last full 32-row block come from p_pad (32 x kp, zero padded).
// out(r, q) goes to c[r * ldc + q], or to c[q * ldc + r] when c_trans.
struct AmxGemm {
  int64_t R, Q, K, kp;
  const uint16_t* p;
  int64_t ldp;
  int64_t kfull;
  const uint16_t* p_tail;
  const uint16_t* p_pad;
  const uint16_t* x;
  uint16_t* c;
  int64_t ldc;
  bool c_trans;
  float alpha, beta;
  bool out_f16;  // C holds float16 (the split-float16 path), else bfloat16
  int64_t slice_chunks;  // K slice of the loop nest, in 32-wide chunks
};
// Computes the 32-row blocks [blk0, blk1) of P.
void amx_gemm_bf16(const AmxGemm& g, int64_t blk0, int64_t blk1);
// Packs columns [q0, q1) (q0 a multiple of 16) of X (K, Q), X(k, q) =
// src[k * rs + q * cs], into 16-column panels of VNNI pairs: panel j holds
// kp / 2 rows of 16 (X(2i, q), X(2i+1, q)) pairs; panels start every kp * 16
// elements of dst. Zero pads K up to kp and columns up to a multiple of 16.
void amx_pack_vnni(const uint16_t* src, int64_t rs, int64_t cs, int64_t K, int64_t Q, int64_t kp, int64_t q0,
                   int64_t q1, uint16_t* dst);
// float16 -> bfloat16 hi + lo with hi + lo == x exactly (hi keeps 8 of the
// 11 significant bits, lo the rest; Inf/NaN go to hi, lo = 0).
void split_f16(const uint16_t* src, int64_t stride, int64_t n, uint16_t* hi, uint16_t* lo);
// Configures this thread's tiles (ldtilecfg); false if AMX is not usable.
bool amx_thread_init();

}  // namespace uma::cpu
