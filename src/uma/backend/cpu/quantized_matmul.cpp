// quantized_matmul on the CPU: x @ W.T (transpose, W packed (N, K)) or x @ W
// (W packed (K, N)), every bits and group size, rounded once to the output
// dtype T. Paths (cpu::QmmPath, quantized.h): for 4- and 8-bit x @ W.T the
// integer kernels (x rounded to int8/int16 per group, integer dot products;
// the default precision) or, at float32 precision, the AVX2 float row
// kernels for decode and dequantized panels through sgemm for prefill; the
// plain float32 reference for everything. The fp modes (mxfp4, nvfp4,
// mxfp8) have their reference in quantized_fp.cpp; gather_qmm runs the same
// kernels once per (x matrix, W matrix) pair.
//
// Float32 paths, error bound against matmul(x, dequantize(W)) (tested in
// tests/core/test_quantized_matmul.cpp): with u the unit roundoff of T
// (2^-24 float32, 2^-11 float16, 2^-8 bfloat16) and, per output,
// E = sum_k |x_k| (|s_g q_k| + |b_g|),
//
//   |qmm - matmul(x, dequantize(W))| <= 2u |matmul(...)| + (3u + 2K 2^-24) E
//
// dequantize rounds each weight to T twice (product, sum: <= 2u each weight
// term) where these kernels keep s q + b in float32; both sides accumulate K
// products in float32 (<= K 2^-24 E each, worst case) and round the result
// to T once (the 2u |y| term). For float32 that is a few K ulps of E.
//
// The integer path adds the rounding of x: xq_k dx_g = x_k + e_k with
// |e_k| <= dx_g / 2 (1 + 2^-20), dx_g = max_{k in g} |x_k| / Q (Q = 127, int8,
// for 4-bit W; 32767, int16, for 8-bit W), so
//
//   |qmm_int - qmm_exact| <= sum_g |s_g| (dx_g / 2)(1 + 2^-20) sum_{k in g} q_k
//                            + float32 rounding as above
//
// With random-sign errors the typical error is about sqrt(group) smaller.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/matmul.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/quantized_fp.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/scratch.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/ops/quantized.h"
#include "uma/core/primitives/quantized.h"

namespace uma {

namespace cpu {
namespace {
QmmPath g_qmm_path = QmmPath::automatic;
}
void set_qmm_path(QmmPath p) { g_qmm_path = p; }
QmmPath qmm_path() { return g_qmm_path; }

namespace {
// The VNNI kernels are off unless UMA_QMM_VNNI=1: the tile kernels (decode,
// M < kQmmPanelMinM) pass the tests on Sapphire Rapids but were no faster
// there than the AVX2 ones (bench/RESULTS.md, "Quantized models"); the panel
// kernel (prefill) has not yet run on an AVX-512 machine.
std::atomic<bool> g_vnni{[] {
  const char* v = std::getenv("UMA_QMM_VNNI");
  return v && !std::strcmp(v, "1");
}()};
}  // namespace
void set_qmm_vnni(bool on) { g_vnni = on; }
bool qmm_vnni_enabled() { return g_vnni && cpu_features().has_avx512_bf16(); }
bool qmm_vnni_panels() { return qmm_vnni_enabled(); }

int64_t qmm_kept_rows(int64_t K, int group_size, int64_t rows) {
  const int64_t panel_bytes = 4 * (4 * K + 16 * (K / group_size));
  return std::min(rows, std::max<int64_t>(1, (int64_t(4) << 20) / panel_bytes) * 8);
}

// x rounded to bfloat16 once (on the pool), then per panel of W: decoded to
// bfloat16, multiplied by AMX tiles (gemm_half, also on the pool), the
// result widened into y.
void qmm_int8_parallel(const QmmInt8& a, size_t w_row_bytes, int64_t N, bool vnni) {
  // Work per row of W: its bytes, plus M dot products of K.
  const size_t row_cost = w_row_bytes + size_t(a.M * a.K);
  // Rows of W in chunks taken in turn from a shared counter: a thread that
  // starts late (woken from sleep) or runs slower takes fewer, so no thread
  // waits at the end for the other. Chunks of at least 64 rows keep each
  // thread's reads long sequential stretches (and whole panels of 8).
  const size_t grain = std::max<size_t>(4, grain_for_bytes(row_cost));
  const size_t threads = std::clamp<size_t>(size_t(N) / grain, 1, size_t(num_threads()));
  const int64_t chunk = (std::max<int64_t>(64, N / int64_t(8 * threads)) + 7) / 8 * 8;
  const int64_t chunks = (N + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  // (int8_x was chosen for the VNNI panels: only they read it.)
  const bool vnni_panels = a.M >= kQmmPanelMinM && (a.int8_x || qmm_vnni_panels());
  parallel_for(threads, 1, [&](size_t, size_t) {
    // Per thread, kept between calls (decode makes hundreds a token).
    thread_local std::vector<float> scratch;
    scratch.resize(std::max(scratch.size(), qmm_int8_scratch(a.K, a.group_size, a.M >= kQmmPanelMinM ? chunk : 0)));
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      const int64_t n0 = c * chunk, n1 = std::min(N, n0 + chunk);
      if (vnni_panels) {
        qmm_int8_panels_vnni(a, n0, n1, scratch.data());
      } else if (vnni) {
        qmm_int8_avx512_vnni(a, n0, n1, scratch.data());
      } else {
        qmm_int8_avx2(a, n0, n1, scratch.data());
      }
    }
  });
}

void amx_bf16_panels(const float* x, int64_t M, int64_t N, int64_t K, float* y,
                     const std::function<void(int64_t n0, int64_t nb, bfloat16_t* out)>& decode) {
  const int64_t panel = std::min<int64_t>(std::max<int64_t>((int64_t(4) << 20) / (K * 2), 32), N);
  Scratch<bfloat16_t> xb(size_t(M * K)), wb(size_t(panel * K)), yb(size_t(M * panel));
  parallel_for(size_t(M), grain_for_bytes(size_t(K) * 4), [&](size_t b, size_t e) {
    store_f32(x + b * K, xb.data() + b * K, int64_t(e - b) * K);
  });
  for (int64_t n0 = 0; n0 < N; n0 += panel) {
    const int64_t nb = std::min(panel, N - n0);
    decode(n0, nb, wb.data());
    HalfGemm g;
    g.kind = HalfKind::bf16;
    g.M = M, g.N = nb, g.K = K;
    g.a = reinterpret_cast<const uint16_t*>(xb.data()), g.a_rs = K, g.a_cs = 1;
    g.b = reinterpret_cast<const uint16_t*>(wb.data()), g.b_rs = 1, g.b_cs = K;  // B(k, n) = W[n, k]
    g.c = reinterpret_cast<uint16_t*>(yb.data()), g.ldc = nb;
    gemm_half(g);  // AMX tiles where the tier has them
    for (int64_t m = 0; m < M; ++m) load_f32(yb.data() + m * nb, y + m * N + n0, nb);
  }
}
}  // namespace cpu

namespace {
QuantizedMatmulPrecision initial_precision() {
  const char* v = std::getenv("UMA_QMM_PRECISION");
  if (!v || !*v || !std::strcmp(v, "int8")) return QuantizedMatmulPrecision::int8;
  if (!std::strcmp(v, "float32")) return QuantizedMatmulPrecision::float32;
  std::fprintf(stderr, "uma: UMA_QMM_PRECISION='%s' is not int8 or float32; using int8\n", v);
  return QuantizedMatmulPrecision::int8;
}
std::atomic<QuantizedMatmulPrecision> g_precision{initial_precision()};
}  // namespace

void set_quantized_matmul_precision(QuantizedMatmulPrecision p) { g_precision = p; }
QuantizedMatmulPrecision quantized_matmul_precision() { return g_precision; }

namespace {

// One matrix of the (flattened) batch, float32 x and y, T scales/biases.
template <typename T>
struct QmmProblem {
  int64_t M, N, K;
  int bits, gs;
  bool transpose;
  const float* x;  // (M, K)
  const uint32_t* w;
  const T* scales;
  const T* biases;
  float* y;  // (M, N)
};

// Where the 32 codes of a block of `bits` words (bits <= 8) lie, for 8
// codes at a time: code j starts in word lo[j] at bit sh[j] and, past 32,
// continues in word lo[j] + 1 (shifted left by 32 - sh[j]; a shift by 32
// gives 0 in vpsllvd).
struct CodeLayout {
  __m256i lo[4], hi[4], sh[4], shl[4], mask;
  explicit CodeLayout(int bits) {
    for (int q = 0; q < 4; ++q) {
      alignas(32) int32_t l[8], h[8], r[8], t[8];
      for (int j = 0; j < 8; ++j) {
        int bit = (8 * q + j) * bits;
        l[j] = bit >> 5;
        h[j] = std::min(l[j] + 1, 7);
        r[j] = bit & 31;
        t[j] = 32 - r[j];
      }
      lo[q] = _mm256_load_si256(reinterpret_cast<const __m256i*>(l));
      hi[q] = _mm256_load_si256(reinterpret_cast<const __m256i*>(h));
      sh[q] = _mm256_load_si256(reinterpret_cast<const __m256i*>(r));
      shl[q] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
    }
    mask = _mm256_set1_epi32((1 << bits) - 1);
  }
};

// The 32 codes of words[0, bits) as float32 into out, s * q + b.
inline void dequantize32(const uint32_t* words, int bits, const CodeLayout& cl, __m256 s, __m256 b, float* out) {
  // Only the block's words are read (the last block of a buffer ends there).
  const __m256i load = _mm256_cmpgt_epi32(_mm256_set1_epi32(bits), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i v = _mm256_maskload_epi32(reinterpret_cast<const int*>(words), load);
  for (int q = 0; q < 4; ++q) {
    __m256i c = _mm256_or_si256(_mm256_srlv_epi32(_mm256_permutevar8x32_epi32(v, cl.lo[q]), cl.sh[q]),
                                _mm256_sllv_epi32(_mm256_permutevar8x32_epi32(v, cl.hi[q]), cl.shl[q]));
    c = _mm256_and_si256(c, cl.mask);
    _mm256_storeu_ps(out + 8 * q, _mm256_fmadd_ps(_mm256_cvtepi32_ps(c), s, b));
  }
}

// Elements [c0, c1) of packed row r (of `cols` codes) as s * q + b in
// float32; c0 and c1 on group boundaries (groups are whole blocks of 32
// codes, `bits` words each).
template <typename T>
void dequantize_span(const QmmProblem<T>& p, int64_t r, int64_t cols, int64_t c0, int64_t c1, float* out) {
  const uint32_t* wr = p.w + r * (cols * p.bits / 32);
  const int64_t G = cols / p.gs;
  thread_local int layout_bits = 0;
  thread_local std::optional<CodeLayout> layout;
  if (layout_bits != p.bits) {
    layout.emplace(p.bits);
    layout_bits = p.bits;
  }
  for (int64_t c = c0; c < c1; c += 32) {
    __m256 s = _mm256_set1_ps(static_cast<float>(p.scales[r * G + c / p.gs]));
    __m256 b = _mm256_set1_ps(static_cast<float>(p.biases[r * G + c / p.gs]));
    dequantize32(wr + c / 32 * p.bits, p.bits, *layout, s, b, out + (c - c0));
  }
}

// The reference: one row (transpose) or one block of columns of W at a time
// in float32, then dot products or axpys with x.
template <typename T>
void qmm_reference(const QmmProblem<T>& p) {
  if (p.transpose) {
    cpu::parallel_for(size_t(p.N), cpu::grain_for_bytes(size_t(p.K) * 4), [&](size_t b, size_t e) {
      std::vector<float> wrow(p.K);
      for (size_t n = b; n < e; ++n) {
        dequantize_span(p, int64_t(n), p.K, 0, p.K, wrow.data());
        for (int64_t m = 0; m < p.M; ++m) p.y[m * p.N + n] = cpu::dot_f32(p.x + m * p.K, wrow.data(), p.K);
      }
    });
    return;
  }
  // W is (K, N) with groups along N: split N at group boundaries.
  const int64_t G = p.N / p.gs;
  cpu::parallel_for(size_t(G), 1, [&](size_t b, size_t e) {
    int64_t c0 = int64_t(b) * p.gs, c1 = int64_t(e) * p.gs;
    std::vector<float> part(c1 - c0);
    for (int64_t m = 0; m < p.M; ++m) std::fill(p.y + m * p.N + c0, p.y + m * p.N + c1, 0.f);
    for (int64_t k = 0; k < p.K; ++k) {
      dequantize_span(p, k, p.N, c0, c1, part.data());
      for (int64_t m = 0; m < p.M; ++m) cpu::axpy_f32(p.x[m * p.K + k], part.data(), p.y + m * p.N + c0, c1 - c0);
    }
  });
}

// Rows [n0, n0 + nb) of W (x @ W.T layout) dequantized into out (nb x K of
// U: float32, or bfloat16 through a float32 row), on uma's pool.
template <typename T, typename U>
void dequantize_panel(const QmmProblem<T>& p, int64_t n0, int64_t nb, U* out) {
  cpu::parallel_for(size_t(nb), cpu::grain_for_bytes(size_t(p.K) * 4), [&](size_t b, size_t e) {
    std::vector<float> row(std::is_same_v<U, float> ? 0 : size_t(p.K));
    for (size_t i = b; i < e; ++i) {
      if constexpr (std::is_same_v<U, float>) {
        dequantize_span(p, n0 + int64_t(i), p.K, 0, p.K, out + i * p.K);
      } else {
        dequantize_span(p, n0 + int64_t(i), p.K, 0, p.K, row.data());
        cpu::store_f32(row.data(), out + i * p.K, p.K);
      }
    }
  });
}

// Prefill: panels of ~16 MiB of W dequantized to float32, each multiplied by
// all of x with sgemm (both on uma's pool).
template <typename T>
void qmm_dequant_sgemm(const QmmProblem<T>& p) {
  int64_t panel = std::min(std::max<int64_t>((int64_t(16) << 20) / (p.K * 4), 16), p.N);
  std::vector<float> wp(size_t(panel * p.K));
  for (int64_t n0 = 0; n0 < p.N; n0 += panel) {
    int64_t nb = std::min(panel, p.N - n0);
    dequantize_panel(p, n0, nb, wp.data());
    cpu::blas_sgemm(false, true, p.M, nb, p.K, 1.f, p.x, p.K, wp.data(), p.K, 0.f, p.y + n0, p.N);
  }
}

template <typename T>
void qmm_rows(const QmmProblem<T>& p) {
  const int64_t G = p.K / p.gs;
  std::vector<float> xp(size_t(p.M * p.K)), xsum(size_t(p.M * G));
  for (int64_t m = 0; m < p.M; ++m) {
    const float* xm = p.x + m * p.K;
    cpu::qmm_prepare_x(xm, p.K, p.bits, xp.data() + m * p.K);
    for (int64_t g = 0; g < G; ++g) {
      float s = 0.f;
      for (int j = 0; j < p.gs; ++j) s += xm[g * p.gs + j];
      xsum[m * G + g] = s;
    }
  }
  cpu::QmmRows a{p.bits, p.gs, p.M, p.K, xp.data(), xsum.data(), p.w, p.scales, p.biases,
                 std::is_same_v<T, float> ? 0 : std::is_same_v<T, float16_t> ? 1 : 2, p.y, p.N};
  size_t row_bytes = size_t(p.K * p.bits / 8 * std::max<int64_t>(p.M, 1));
  cpu::parallel_for(size_t(p.N), cpu::grain_for_bytes(row_bytes),
                    [&](size_t b, size_t e) { cpu::qmm_rows_avx2(a, int64_t(b), int64_t(e)); });
}

// x rounded to int8 (4-bit W) or int16 (8-bit W) per group, a row at a time
// on the pool, then the integer kernels over rows of W.
template <typename T>
void qmm_int8(const QmmProblem<T>& p) {
  const int64_t G = p.K / p.gs;
  cpu::Scratch<int8_t> xq(p.bits == 4 ? size_t(p.M * p.K) : 0);
  cpu::Scratch<int16_t> xw(p.bits == 8 ? size_t(p.M * p.K) : 0);
  cpu::Scratch<float> dx(size_t(p.M * G)), xsum(size_t(p.M * G));
  const bool panels = p.M >= cpu::kQmmPanelMinM;
  const bool vnni = !panels && cpu::qmm_vnni_enabled();
  const int block = panels ? 0 : vnni ? 128 : 64;
  cpu::parallel_for(size_t(p.M), cpu::grain_for_bytes(size_t(p.K) * 8), [&](size_t b, size_t e) {
    for (size_t m = b; m < e; ++m) {
      cpu::qmm_int8_prepare_avx2(p.x + m * p.K, p.K, p.bits, p.gs, block,
                                 p.bits == 4 ? xq.data() + m * p.K : nullptr,
                                 p.bits == 8 ? xw.data() + m * p.K : nullptr, dx.data() + m * G, xsum.data() + m * G);
    }
  });
  cpu::QmmInt8 a{p.bits,    p.gs,      p.M,       p.K,       xq.data(),
                 xw.data(), dx.data(), xsum.data(), p.w,     p.scales,
                 p.biases,  std::is_same_v<T, float> ? 0 : std::is_same_v<T, float16_t> ? 1 : 2,
                 p.y,       p.N};
  cpu::qmm_int8_parallel(a, size_t(p.K * p.bits / 8), p.N, vnni);
}

// Prefill on AMX CPUs: x rounded to bfloat16 once, then panels of W
// dequantized to bfloat16 (on uma's pool) and multiplied by AMX tiles
// (gemm_half, also on the pool), the result rounded to bfloat16 once, as
// the bfloat16 model's own matmuls do: there the tiles compute 4-8x faster
// than the integer kernels.
template <typename T>
void qmm_dequant_amx(const QmmProblem<T>& p) {
  cpu::amx_bf16_panels(p.x, p.M, p.N, p.K, p.y,
                       [&](int64_t n0, int64_t nb, bfloat16_t* out) { dequantize_panel(p, n0, nb, out); });
}

template <typename T>
void qmm_run(const QmmProblem<T>& p) {
  bool rows_ok = p.transpose && (p.bits == 4 || p.bits == 8);
  cpu::QmmPath path = cpu::qmm_path();
  const bool amx_ok = p.transpose && std::is_same_v<T, bfloat16_t> && p.bits <= 8 &&
                      cpu::half_path_available(cpu::HalfKind::bf16, cpu::GemmPath::amx);
  if (path == cpu::QmmPath::automatic) {
    if (amx_ok && p.M >= cpu::kQmmAmxMinM && quantized_matmul_precision() == QuantizedMatmulPrecision::int8) {
      path = cpu::QmmPath::dequant_amx;
    } else if (rows_ok && quantized_matmul_precision() == QuantizedMatmulPrecision::int8) {
      path = cpu::QmmPath::int8;
    } else if (p.transpose && p.M > cpu::kQmmRowsMaxM) {
      path = cpu::QmmPath::dequant_sgemm;
    } else {
      path = rows_ok ? cpu::QmmPath::rows_avx2 : cpu::QmmPath::reference;
    }
  }
  if (path == cpu::QmmPath::dequant_amx && amx_ok) return qmm_dequant_amx(p);
  if (path == cpu::QmmPath::int8 && rows_ok) return qmm_int8(p);
  if (path == cpu::QmmPath::rows_avx2 && rows_ok) return qmm_rows(p);
  if (path == cpu::QmmPath::dequant_sgemm && p.transpose) return qmm_dequant_sgemm(p);
  qmm_reference(p);
}

// The operands of a quantized_matmul or gather_qmm node, row-major: x as
// matrices (M, K), W as matrices with their scales (and affine biases).
struct QmmOperands {
  QuantizationMode mode;
  int bits, group_size;
  bool transpose;
  array x, w, scales;
  std::optional<array> biases;
  int64_t M, N, K, w_stride, s_stride;

  QmmOperands(const std::vector<array>& in, const array& out, QuantizationMode mode, int bits,
              int group_size, bool transpose, int64_t M)
      : mode(mode),
        bits(bits),
        group_size(group_size),
        transpose(transpose),
        x(cpu::row_major(in[0])),
        w(cpu::row_major(in[1])),
        scales(cpu::row_major(in[2])),
        M(M),
        N(out.shape(-1)),
        K(in[0].shape(-1)),
        w_stride(int64_t(in[1].shape(-2)) * in[1].shape(-1)),
        s_stride(int64_t(in[2].shape(-2)) * in[2].shape(-1)) {
    if (mode == QuantizationMode::affine) biases = cpu::row_major(in[3]);
  }
  int64_t w_matrices() const { return int64_t(w.size()) / std::max<int64_t>(w_stride, 1); }
  int64_t x_matrices() const { return int64_t(x.size()) / std::max<int64_t>(M * K, 1); }

  // Matrix oi of out (T) = matrix xi of x times matrix wi of W; xf and yf
  // hold M * K and M * N floats.
  template <typename T>
  void product(int64_t xi, int64_t wi, int64_t oi, array& out, float* xf, float* yf) const {
    const T* xb = static_cast<const T*>(x.raw_ptr()) + xi * M * K;
    T* yb = static_cast<T*>(out.raw_ptr()) + oi * M * N;
    if (K == 0) {
      std::fill(yb, yb + M * N, T(0.f));
      return;
    }
    cpu::load_f32(xb, xf, M * K);
    const uint32_t* wb = static_cast<const uint32_t*>(w.raw_ptr()) + wi * w_stride;
    if (mode == QuantizationMode::affine) {
      QmmProblem<T> p{M,
                      N,
                      K,
                      bits,
                      group_size,
                      transpose,
                      xf,
                      wb,
                      static_cast<const T*>(scales.raw_ptr()) + wi * s_stride,
                      static_cast<const T*>(biases->raw_ptr()) + wi * s_stride,
                      yf};
      qmm_run(p);
    } else {
      cpu::qmm_fp({M, N, K, group_size, mode, transpose, out.dtype(), xf, wb,
                   static_cast<const uint8_t*>(scales.raw_ptr()) + wi * s_stride, yf});
    }
    cpu::store_f32(yf, yb, M * N);
  }
};

// Calls f(type_tag<T>{}) for the result dtype (float32, float16, bfloat16).
template <typename F>
void dispatch_qmm_type(Dtype t, const char* op, F&& f) {
  cpu::dispatch_float(t, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, double>) {
      throw std::invalid_argument(std::string("[") + op + "] float64 is not supported");
    } else {
      f(tag);
    }
  });
}

}  // namespace

void QuantizedMatmul::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  // A 2-D W serves every row of x; batched W (broadcast with x by the op)
  // pairs matrix i of x with matrix i of W.
  const bool batched = inputs[1].ndim() > 2;
  const int64_t K = inputs[0].shape(-1);
  const int64_t M =
      batched ? inputs[0].shape(-2) : int64_t(inputs[0].size()) / std::max<int64_t>(K, 1);
  QmmOperands a(inputs, out, mode_, bits_, group_size_, transpose_, M);
  cpu::Scratch<float> xf(size_t(a.M * a.K)), yf(size_t(a.M * a.N));
  dispatch_qmm_type(out.dtype(), "quantized_matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t b = 0, n = batched ? a.w_matrices() : 1; b < n; ++b) {
      a.template product<T>(b, b, b, out, xf.data(), yf.data());
    }
  });
}

void GatherQMM::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  QmmOperands a(inputs, out, mode_, bits_, group_size_, transpose_, inputs[0].shape(-2));
  auto lhs = cpu::matrix_indices(inputs[inputs.size() - 2], a.x_matrices(), "gather_qmm", "lhs_indices", "x");
  auto rhs = cpu::matrix_indices(inputs[inputs.size() - 1], a.w_matrices(), "gather_qmm", "rhs_indices", "w");
  cpu::Scratch<float> xf(size_t(a.M * a.K)), yf(size_t(a.M * a.N));
  dispatch_qmm_type(out.dtype(), "gather_qmm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (size_t i = 0; i < lhs.size(); ++i)
      a.template product<T>(lhs[i], rhs[i], int64_t(i), out, xf.data(), yf.data());
  });
}

}  // namespace uma
