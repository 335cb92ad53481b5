// bfloat16 / float16 products: picks a kernel family for the CPU and the
// problem, prepares operands (contiguous rows, packing) and splits the work
// over uma's thread pool. The kernels themselves live in simd/.
//
//   decode (small M):  row kernels stream B once, split over N.
//   prefill (larger M): AMX tiles where the CPU has them; else, for
//                       bfloat16 on the avx512_bf16 tier, the vdpbf16ps row
//                       kernels; else the AVX-512 row kernels; on
//                       AVX2, the row kernels up to M = 64 and float32
//                       conversion + sgemm above.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/allocator.h"
#include "uma/core/dtype.h"

namespace uma::cpu {

namespace {

// Up to this many rows the row kernels beat AMX tiles (float16 pays for
// splitting B on every call), and (without AMX) converting to float32 for
// sgemm (bench/matmul_bench.cpp --only paths, Sapphire Rapids).
constexpr int64_t kRowKernelMaxMAmx = 5;
constexpr int64_t kRowKernelMaxMAmxF16 = 48;
// Without AMX the row kernels beat convert + sgemm up to M = 64 (bf16 and
// f16, AVX2 and AVX-512; bench/RESULTS.md, kernel paths): they read B once
// while sgemm first writes a float32 copy of all of it.
constexpr int64_t kRowKernelMaxM = 64;
// From this many rows on, packing B for vdpbf16ps tiles pays (avx512_bf16).
constexpr int64_t kPackedMinM = 16;
constexpr bool kPackedPays = false;

float to_float(HalfKind k, uint16_t v) {
  if (k == HalfKind::bf16) return float(bfloat16_t::from_bits(v));
  return _cvtsh_ss(v);
}

uint16_t from_float(HalfKind k, float f) {
  if (k == HalfKind::bf16) return bfloat16_t(f).bits;
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

// RAII scratch from uma's allocator (64-byte aligned).
struct Scratch {
  allocator::Buffer buf{};
  explicit Scratch(size_t bytes) : buf(allocator::malloc(bytes)) {}
  ~Scratch() { allocator::free(buf); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(buf.ptr);
  }
};

void run_parallel(size_t n, size_t grain, bool serial, const std::function<void(size_t, size_t)>& fn) {
  if (serial) {
    fn(0, n);
  } else {
    parallel_for(n, grain, fn);
  }
}

const char* path_name(GemmPath p) {
  switch (p) {
    case GemmPath::automatic: return "automatic";
    case GemmPath::amx: return "amx";
    case GemmPath::avx512_bf16: return "avx512_bf16";
    case GemmPath::avx512_bf16_packed: return "avx512_bf16_packed";
    case GemmPath::avx512: return "avx512";
    case GemmPath::avx2: return "avx2";
    case GemmPath::sgemm: return "sgemm";
    case GemmPath::naive: return "naive";
  }
  return "?";
}

// C = beta * C for an empty product.
void scale_c(const HalfGemm& g) {
  for (int64_t i = 0; i < g.M; ++i) {
    uint16_t* c = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.N; ++j) c[j] = g.beta == 0.f ? 0 : from_float(g.kind, g.beta * to_float(g.kind, c[j]));
  }
}

// dst (rows, cols) row-major float32 <- src(i, j) = src[i * rs + j * cs].
void to_f32(HalfKind kind, const uint16_t* src, int64_t rs, int64_t cs, int64_t rows, int64_t cols, float* dst,
            bool serial) {
  size_t grain = std::max<size_t>(1, size_t(16384 / std::max<int64_t>(cols, 1)));
  run_parallel(size_t(rows), grain, serial, [&](size_t r0, size_t r1) {
    for (int64_t i = int64_t(r0); i < int64_t(r1); ++i) {
      const uint16_t* s = src + i * rs;
      float* d = dst + i * cols;
      int64_t j = 0;
      if (cs == 1) {
        if (kind == HalfKind::bf16) {
          for (; j + 8 <= cols; j += 8) {
            __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + j)));
            _mm256_storeu_ps(d + j, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
          }
        } else {
          for (; j + 8 <= cols; j += 8) {
            _mm256_storeu_ps(d + j, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + j))));
          }
        }
      }
      for (; j < cols; ++j) d[j] = to_float(kind, s[j * cs]);
    }
  });
}

// Converts an operand for sgemm, keeping whichever of its dims is unit-stride
// innermost; returns whether the float32 copy holds the transpose.
bool operand_to_f32(HalfKind kind, const uint16_t* src, int64_t rs, int64_t cs, int64_t rows, int64_t cols,
                    float* dst, bool serial) {
  if (rs == 1 && cs != 1 && rows > 1) {
    to_f32(kind, src, cs, rs, cols, rows, dst, serial);
    return true;
  }
  to_f32(kind, src, rs, cs, rows, cols, dst, serial);
  return false;
}

void run_sgemm(const HalfGemm& g, bool serial) {
  Scratch af(size_t(g.M * g.K) * 4), bf(size_t(g.K * g.N) * 4), cf(size_t(g.M * g.N) * 4);
  bool ta = operand_to_f32(g.kind, g.a, g.a_rs, g.a_cs, g.M, g.K, af.as<float>(), serial);
  bool tb = operand_to_f32(g.kind, g.b, g.b_rs, g.b_cs, g.K, g.N, bf.as<float>(), serial);
  blas_sgemm(ta, tb, g.M, g.N, g.K, 1.f, af.as<float>(), ta ? g.M : g.K, bf.as<float>(), tb ? g.K : g.N, 0.f,
             cf.as<float>(), g.N, serial);
  const float* t = cf.as<float>();
  size_t grain = std::max<size_t>(1, size_t(16384 / g.N));
  run_parallel(size_t(g.M), grain, serial, [&](size_t r0, size_t r1) {
    for (int64_t i = int64_t(r0); i < int64_t(r1); ++i) {
      uint16_t* c = g.c + i * g.ldc;
      const float* s = t + i * g.N;
      for (int64_t j = 0; j < g.N; ++j) {
        float v = g.alpha * s[j];
        if (g.beta != 0.f) v += g.beta * to_float(g.kind, c[j]);
        c[j] = from_float(g.kind, v);
      }
    }
  });
}

void run_row_kernels(const HalfGemm& g, GemmPath path, bool serial) {
  // A as contiguous rows, plus a float32 copy for the convert-and-FMA kernels.
  std::unique_ptr<Scratch> a_copy;
  const uint16_t* a = g.a;
  int64_t lda = g.M == 1 ? g.K : g.a_rs;
  if (g.a_cs != 1 && g.K > 1) {
    a_copy = std::make_unique<Scratch>(size_t(g.M * g.K) * 2);
    uint16_t* d = a_copy->as<uint16_t>();
    for (int64_t i = 0; i < g.M; ++i) {
      for (int64_t k = 0; k < g.K; ++k) d[i * g.K + k] = g.a[i * g.a_rs + k * g.a_cs];
    }
    a = d;
    lda = g.K;
  }
  // The FMA kernels read a float32 copy of A; vdpbf16ps reads A as it is.
  std::unique_ptr<Scratch> af;
  bool dp = path == GemmPath::avx512_bf16 || path == GemmPath::avx512_bf16_packed;
  if (!dp || g.kind != HalfKind::bf16) {
    af = std::make_unique<Scratch>(size_t(g.M * g.K) * 4);
    to_f32(g.kind, a, lda, 1, g.M, g.K, af->as<float>(), serial);
  }

  // B as (N, K) rows ("x @ W.T") or (K, N) rows; anything else is copied.
  std::unique_ptr<Scratch> b_copy;
  const uint16_t* b = g.b;
  bool b_trans;
  int64_t ldb;
  if (g.K > 1 && g.b_rs == 1) {
    b_trans = true;
    ldb = g.N == 1 ? g.K : g.b_cs;
  } else if (g.K == 1 && g.b_cs != 1 && g.N > 1) {
    b_trans = true;
    ldb = g.b_cs;
  } else if (g.b_cs == 1 || g.N == 1) {
    b_trans = false;
    ldb = g.K == 1 ? g.N : g.b_rs;
  } else {
    b_copy = std::make_unique<Scratch>(size_t(g.K * g.N) * 2);
    uint16_t* d = b_copy->as<uint16_t>();
    for (int64_t k = 0; k < g.K; ++k) {
      for (int64_t j = 0; j < g.N; ++j) d[k * g.N + j] = g.b[k * g.b_rs + j * g.b_cs];
    }
    b = d;
    b_trans = false;
    ldb = g.N;
  }

  RowKernelArgs r{g.kind, g.M, g.K, a, lda, af ? af->as<float>() : nullptr, b, ldb, b_trans, g.c, g.ldc, g.alpha, g.beta};
  // Work in 16-column units, at least ~64 KiB of B per task; each thread
  // takes one contiguous range, so a block of A stays in its L2 while all of
  // the thread's W rows pass (gemm_rows_avx512.h).
  int64_t units = (g.N + 15) / 16;
  size_t grain = std::max<size_t>(1, size_t((64 << 10) / (16 * g.K * 2 + 1)));
  run_parallel(size_t(units), grain, serial, [&](size_t u0, size_t u1) {
    int64_t n0 = int64_t(u0) * 16, n1 = std::min<int64_t>(int64_t(u1) * 16, g.N);
    switch (path) {
      case GemmPath::avx512_bf16_packed: {
        Scratch packed(size_t((g.K + 1) / 2 * kPackedBlockCols) * 4);
        return packed_gemm_avx512_bf16(r, n0, n1, packed.as<uint32_t>());
      }
      case GemmPath::avx512_bf16: return row_kernel_avx512_bf16(r, n0, n1);
      case GemmPath::avx512: return row_kernel_avx512(r, n0, n1);
      default: return row_kernel_avx2(r, n0, n1);
    }
  });
}

void run_amx(const HalfGemm& g, bool serial, bool out_f16 = false) {
  // D = P @ X on tiles. For x @ W.T (B's rows are W's rows, K contiguous)
  // the weights are P, read in place, and the product lands transposed;
  // otherwise A is P and B is packed.
  bool nt = g.K > 1 && g.b_rs == 1;
  int64_t R = nt ? g.N : g.M, Q = nt ? g.M : g.N, K = g.K;
  const uint16_t* p = nt ? g.b : g.a;
  int64_t ldp = nt ? (g.N == 1 ? K : g.b_cs) : (g.M == 1 ? K : g.a_rs);
  std::unique_ptr<Scratch> p_copy;
  if (!nt && g.a_cs != 1 && K > 1) {
    p_copy = std::make_unique<Scratch>(size_t(g.M * K) * 2);
    uint16_t* d = p_copy->as<uint16_t>();
    for (int64_t i = 0; i < g.M; ++i) {
      for (int64_t k = 0; k < K; ++k) d[i * K + k] = g.a[i * g.a_rs + k * g.a_cs];
    }
    p = d;
    ldp = K;
  }
  int64_t kp = (K + 31) / 32 * 32, kfull = K / 32, qpad = (Q + 31) / 32 * 32;
  int64_t nblk = (R + 31) / 32, rfull = R / 32 * 32;

  // The K tail of every row and the rows of a last partial block, zero padded.
  std::unique_ptr<Scratch> tail, pad;
  if (K % 32) {
    tail = std::make_unique<Scratch>(size_t(R * 32) * 2);
    uint16_t* t = tail->as<uint16_t>();
    std::memset(t, 0, size_t(R * 32) * 2);
    for (int64_t r = 0; r < R; ++r) std::memcpy(t + r * 32, p + r * ldp + kfull * 32, size_t(K - kfull * 32) * 2);
  }
  if (R % 32) {
    pad = std::make_unique<Scratch>(size_t(32 * kp) * 2);
    uint16_t* t = pad->as<uint16_t>();
    std::memset(t, 0, size_t(32 * kp) * 2);
    for (int64_t r = rfull; r < R; ++r) std::memcpy(t + (r - rfull) * kp, p + r * ldp, size_t(K) * 2);
  }

  Scratch x(size_t(qpad * kp) * 2);
  const uint16_t* xs = nt ? g.a : g.b;
  int64_t xrs = nt ? g.a_cs : g.b_rs, xcs = nt ? g.a_rs : g.b_cs;
  run_parallel(size_t(qpad / 16), 1, serial, [&](size_t j0, size_t j1) {
    amx_pack_vnni(xs, xrs, xcs, K, Q, kp, int64_t(j0) * 16, int64_t(j1) * 16, x.as<uint16_t>());
  });

  // K slice of the AMX loop nest in 32-wide chunks (UMA_AMX_KSLICE tunes it).
  static const int64_t slice = [] {
    const char* v = std::getenv("UMA_AMX_KSLICE");
    return v && std::atoi(v) > 0 ? int64_t(std::atoi(v)) : int64_t(16);
  }();
  AmxGemm a{R,       Q,   K,   kp,           p,          ldp, kfull, tail ? tail->as<uint16_t>() : nullptr,
            pad ? pad->as<uint16_t>() : nullptr, x.as<uint16_t>(), g.c, g.ldc, nt, g.alpha, g.beta, out_f16, slice};
  run_parallel(size_t(nblk), 1, serial, [&](size_t b0, size_t b1) { amx_gemm_bf16(a, int64_t(b0), int64_t(b1)); });
}

}  // namespace

void split_f16(const uint16_t* src, int64_t stride, int64_t n, uint16_t* hi, uint16_t* lo) {
  int64_t i = 0;
  if (stride == 1) {
    const __m256i round = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    auto to_bf16 = [&](__m256 f) {  // round to nearest even; NaN stays a (quiet) NaN
      __m256i u = _mm256_castps_si256(f);
      __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(round, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
      __m256i nan = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
      return _mm256_blendv_epi8(_mm256_srli_epi32(r, 16), nan, _mm256_castps_si256(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)));
    };
    auto store8 = [](uint16_t* d, __m256i v) {  // low halves of 8 dwords
      __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(p));
    };
    for (; i + 8 <= n; i += 8) {
      __m256 f = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
      __m256i h = to_bf16(f);
      __m256 rest = _mm256_sub_ps(f, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
      // Inf and NaN live in hi alone (lo would be NaN).
      __m256 finite = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.f), f), _mm256_set1_ps(INFINITY), _CMP_LT_OQ);
      rest = _mm256_and_ps(rest, finite);
      store8(hi + i, h);
      store8(lo + i, to_bf16(rest));
    }
  }
  for (; i < n; ++i) {
    float f = _cvtsh_ss(src[i * stride]);
    hi[i] = bfloat16_t(f).bits;
    float h = float(bfloat16_t::from_bits(hi[i]));
    lo[i] = std::isfinite(f) ? bfloat16_t(f - h).bits : 0;
  }
}

namespace {

// float16 on AMX: one bfloat16 product with K' = 4K (see gemm.h).
void run_amx_f16(const HalfGemm& g, bool serial) {
  const int64_t M = g.M, N = g.N, K = g.K, K4 = 4 * K;
  bool nt = K > 1 && g.b_rs == 1;
  Scratch a4(size_t(M * K4) * 2), b4(size_t(N * K4) * 2);
  uint16_t* ap = a4.as<uint16_t>();
  uint16_t* bp = b4.as<uint16_t>();
  // A' rows: [Ah | Al | Ah | Al].
  run_parallel(size_t(M), 1, serial, [&](size_t r0, size_t r1) {
    for (int64_t i = int64_t(r0); i < int64_t(r1); ++i) {
      uint16_t* row = ap + i * K4;
      split_f16(g.a + i * g.a_rs, K == 1 ? 1 : g.a_cs, K, row, row + K);
      std::memcpy(row + 2 * K, row, size_t(2 * K) * 2);
    }
  });
  HalfGemm h = g;
  h.kind = HalfKind::bf16;
  h.K = K4;
  h.a = ap, h.a_rs = K4, h.a_cs = 1;
  if (nt) {
    // W' rows: [Wh | Wh | Wl | Wl].
    run_parallel(size_t(N), 16, serial, [&](size_t r0, size_t r1) {
      for (int64_t j = int64_t(r0); j < int64_t(r1); ++j) {
        uint16_t* row = bp + j * K4;
        split_f16(g.b + j * g.b_cs, 1, K, row, row + 2 * K);
        std::memcpy(row + K, row, size_t(K) * 2);
        std::memcpy(row + 3 * K, row + 2 * K, size_t(K) * 2);
      }
    });
    h.b = bp, h.b_rs = 1, h.b_cs = K4;
  } else {
    // B' rows: [Bh; Bh; Bl; Bl].
    run_parallel(size_t(K), 16, serial, [&](size_t r0, size_t r1) {
      for (int64_t k = int64_t(r0); k < int64_t(r1); ++k) {
        split_f16(g.b + k * g.b_rs, N == 1 ? 1 : g.b_cs, N, bp + k * N, bp + (2 * K + k) * N);
        std::memcpy(bp + (K + k) * N, bp + k * N, size_t(N) * 2);
        std::memcpy(bp + (3 * K + k) * N, bp + (2 * K + k) * N, size_t(N) * 2);
      }
    });
    h.b = bp, h.b_rs = N, h.b_cs = 1;
  }
  run_amx(h, serial, true);
}

}  // namespace

void single_thread_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

bool half_path_available(HalfKind kind, GemmPath path) {
  const CpuFeatures& f = cpu_features();
  switch (path) {
    case GemmPath::automatic:
    case GemmPath::sgemm:
    case GemmPath::naive: return true;
    case GemmPath::avx2: return true;  // the floor of every tier
    case GemmPath::avx512: return f.has_avx512();
    case GemmPath::avx512_bf16:
    case GemmPath::avx512_bf16_packed: return kind == HalfKind::bf16 && f.has_avx512_bf16();
    case GemmPath::amx: return f.has_amx();
  }
  return false;
}

GemmPath half_path_for(const HalfGemm& g) {
  bool amx = half_path_available(g.kind, GemmPath::amx);
  bool dp = half_path_available(g.kind, GemmPath::avx512_bf16);
  GemmPath rows = dp ? GemmPath::avx512_bf16 : cpu_features().has_avx512() ? GemmPath::avx512 : GemmPath::avx2;
  if (amx) return g.M <= (g.kind == HalfKind::bf16 ? kRowKernelMaxMAmx : kRowKernelMaxMAmxF16) ? rows : GemmPath::amx;
  // vdpbf16ps row kernels at every M: on the device host capped at this tier
  // the packed tiles (avx512_bf16_packed) only tie them at M = 512 and lose
  // below (packing B costs ~8 ms per 4096^2 call; bench/RESULTS.md, ISA
  // tiers). They stay an explicit, tested path until they win on a CPU
  // without AMX (kPackedPays).
  if (dp) return kPackedPays && g.M >= kPackedMinM ? GemmPath::avx512_bf16_packed : rows;
  // The AVX-512 row kernels beat conversion + sgemm at every M measured (up
  // to 512; bench/RESULTS.md, ISA tiers); the AVX2 ones only up to M = 64.
  if (rows == GemmPath::avx512) return rows;
  return g.M <= kRowKernelMaxM ? rows : GemmPath::sgemm;
}

void gemm_half(const HalfGemm& g, GemmPath path, bool serial) {
  if (g.M == 0 || g.N == 0) return;
  if (path == GemmPath::automatic) {
    path = half_path_for(g);
  } else if (!half_path_available(g.kind, path)) {
    throw std::invalid_argument(std::string("[matmul] kernel path '") + path_name(path) +
                                "' is not available on this CPU for " +
                                (g.kind == HalfKind::bf16 ? "bfloat16" : "float16"));
  }
  if (g.K == 0) return scale_c(g);
  switch (path) {
    case GemmPath::naive: return gemm_half_naive(g);
    case GemmPath::sgemm: return run_sgemm(g, serial);
    case GemmPath::amx: return g.kind == HalfKind::bf16 ? run_amx(g, serial) : run_amx_f16(g, serial);
    default: return run_row_kernels(g, path, serial);
  }
}

void gemm_half_naive(const HalfGemm& g) {
  for (int64_t i = 0; i < g.M; ++i) {
    for (int64_t j = 0; j < g.N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < g.K; ++k) {
        s += double(to_float(g.kind, g.a[i * g.a_rs + k * g.a_cs])) *
             double(to_float(g.kind, g.b[k * g.b_rs + j * g.b_cs]));
      }
      uint16_t* c = g.c + i * g.ldc + j;
      double v = double(g.alpha) * s;
      if (g.beta != 0.f) v += double(g.beta) * to_float(g.kind, *c);
      *c = from_float(g.kind, float(v));
    }
  }
}

}  // namespace uma::cpu
