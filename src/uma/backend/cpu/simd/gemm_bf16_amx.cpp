// bfloat16 products on AMX tiles (Sapphire Rapids and later): TDPBF16PS
// multiplies a 16x32 bf16 tile by a 32x16 tile of VNNI pairs into a 16x16
// float32 tile. Blocks of 32x32 outputs use all eight tiles: C 0-3, P 4-5,
// X 6-7.
//
// D (R, Q) = P (R, K) @ X (K, Q): P's rows load straight from memory (for
// x @ W.T they are the weight rows, so weights are never repacked); X is
// packed into VNNI pairs by amx_pack_vnni. A thread takes a range of 32-row
// blocks of P, grouped so that the group (~1 MiB) stays in L2 while every
// 32-column block of X streams past it.
//
// Compiled with AMX flags: everything here, and the helpers of
// avx512_half.h, has internal linkage, so no AVX-512/AMX instruction leaks
// into baseline paths.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* values.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/simd/avx512_half.h"

namespace uma::cpu {

namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// c[0:16] (masked) = alpha * v + beta * c, c in bfloat16 or float16.
inline void store16(uint16_t* c, __m512 v, __mmask16 m, float alpha, float beta, bool f16) {
  v = _mm512_mul_ps(v, _mm512_set1_ps(alpha));
  if (beta != 0.f) {
    __m256i raw = _mm256_maskz_loadu_epi16(m, c);
    __m512 old = f16 ? _mm512_cvtph_ps(raw) : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
    v = _mm512_fmadd_ps(old, _mm512_set1_ps(beta), v);
  }
  __m256i out = f16 ? _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) : pack_bf16(v);
  _mm256_mask_storeu_epi16(c, m, out);
}

// Writes the 32x32 float block s (row r of P, column q of X) to the output.
void write_block(const AmxGemm& g, const float* s, int64_t r0, int64_t q0) {
  int64_t rn = min64(32, g.R - r0), qn = min64(32, g.Q - q0);
  if (!g.c_trans) {
    for (int64_t r = 0; r < rn; ++r) {
      uint16_t* c = g.c + (r0 + r) * g.ldc + q0;
      store16(c, _mm512_load_ps(s + r * 32), mask16(qn), g.alpha, g.beta, g.out_f16);
      if (qn > 16) store16(c + 16, _mm512_load_ps(s + r * 32 + 16), mask16(qn - 16), g.alpha, g.beta, g.out_f16);
    }
    return;
  }
  // Transposed: output row q holds column q of s.
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(32));
  for (int64_t q = 0; q < qn; ++q) {
    uint16_t* c = g.c + (q0 + q) * g.ldc + r0;
    store16(c, _mm512_i32gather_ps(rows, s + q, 4), mask16(rn), g.alpha, g.beta, g.out_f16);
    if (rn > 16) store16(c + 16, _mm512_i32gather_ps(rows, s + 16 * 32 + q, 4), mask16(rn - 16), g.alpha, g.beta, g.out_f16);
  }
}

// One 32x32 block over the K chunks [c0, c1): C tiles come from `acc` (or
// start at zero) and go back to `acc`, or to the output after the last chunk.
inline void block_chunks(const AmxGemm& g, int64_t pb, int64_t qb, int64_t c0, int64_t c1, float* acc) {
  const int64_t nfull = g.R / 32, kchunks = g.kp / 32;
  const uint16_t* p = g.p_pad;
  int64_t ldp = g.kp, kf = kchunks;
  const uint16_t* tail = nullptr;
  if (pb < nfull) {
    p = g.p + pb * 32 * g.ldp;
    ldp = g.ldp;
    kf = g.kfull;
    if (kf < kchunks) tail = g.p_tail + pb * 32 * 32;
  }
  const uint16_t* x0 = g.x + 2 * qb * g.kp * 16;
  const uint16_t* x1 = x0 + g.kp * 16;
  const long stride = long(ldp * 2);
  if (c0 == 0) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  } else {
    _tile_loadd(0, acc, 128);
    _tile_loadd(1, acc + 16, 128);
    _tile_loadd(2, acc + 16 * 32, 128);
    _tile_loadd(3, acc + 16 * 32 + 16, 128);
  }
  int64_t cm = c1 < kf ? c1 : kf;
  for (int64_t kk = c0; kk < cm; ++kk) {
    _tile_loadd(4, p + kk * 32, stride);
    _tile_loadd(5, p + 16 * ldp + kk * 32, stride);
    _tile_loadd(6, x0 + kk * 512, 64);
    _tile_loadd(7, x1 + kk * 512, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  if (tail && c1 > kf) {
    _tile_loadd(4, tail, 64);
    _tile_loadd(5, tail + 16 * 32, 64);
    _tile_loadd(6, x0 + kf * 512, 64);
    _tile_loadd(7, x1 + kf * 512, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 16, 128);
  _tile_stored(2, acc + 16 * 32, 128);
  _tile_stored(3, acc + 16 * 32 + 16, 128);
  if (c1 == kchunks) write_block(g, acc, pb * 32, qb * 32);
}

}  // namespace

bool amx_thread_init() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  // GCC 12's _tile_loadconfig declares too small an operand and lets the
  // stores above be dropped; the barrier and a full-size memory operand keep
  // them.
  asm volatile("" ::: "memory");
  asm volatile("ldtilecfg %0" ::"m"(cfg));
  return true;
}

// Loop nest per thread: groups of P blocks (~1 MiB, kept in L2) x column
// blocks of X x K in slices of kSliceChunks x 32 x P blocks of the group.
// A 32-column slice of X (<= 32 KiB) then stays in L1 while every P block
// of the group passes it: per 4 TDPBF16PS, two tile loads from L1 and two
// from L2. Partial sums wait in a per-thread buffer between K slices.
void amx_gemm_bf16(const AmxGemm& g, int64_t blk0, int64_t blk1) {
  constexpr int64_t kMaxGroup = 16;
  const int64_t kSliceChunks = g.slice_chunks > 0 ? g.slice_chunks : 16;
  alignas(64) static thread_local float acc[kMaxGroup * 32 * 32];
  amx_thread_init();
  const int64_t kchunks = g.kp / 32, qblocks = (g.Q + 31) / 32;
  int64_t group = (int64_t(1) << 20) / (32 * g.kp * 2);
  group = group < 1 ? 1 : group > kMaxGroup ? kMaxGroup : group;
  for (int64_t g0 = blk0; g0 < blk1; g0 += group) {
    int64_t g1 = min64(g0 + group, blk1);
    for (int64_t qb = 0; qb < qblocks; ++qb) {
      for (int64_t c0 = 0; c0 < kchunks; c0 += kSliceChunks) {
        int64_t c1 = min64(c0 + kSliceChunks, kchunks);
        for (int64_t pb = g0; pb < g1; ++pb) block_chunks(g, pb, qb, c0, c1, acc + (pb - g0) * 1024);
      }
    }
  }
  _tile_release();
}

void amx_pack_vnni(const uint16_t* src, int64_t rs, int64_t cs, int64_t K, int64_t Q, int64_t kp, int64_t q0,
                   int64_t q1, uint16_t* dst) {
  for (int64_t j = q0 / 16; j * 16 < q1; ++j) {
    uint16_t* d = dst + j * kp * 16;
    int64_t qn = min64(16, Q - j * 16);  // may be <= 0: an all-zero padding panel
    if (qn <= 0) {
      std::memset(d, 0, size_t(kp * 16) * 2);
      continue;
    }
    const uint16_t* s = src + j * 16 * cs;
    int64_t i = 0;
    if (cs == 1) {
      // X's rows hold the columns: interleave rows 2i and 2i+1.
      const __m512i idx = _mm512_setr_epi32(0x00200000, 0x00210001, 0x00220002, 0x00230003, 0x00240004, 0x00250005,
                                            0x00260006, 0x00270007, 0x00280008, 0x00290009, 0x002a000a, 0x002b000b,
                                            0x002c000c, 0x002d000d, 0x002e000e, 0x002f000f);
      __mmask16 m = mask16(qn);
      for (; 2 * i + 1 < K; ++i) {
        __m512i r0 = _mm512_castsi256_si512(_mm256_maskz_loadu_epi16(m, s + 2 * i * rs));
        __m512i r1 = _mm512_castsi256_si512(_mm256_maskz_loadu_epi16(m, s + (2 * i + 1) * rs));
        _mm512_storeu_si512(d + i * 32, _mm512_permutex2var_epi16(r0, idx, r1));
      }
    } else if (rs == 1) {
      // X's columns are contiguous (x @ W.T: X = x^T): a pair is one dword,
      // and a panel row gathers that dword from 16 columns.
      const __m512i offs = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(int32_t(cs * 2)));
      __mmask16 m = mask16(qn);
      for (; 2 * i + 1 < K; ++i) {
        _mm512_storeu_si512(d + i * 32, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, s + 2 * i, 1));
      }
    }
    for (; i < kp / 2; ++i) {  // remaining pairs (generic strides, odd K tail, zero padding)
      for (int64_t c = 0; c < 16; ++c) {
        int64_t k0 = 2 * i, k1 = 2 * i + 1;
        bool in = c < qn;
        d[i * 32 + 2 * c] = in && k0 < K ? s[k0 * rs + c * cs] : 0;
        d[i * 32 + 2 * c + 1] = in && k1 < K ? s[k1 * rs + c * cs] : 0;
      }
    }
  }
}

}  // namespace uma::cpu
