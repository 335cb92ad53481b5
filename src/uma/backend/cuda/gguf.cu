// GGUF's K-quant blocks (Q4_K, Q5_K, Q6_K; backend/cpu/gguf_kernels.h has
// the layouts) on the GPU, read as the file stores them: gguf_dequantize,
// and gguf_matmul as a matrix-vector kernel for decode (one warp per row of
// W, each lane decoding runs of 32 values in registers) or, for more rows of
// x, W decoded into x's dtype and one cuBLAS product. Other block types run
// on the CPU.
#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/qmm_utils.cuh"
#include "uma/backend/cuda/utils.cuh"
#include "uma/core/primitives/quantized.h"

namespace uma {

namespace {

using cuda::convert;

// ggml_type ids (io::gguf::GgmlType) and block bytes.
constexpr uint32_t kQ4K = 12, kQ5K = 13, kQ6K = 14;
template <uint32_t TYPE>
constexpr int64_t kBlockBytes = TYPE == kQ4K ? 144 : TYPE == kQ5K ? 176 : 210;

__device__ inline float f16_at(const uint8_t* p) {
  return __half2float(__ushort_as_half(uint16_t(p[0] | (p[1] << 8))));
}

// Run r (0..7) of 32 values of a block: codes q[32] and, per value, the
// affine form scale * q + bias (Q4_K, Q5_K: one scale and bias for the run;
// Q6_K: two scales, one per 16 values, and bias -32 * scale).
struct Run {
  uint8_t q[32];
  float scale[2], bias[2];
};

template <uint32_t TYPE>
__device__ inline void decode_run(const uint8_t* b, int r, Run& run) {
  if constexpr (TYPE == kQ4K || TYPE == kQ5K) {
    const uint8_t* sc = b + 4;
    int s, m;
    if (r < 4) {
      s = sc[r] & 63, m = sc[r + 4] & 63;
    } else {
      s = (sc[r + 4] & 0xF) | ((sc[r - 4] >> 6) << 4);
      m = (sc[r + 4] >> 4) | ((sc[r] >> 6) << 4);
    }
    const float d = f16_at(b), dmin = f16_at(b + 2);
    // As the CPU decodes: d * sc and -(dmin * m), each rounded once.
    run.scale[0] = run.scale[1] = __fmul_rn(d, float(s));
    run.bias[0] = run.bias[1] = -__fmul_rn(dmin, float(m));
    const uint8_t* qs = b + (TYPE == kQ5K ? 48 : 16) + 32 * (r / 2);
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      uint8_t q = r % 2 ? qs[l] >> 4 : qs[l] & 0xF;
      if constexpr (TYPE == kQ5K) q |= ((b[16 + l] >> r) & 1) << 4;
      run.q[l] = q;
    }
  } else {
    const int h = r / 4, rr = r % 4;
    const uint8_t* ql = b + 64 * h + (rr % 2) * 32;
    const uint8_t* qh = b + 128 + 32 * h;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192) + 8 * h + 2 * rr;
    const float d = f16_at(b + 208);
#pragma unroll
    for (int t = 0; t < 2; ++t) {
      run.scale[t] = __fmul_rn(d, float(sc[t]));
      run.bias[t] = 0.f;  // Q6_K's -32 is applied to the codes
    }
#pragma unroll
    for (int l = 0; l < 32; ++l) {
      const int lo = rr < 2 ? ql[l] & 0xF : ql[l] >> 4;
      run.q[l] = uint8_t(lo | (((qh[l] >> (2 * rr)) & 3) << 4));
    }
  }
}

// out[row, 32u + l] for every run u of every row: one thread a run.
template <uint32_t TYPE, typename O>
__global__ void gguf_dequantize_kernel(const uint8_t* w, O* out, int64_t rows, int64_t K, int64_t row_bytes) {
  const int64_t runs = K / 32;
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= rows * runs) return;
  const int64_t row = i / runs, u = i - row * runs;
  Run run;
  decode_run<TYPE>(w + row * row_bytes + (u / 8) * kBlockBytes<TYPE>, int(u % 8), run);
  O* o = out + row * K + u * 32;
#pragma unroll
  for (int l = 0; l < 32; ++l) {
    float v;
    if constexpr (TYPE == kQ6K) {
      v = __fmul_rn(run.scale[l / 16], float(int(run.q[l]) - 32));
    } else {
      v = __fadd_rn(__fmul_rn(run.scale[0], float(run.q[l])), run.bias[0]);
    }
    o[l] = convert<O>(v);
  }
}

// out[m, n] = x[m] . W[n] for MT rows of x: a warp per row n of W, lanes
// taking runs of 32 values in turn.
template <uint32_t TYPE, typename T, int MT>
__global__ void gguf_qmv_kernel(const T* x, const uint8_t* w, T* out, int64_t rows, int64_t N, int64_t K,
                                int64_t row_bytes) {
  const int lane = threadIdx.x & 31;
  const int64_t n = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int64_t r0 = int64_t(blockIdx.y) * MT;
  if (n >= N) return;
  const uint8_t* wrow = w + n * row_bytes;
  float acc[MT];
#pragma unroll
  for (int m = 0; m < MT; ++m) acc[m] = 0.f;
  for (int64_t u = lane; u < K / 32; u += 32) {
    Run run;
    decode_run<TYPE>(wrow + (u / 8) * kBlockBytes<TYPE>, int(u % 8), run);
#pragma unroll
    for (int m = 0; m < MT; ++m) {
      if (r0 + m >= rows) break;
      const T* xr = x + (r0 + m) * K + u * 32;
      float dot[2] = {0.f, 0.f}, sum[2] = {0.f, 0.f};
#pragma unroll
      for (int l = 0; l < 32; ++l) {
        const float xv = float(xr[l]);
        const float q = TYPE == kQ6K ? float(int(run.q[l]) - 32) : float(run.q[l]);
        dot[l / 16] = fmaf(xv, q, dot[l / 16]);
        sum[l / 16] += xv;
      }
      acc[m] = fmaf(run.scale[0], dot[0], fmaf(run.scale[1], dot[1], acc[m]));
      acc[m] = fmaf(run.bias[0], sum[0], fmaf(run.bias[1], sum[1], acc[m]));
    }
  }
#pragma unroll
  for (int m = 0; m < MT; ++m) {
    float v = acc[m];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0 && r0 + m < rows) out[(r0 + m) * N + n] = convert<T>(v);
  }
}

template <typename F>
bool dispatch_type(uint32_t type, F&& f) {
  switch (type) {
    case kQ4K: f(std::integral_constant<uint32_t, kQ4K>{}); return true;
    case kQ5K: f(std::integral_constant<uint32_t, kQ5K>{}); return true;
    case kQ6K: f(std::integral_constant<uint32_t, kQ6K>{}); return true;
    default: return false;
  }
}

template <uint32_t TYPE, typename O>
void launch_dequantize(const array& w, O* o, int64_t rows, int64_t K, const Stream& s) {
  const int64_t n = rows * (K / 32);
  gguf_dequantize_kernel<TYPE, O><<<cuda::blocks_for(n, 256), 256, 0, cuda::stream(s)>>>(
      cuda::in<uint8_t>(w, s), o, rows, K, w.shape(-1));
  UMA_CUDA_LAUNCHED("gguf_dequantize");
}

// Rows of x up to which the matrix-vector kernel beats decode + GEMM.
constexpr int64_t kDecodeRows = 16;

}  // namespace

void GgufDequantize::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  bool ok = false;
  if (dispatch_type(type_, [](auto) {})) {
    array w = cuda::row_major(inputs[0], s);
    void* o = cuda::out_ptr(out, s);
    if (out.size() == 0) return;
    const int64_t K = out.shape(-1), rows = int64_t(out.size()) / K;
    dispatch_type(type_, [&](auto type) {
      ok = cuda::dispatch_qmm_float(out.dtype(), [&](auto otag) {
        using O = typename decltype(otag)::type;
        launch_dequantize<type(), O>(w, static_cast<O*>(o), rows, K, s);
      });
    });
  }
  if (!ok) {
    std::vector<array> outs{out};
    cuda::cpu_fallback(*this, inputs, outs);
  }
}

void GgufMatmul::eval_gpu(const std::vector<array>& inputs, array& out) {
  const Stream s = stream();
  const array& x = inputs[0];
  const bool covered = dispatch_type(type_, [](auto) {}) &&
                       (x.dtype() == float16 || x.dtype() == bfloat16 || x.dtype() == float32);
  if (!covered) {
    std::vector<array> outs{out};
    return cuda::cpu_fallback(*this, inputs, outs);
  }
  array xc = cuda::row_major(x, s), w = cuda::row_major(inputs[1], s);
  void* o = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const int64_t K = x.shape(-1), N = out.shape(-1), rows = int64_t(x.size()) / K, row_bytes = w.shape(1);
  dispatch_type(type_, [&](auto type) {
    cuda::dispatch_qmm_float(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (rows <= kDecodeRows) {
        constexpr int kWarps = 8, kRows = 4;
        dim3 grid(unsigned((N + kWarps - 1) / kWarps), unsigned((rows + kRows - 1) / kRows));
        gguf_qmv_kernel<type(), T, kRows><<<grid, kWarps * 32, 0, cuda::stream(s)>>>(
            cuda::in<T>(xc, s), cuda::in<uint8_t>(w, s), static_cast<T*>(o), rows, N, K, row_bytes);
        UMA_CUDA_LAUNCHED("gguf_matmul");
        return;
      }
      // W (N x K) decoded into x's dtype, then one cuBLAS product.
      array wd(Shape{int32_t(N), int32_t(K)}, x.dtype(), nullptr, {});
      T* wp = cuda::out<T>(wd, s);
      launch_dequantize<type(), T>(w, wp, N, K, s);
      cuda::gemm_x_w<T>(s, cuda::in<T>(xc, s), wp, o, rows, N, K, true);
    });
  });
}

}  // namespace uma
