// What the integer quantized_matmul kernels (qmm_int8_avx2.cpp,
// qmm_int8_avx512_bf16.cpp) share: reading a row's scales and biases as
// float32 and the loop that walks [0, M) x [n0, n1) in tiles. Internal
// linkage, so every ISA tier compiles its own copy (cmake/check_isa.py).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "uma/backend/cpu/quantized.h"

namespace uma::cpu {
namespace {

// Element i of scales or biases stored as format 0 float32, 1 float16, 2 bfloat16.
inline float qmm_param(const void* p, int64_t i, int format) {
  if (format == 0) return static_cast<const float*>(p)[i];
  uint16_t h = static_cast<const uint16_t*>(p)[i];
  if (format == 1) return _cvtsh_ss(h);
  uint32_t u = uint32_t(h) << 16;  // bfloat16: the high half of a float32
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Elements [i0, i0 + n) of scales or biases as float32 into out.
inline void qmm_params(const void* p, int64_t i0, int64_t n, int format, float* out) {
  int64_t i = 0;
  if (format == 0) {
    std::memcpy(out, static_cast<const float*>(p) + i0, size_t(n) * sizeof(float));
    return;
  }
  const uint16_t* h = static_cast<const uint16_t*>(p) + i0;
  for (; i + 8 <= n; i += 8) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    __m256 f = format == 1 ? _mm256_cvtph_ps(v) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v), 16));
    _mm256_storeu_ps(out + i, f);
  }
  for (; i < n; ++i) out[i] = qmm_param(p, i0 + i, format);
}

// Calls tile(rn, rm, m, n, s, b, sd) for tiles of rm <= RM rows of x and rn
// rows of W (rn a std::integral_constant of RN, 2 or 1), with s and b the
// rn rows' scales and biases in float32 (G each) and sd scratch after them.
// Rows of x go in passes of about `x_bytes_per_pass` of codes (kept in
// cache while the thread's rows of W go by); scratch holds
// qmm_int8_scratch floats.
template <int RN, typename Tile>
void qmm_tiles(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch, int RM, int64_t x_bytes_per_pass,
               Tile&& tile) {
  const int64_t G = a.K / a.group_size;
  const int64_t MB = std::max<int64_t>(RM, x_bytes_per_pass / std::max<int64_t>(a.K, 1) / RM * RM);
  float* s = scratch;
  float* b = s + RN * G;
  float* sd = b + RN * G;
  for (int64_t mb = 0; mb < a.M; mb += MB) {
    const int64_t me = std::min(a.M, mb + MB);
    for (int64_t n = n0; n < n1;) {
      const int rn = n1 - n >= RN ? RN : n1 - n >= 2 ? 2 : 1;
      qmm_params(a.scales, n * G, rn * G, a.format, s);
      qmm_params(a.biases, n * G, rn * G, a.format, b);
      for (int64_t m = mb; m < me; m += RM) {
        const int rm = int(std::min<int64_t>(RM, me - m));
        if (rn == RN) {
          tile(std::integral_constant<int, RN>{}, rm, m, n, s, b, sd);
        } else if (rn == 2) {
          tile(std::integral_constant<int, 2>{}, rm, m, n, s, b, sd);
        } else {
          tile(std::integral_constant<int, 1>{}, rm, m, n, s, b, sd);
        }
      }
      n += rn;
    }
  }
}

// Kernel::tile<BITS, GS, rm, RN> for a run-time rm in 1..4.
template <typename Kernel, int BITS, int GS, int RN>
void qmm_tile_rows(const QmmInt8& a, int rm, int64_t m0, int64_t n0, const float* s, const float* b, float* sd) {
  switch (rm) {
    case 1: return Kernel::template tile<BITS, GS, 1, RN>(a, m0, n0, s, b, sd);
    case 2: return Kernel::template tile<BITS, GS, 2, RN>(a, m0, n0, s, b, sd);
    case 3: return Kernel::template tile<BITS, GS, 3, RN>(a, m0, n0, s, b, sd);
    default: return Kernel::template tile<BITS, GS, 4, RN>(a, m0, n0, s, b, sd);
  }
}

// A panel kernel's 8 sums for one row of x into y[0, r).
inline void qmm_store_panel_row(float* y, __m256 v, int r) {
  if (r == 8) return _mm256_storeu_ps(y, v);
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  std::memcpy(y, t, size_t(r) * sizeof(float));
}

// The pass structure of the prefill panel kernels (AVX2's and VNNI's): rows
// of x in passes of about 256 KiB of codes (x_bytes each; kept in L2 while
// the panels go by); panels of 8 rows of W repacked by
// qmm_panel_repack_avx2 (codes as bytes when `bytes`), then rows(rm, m, pw,
// ps, pb, y, r) for rm <= RM rows of x from m against the panel's r rows.
// Byte panels over several passes are repacked once, all of [n0, n1) into
// `scratch` (sized by qmm_int8_scratch), and kept for every pass, when
// qmm_kept_rows takes them all; otherwise each panel is repacked into
// `scratch` as it is used, once per pass.
template <int RM, typename Rows>
void qmm_panel_passes(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch, bool bytes, int64_t x_bytes,
                      Rows&& rows) {
  const int64_t K = a.K, G = K / a.group_size;
  const int64_t code_floats = 2 * K * (bytes ? 1 : 2);  // 8 K codes, as bytes or int16
  const int64_t MB = std::max<int64_t>(RM, (int64_t(256) << 10) / (K * x_bytes) / RM * RM);
  const int64_t panels = (n1 - n0 + 7) / 8;
  auto pass = [&](int64_t mb, int64_t me, int64_t n, const float* panel) {
    const uint8_t* pw = reinterpret_cast<const uint8_t*>(panel);
    const float* ps = panel + code_floats;
    const float* pb = ps + 8 * G;
    const int r = int(std::min<int64_t>(8, n1 - n));
    for (int64_t m = mb; m < me; m += RM) {
      rows(int(std::min<int64_t>(RM, me - m)), m, pw, ps, pb, a.y + m * a.ldy + n, r);
    }
  };
  auto repack = [&](int64_t n, float* panel) {
    float* ps = panel + code_floats;
    qmm_panel_repack_avx2(a, n, int(std::min<int64_t>(8, n1 - n)), bytes, reinterpret_cast<uint8_t*>(panel), ps,
                          ps + 8 * G);
  };
  // int16 panels (8-bit W against int16 x) are twice the bytes and cheap to
  // repack from Q8_0x8: repacked per pass (Q8_0 pp512 was 6% slower kept).
  if (a.M <= MB || panels == 1 || !bytes || qmm_kept_rows(K, a.group_size, n1 - n0) < n1 - n0) {
    for (int64_t mb = 0; mb < a.M; mb += MB) {
      for (int64_t n = n0; n < n1; n += 8) {
        repack(n, scratch);
        pass(mb, std::min(a.M, mb + MB), n, scratch);
      }
    }
    return;
  }
  // Each panel's codes, scales and biases, one after the other; a repack's
  // temporaries (16 G floats after its biases) fall in the next panel's
  // room, written after, and after the last in the 16 G floats at the end.
  const int64_t stride = code_floats + 16 * G;
  for (int64_t p = 0; p < panels; ++p) repack(n0 + 8 * p, scratch + p * stride);
  for (int64_t mb = 0; mb < a.M; mb += MB) {
    const int64_t me = std::min(a.M, mb + MB);
    for (int64_t p = 0; p < panels; ++p) pass(mb, me, n0 + 8 * p, scratch + p * stride);
  }
}

// Kernel::run<BITS, GS> for the problem's bits (4, 8) and group size.
template <typename Kernel>
void qmm_dispatch(const QmmInt8& a, int64_t n0, int64_t n1, float* scratch) {
  if (a.bits == 4) {
    if (a.group_size == 32) return Kernel::template run<4, 32>(a, n0, n1, scratch);
    if (a.group_size == 64) return Kernel::template run<4, 64>(a, n0, n1, scratch);
    return Kernel::template run<4, 128>(a, n0, n1, scratch);
  }
  if (a.group_size == 32) return Kernel::template run<8, 32>(a, n0, n1, scratch);
  if (a.group_size == 64) return Kernel::template run<8, 64>(a, n0, n1, scratch);
  return Kernel::template run<8, 128>(a, n0, n1, scratch);
}

}  // namespace
}  // namespace uma::cpu
