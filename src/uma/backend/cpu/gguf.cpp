// gguf_matmul and gguf_dequantize on the CPU: GGUF's block types multiplied
// as the file stores them (core/ops/quantized.h).
//
// x @ W.T takes one of three paths:
//   dot     up to kGgufDotMaxM rows of x (decode, short prompts) with a type
//           that has dot kernels (Q4_K, Q5_K, Q6_K; gguf_kernels.h): x rounded
//           to int8 per 256 values, integer sums per block, each W row read
//           once per four rows of x;
//   amx     bfloat16 results from kQmmAmxMinM rows of x on AMX CPUs: panels of
//           W decoded to bfloat16, AMX tiles (as quantized_matmul's prefill);
//   sgemm   everything else: panels of W decoded to float32, OpenBLAS sgemm.
// The error of the dot path against matmul(x, gguf_dequantize(W)) is the
// int8 path's bound (backend/cpu/quantized_matmul.cpp) with x's scale per
// 256 values and the sub-block scales d * sc in place of s_g; the panel paths round like the float and
// bfloat16 matmuls they call.
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

// One row of K values of `type` blocks as float32.
void decode_row(uint32_t type, const uint8_t* row, int64_t K, float* out) {
  if (cpu::gguf_has_kernels(type)) {
    cpu::gguf_dequantize_row_avx2(type, row, K, out);
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

void gguf_dot(const GgufProblem& p) {
  const int64_t K = p.K;
  cpu::Scratch<int8_t> xq(size_t(p.M * K));
  cpu::Scratch<float> dx(size_t(p.M * K / 256)), xsum(size_t(p.M * K / 32));
  cpu::Scratch<int16_t> bsum(size_t(p.M * K / 16));
  for (int64_t m = 0; m < p.M; ++m) {
    cpu::gguf_prepare_x_avx2(p.x + m * K, K, xq.data() + m * K, dx.data() + m * K / 256, xsum.data() + m * K / 32,
                             bsum.data() + m * K / 16);
  }
  cpu::GgufDot a{p.type, p.M, K, xq.data(), dx.data(), xsum.data(), bsum.data(), p.w, p.row_bytes, p.y, p.N};
  // Rows of W in chunks taken from a shared counter (a thread that starts
  // late takes fewer), each chunk a long sequential read.
  const size_t row_cost = size_t(p.row_bytes + p.M * p.K);
  const size_t grain = std::max<size_t>(4, cpu::grain_for_bytes(row_cost));
  const size_t threads = std::clamp<size_t>(size_t(p.N) / grain, 1, size_t(cpu::num_threads()));
  const int64_t chunk = std::max<int64_t>(16, p.N / int64_t(8 * threads));
  const int64_t chunks = (p.N + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  cpu::parallel_for(threads, 1, [&](size_t, size_t) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      cpu::gguf_dot_avx2(a, c * chunk, std::min(p.N, (c + 1) * chunk));
    }
  });
}

// Rows [n0, n0 + nb) of W decoded into `out` (nb x K of T), on the pool.
template <typename T>
void decode_panel(const GgufProblem& p, int64_t n0, int64_t nb, T* out) {
  cpu::parallel_for(size_t(nb), cpu::grain_for_bytes(size_t(p.K) * 4), [&](size_t b, size_t e) {
    thread_local std::vector<float> row;
    row.resize(size_t(p.K));
    for (size_t i = b; i < e; ++i) {
      const uint8_t* src = p.w + (n0 + int64_t(i)) * p.row_bytes;
      if constexpr (std::is_same_v<T, float>) {
        decode_row(p.type, src, p.K, out + int64_t(i) * p.K);
      } else {
        decode_row(p.type, src, p.K, row.data());
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

// bfloat16 results on AMX CPUs: panels of W decoded to bfloat16 for AMX
// tiles (the result rounds to bfloat16 anyway).
void gguf_amx(const GgufProblem& p) {
  cpu::amx_bf16_panels(p.x, p.M, p.N, p.K, p.y,
                       [&](int64_t n0, int64_t nb, bfloat16_t* out) { decode_panel(p, n0, nb, out); });
}

}  // namespace

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
      const bool amx = std::is_same_v<T, bfloat16_t> && p.M >= cpu::kQmmAmxMinM &&
                       cpu::half_path_available(cpu::HalfKind::bf16, cpu::GemmPath::amx);
      if (amx) {
        gguf_amx(p);
      } else if (cpu::gguf_has_kernels(type_) && p.M <= kGgufDotMaxM) {
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
