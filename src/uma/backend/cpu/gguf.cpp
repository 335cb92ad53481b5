// gguf_matmul and gguf_dequantize on the CPU: GGUF's block types multiplied
// as the file stores them (core/ops/quantized.h).
//
// x @ W.T takes one of four paths:
//   amx     bfloat16 or float16 results from kQmmAmxMinM rows of x on AMX
//           CPUs: panels of W decoded to bfloat16, AMX tiles (as
//           quantized_matmul's prefill; x, W and the result each rounded once
//           to bfloat16);
//   panels  Q4_0, Q4_1, Q8_0, Q4_K from panel_min_m rows of x:
//           quantized_matmul's int8 panel kernel reading the blocks (x
//           rounded per 32 values to int8, to int16 for Q8_0; each block, or
//           Q4_K's sub-block of 32, as scale * code + bias);
//   dot     up to kGgufDotMaxM rows of x with a type that has dot kernels
//           (gguf_kernels.h: the 32-value types, x rounded to int8 per 32,
//           and Q4_K, Q5_K, Q6_K, per 256): integer sums per block, each W
//           row read once per four rows of x;
//   sgemm   everything else: panels of W decoded to float32, OpenBLAS sgemm.
// The error of the dot and panel paths against matmul(x, gguf_dequantize(W))
// is the int8 path's bound (backend/cpu/quantized_matmul.cpp) with x's scale
// per 32 or 256 values and the block or sub-block scales in place of s_g;
// the decoded-panel paths round like the float and bfloat16 matmuls they
// call.
#include "uma/core/io/gguf.h"

#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/gguf_kernels.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/scratch.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/ops/quantized.h"
#include "uma/core/primitives/quantized.h"

namespace uma {

namespace {

// Rows of x up to which the dot kernels run (unless AMX tiles take the
// product). Q4_K 4096 x 4096, 2 threads: on the AVX2 EPYC (busy host) the
// dot kernels ran 1.01-1.19x of the same process's bfloat16 matmul at M =
// 256 and 512, decoded float32 panels + sgemm 0.90-1.04x; on Sapphire Rapids
// at the avx512_bf16 tier, M = 512: panels + sgemm 425 ms, while the dot
// kernels took 122 ms at M = 512 on the same host (avx2 tier).
constexpr int64_t kGgufDotMaxM = 512;
// Rows of x from which Q4_0, Q4_1, Q8_0 and Q4_K take the int8 panel kernel
// (at least kQmmPanelMinM). 4096 x 4096, 2 threads, AVX2 EPYC: Q4_0 panels
// 2.2 ms against the dot kernels' 2.6 at M = 8, 66 against 165 at M = 512;
// Q8_0 4.3 against 2.8 at M = 8, 8.1 against 7.2 at M = 24, 8.2 against 9.3
// at M = 32, 105 against 162 at M = 512; Q4_K (busy host) 4.4 against 5.9
// at M = 16, 23 against 40 at M = 128, 89 against 112 at M = 512, and no
// clear winner at M = 8 and 12.
int64_t panel_min_m(uint32_t type) {
  using io::gguf::GgmlType;
  const uint32_t stored = gguf_stored_type(type);
  return stored == uint32_t(GgmlType::Q8_0) ? 32 : stored == uint32_t(GgmlType::Q4_K) ? 16 : cpu::kQmmPanelMinM;
}

// Row n of W (rows of row_bytes of `type` blocks at w) as K float32.
void decode_row(uint32_t type, const uint8_t* w, int64_t row_bytes, int64_t n, int64_t K, float* out) {
  const uint8_t* row = w + n * row_bytes;
  if (gguf_stored_type(type) != type) {
    cpu::gguf_x8_dequantize_row_avx2(type, w, row_bytes, n, K, out);
  } else if (cpu::gguf_has_kernels(type)) {
    cpu::gguf_dequantize_row_avx2(type, row, K, out);
  } else if (cpu::gguf_is_legacy(type)) {
    cpu::gguf_legacy_dequantize_row_avx2(type, row, K, out);
  } else {
    io::gguf::dequantize(type, row, K, out);
  }
}

struct GgufProblem {
  uint32_t type;
  int64_t M, N, K, row_bytes;
  const float* x;  // (M, K)
  const uint8_t* w;
  float* y;  // (M, N)
};

bool is_x8(uint32_t type) { return gguf_stored_type(type) != type; }
bool is_legacy(uint32_t type) { return cpu::gguf_is_legacy(type) || is_x8(type); }
bool has_dot_kernels(uint32_t type) { return cpu::gguf_has_kernels(type) || is_legacy(type); }

// The types the int8 panel kernel of quantized_matmul reads (QmmInt8::gguf_type).
bool has_panel_kernel(uint32_t type) {
  using io::gguf::GgmlType;
  return type == uint32_t(GgmlType::Q4_0) || type == uint32_t(GgmlType::Q4_1) || type == uint32_t(GgmlType::Q8_0) ||
         is_x8(type) || type == uint32_t(GgmlType::Q4_K);
}

void gguf_dot(const GgufProblem& p) {
  const int64_t K = p.K;
  const bool legacy = is_legacy(p.type), x8 = is_x8(p.type);
  cpu::Scratch<int8_t> xq(size_t(p.M * K));
  cpu::Scratch<float> dx(size_t(p.M * K / (legacy ? 32 : 256))), xsum(size_t(p.M * K / 32));
  cpu::Scratch<int16_t> bsum(legacy ? 0 : size_t(p.M * K / 16));
  // Per row of x: Q4_0's 8 per pair of blocks, Q4_0x8's 1 per block (Q8_0x8: none used).
  const int64_t pair_floats = x8 ? K / 32 : K / 64 * 8;
  cpu::Scratch<int32_t> xo(legacy ? size_t(p.M * pair_floats) : 0);
  cpu::Scratch<float> dxp(legacy ? size_t(p.M * pair_floats) : 0);
  for (int64_t m = 0; m < p.M; ++m) {
    if (legacy) {
      cpu::gguf_prepare_x32_avx2(p.type, p.x + m * K, K, xq.data() + m * K, dx.data() + m * K / 32,
                                 xsum.data() + m * K / 32, xo.data() + m * pair_floats,
                                 dxp.data() + m * pair_floats);
    } else {
      cpu::gguf_prepare_x_avx2(p.x + m * K, K, xq.data() + m * K, dx.data() + m * K / 256,
                               xsum.data() + m * K / 32, bsum.data() + m * K / 16);
    }
  }
  cpu::GgufDot a{p.type, p.M, K, xq.data(), dx.data(), xsum.data(), bsum.data(), p.w, p.row_bytes, p.y, p.N,
                 xo.data(), dxp.data()};
  // Rows of W in chunks taken from a shared counter (a thread that starts
  // late takes fewer), each chunk a long sequential read.
  const size_t row_cost = size_t(p.row_bytes + p.M * p.K);
  const size_t grain = std::max<size_t>(4, cpu::grain_for_bytes(row_cost));
  const size_t threads = std::clamp<size_t>(size_t(p.N) / grain, 1, size_t(cpu::num_threads()));
  // (Whole groups of eight rows for the x8 layouts: N is a multiple of 8.)
  const int64_t chunk = (std::max<int64_t>(16, p.N / int64_t(8 * threads)) + 7) / 8 * 8;
  const int64_t chunks = (p.N + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  cpu::parallel_for(threads, 1, [&](size_t, size_t) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      const int64_t n0 = c * chunk, n1 = std::min(p.N, (c + 1) * chunk);
      if (legacy) {
        cpu::gguf_legacy_dot_avx2(a, n0, n1);
      } else {
        cpu::gguf_dot_avx2(a, n0, n1);
      }
    }
  });
}

// The types of has_panel_kernel from panel_min_m rows of x: quantized_matmul's
// int8 panel kernel on the blocks (x rounded per 32 to int8 for the 4-bit
// types, int16 for Q8_0; the bias terms exact in x).
void gguf_int_panels(const GgufProblem& p) {
  const int bits = *io::gguf::affine_bits(gguf_stored_type(p.type));  // 4 (Q4_0, Q4_1, Q4_K) or 8 (Q8_0)
  // x as int16 for Q8_0, or int8 on the VNNI panel kernel (gguf_panel_int8_x).
  const bool int8_x = bits == 8 && cpu::gguf_panel_int8_x(p.type);
  const int x_bits = int8_x ? 4 : bits;
  const int64_t K = p.K, G = K / 32;
  cpu::Scratch<int8_t> xq(x_bits == 4 ? size_t(p.M * K) : 0);
  cpu::Scratch<int16_t> xw(x_bits == 8 ? size_t(p.M * K) : 0);
  cpu::Scratch<float> dx(size_t(p.M * G)), xsum(size_t(p.M * G));
  cpu::parallel_for(size_t(p.M), cpu::grain_for_bytes(size_t(K) * 8), [&](size_t b, size_t e) {
    for (size_t m = b; m < e; ++m) {
      cpu::qmm_int8_prepare_avx2(p.x + m * K, K, x_bits, 32, 0, x_bits == 4 ? xq.data() + m * K : nullptr,
                                 x_bits == 8 ? xw.data() + m * K : nullptr, dx.data() + m * G, xsum.data() + m * G);
    }
  });
  cpu::QmmInt8 a{bits, 32, p.M, K, xq.data(), xw.data(), dx.data(), xsum.data(),
                 reinterpret_cast<const uint32_t*>(p.w), nullptr, nullptr, 0, p.y, p.N, p.type, int8_x};
  cpu::qmm_int8_parallel(a, size_t(p.row_bytes), p.N, false);
}

// Rows [n0, n0 + nb) of W decoded into `out` (nb x K of T), on the pool.
template <typename T>
void decode_panel(const GgufProblem& p, int64_t n0, int64_t nb, T* out) {
  cpu::parallel_for(size_t(nb), cpu::grain_for_bytes(size_t(p.K) * 4), [&](size_t b, size_t e) {
    thread_local std::vector<float> row;
    row.resize(size_t(p.K));
    for (size_t i = b; i < e; ++i) {
      const int64_t n = n0 + int64_t(i);
      if constexpr (std::is_same_v<T, float>) {
        decode_row(p.type, p.w, p.row_bytes, n, p.K, out + int64_t(i) * p.K);
      } else {
        decode_row(p.type, p.w, p.row_bytes, n, p.K, row.data());
        cpu::store_f32(row.data(), out + int64_t(i) * p.K, p.K);
      }
    }
  });
}

void gguf_sgemm(const GgufProblem& p) {
  const int64_t panel = std::min(std::max<int64_t>((int64_t(16) << 20) / (p.K * 4), 16), p.N);
  cpu::Scratch<float> wp(size_t(panel * p.K));
  for (int64_t n0 = 0; n0 < p.N; n0 += panel) {
    const int64_t nb = std::min(panel, p.N - n0);
    decode_panel(p, n0, nb, wp.data());
    cpu::blas_sgemm(false, true, p.M, nb, p.K, 1.f, p.x, p.K, wp.data(), p.K, 0.f, p.y + n0, p.N);
  }
}

// bfloat16 or float16 results on AMX CPUs: panels of W decoded to bfloat16
// for AMX tiles.
void gguf_amx(const GgufProblem& p) {
  cpu::amx_bf16_panels(p.x, p.M, p.N, p.K, p.y,
                       [&](int64_t n0, int64_t nb, bfloat16_t* out) { decode_panel(p, n0, nb, out); });
}

}  // namespace

bool cpu::gguf_panel_int8_x(uint32_t type) {
  return gguf_stored_type(type) != uint32_t(io::gguf::GgmlType::Q8_0) || qmm_vnni_panels();
}

void GgufMatmul::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array x = cpu::row_major(inputs[0]);
  array w = cpu::row_major(inputs[1]);
  GgufProblem p{type_,
                0,
                w.shape(0),
                x.shape(-1),
                w.shape(1),
                nullptr,
                static_cast<const uint8_t*>(w.raw_ptr()),
                nullptr};
  p.M = int64_t(x.size()) / p.K;
  cpu::Scratch<float> xf(size_t(p.M * p.K)), yf(size_t(p.M * p.N));
  p.x = xf.data(), p.y = yf.data();
  cpu::dispatch_float(out.dtype(), "gguf_matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, double>) {
      cpu::load_f32(static_cast<const T*>(x.raw_ptr()), xf.data(), p.M * p.K);
      // float16 too: x rounded to bfloat16 costs about what rounding it to
      // int8 per 32 (the panel and dot paths) does, and the tiles run 2-4x
      // faster than the integer kernels there.
      const bool amx = !std::is_same_v<T, float> && p.M >= cpu::kQmmAmxMinM &&
                       cpu::half_path_available(cpu::HalfKind::bf16, cpu::GemmPath::amx);
      if (amx) {
        gguf_amx(p);
      } else if (has_panel_kernel(type_) && p.M >= panel_min_m(type_)) {
        gguf_int_panels(p);
      } else if (has_dot_kernels(type_) && p.M <= kGgufDotMaxM) {
        gguf_dot(p);
      } else {
        gguf_sgemm(p);
      }
      cpu::store_f32(yf.data(), static_cast<T*>(out.raw_ptr()), p.M * p.N);
    }
  });
}

void GgufDequantize::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  array w = cpu::row_major(inputs[0]);
  const int64_t row_bytes = w.shape(-1), K = out.shape(-1), rows = int64_t(out.size()) / K;
  const auto* src = static_cast<const uint8_t*>(w.raw_ptr());
  cpu::dispatch_float(out.dtype(), "gguf_dequantize", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, double>) {
      GgufProblem p{type_, 0, rows, K, row_bytes, nullptr, src, nullptr};
      decode_panel(p, 0, rows, static_cast<T*>(out.raw_ptr()));
    }
  });
}

}  // namespace uma
