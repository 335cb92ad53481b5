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

// 4 consecutive values of T at p (8-byte aligned for half types, 16 for
// float) as floats.
template <typename T>
__device__ inline void load4(const T* p, float (&v)[4]) {
  if constexpr (std::is_same_v<T, float>) {
    const float4 a = *reinterpret_cast<const float4*>(p);
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w;
  } else {
    const uint2 u = *reinterpret_cast<const uint2*>(p);
    if constexpr (std::is_same_v<T, __nv_bfloat16>) {
      v[0] = __uint_as_float(u.x << 16), v[1] = __uint_as_float(u.x & 0xFFFF0000u);
      v[2] = __uint_as_float(u.y << 16), v[3] = __uint_as_float(u.y & 0xFFFF0000u);
    } else {
      const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&u.x));
      const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&u.y));
      v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
    }
  }
}

__device__ inline uint32_t word_at(const uint8_t* p) { return *reinterpret_cast<const uint32_t*>(p); }

// x . codes (4 codes in the bytes of c) and sum(x).
__device__ inline float dot4(const float (&x)[4], uint32_t c) {
  return fmaf(x[0], cuda::byte_float<0>(c),
              fmaf(x[1], cuda::byte_float<1>(c), fmaf(x[2], cuda::byte_float<2>(c), x[3] * cuda::byte_float<3>(c))));
}

// out[m, n] = x[m] . W[n] for MT rows of x: a warp per ROWS rows of W, one
// block of 256 values per step, each lane 8 of its values. Q4_K/Q5_K: lane
// (c, j) = (lane / 8, lane % 8) takes bytes 4j..4j+3 of the 32 qs bytes of
// sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles), and of qh (Q5_K).
// Q6_K: lane (h, j) = (lane / 16, lane % 16) takes positions 2j, 2j + 1 of
// half h's four runs of 32. The block's scales are read by every lane of the
// warp (one transaction).
template <uint32_t TYPE, typename T, int ROWS, int MT>
__global__ void gguf_qmv_kernel(const T* x, const uint8_t* w, T* out, int64_t rows, int64_t N, int64_t K,
                                int64_t row_bytes) {
  constexpr int64_t kBytes = kBlockBytes<TYPE>;
  const int lane = threadIdx.x & 31;
  const int64_t n0 = (int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32) * ROWS;
  const int64_t m0 = int64_t(blockIdx.y) * MT;
  if (n0 >= N) return;
  float acc[MT][ROWS] = {};
  for (int64_t blk = 0; blk < K / 256; ++blk) {
    if constexpr (TYPE == kQ4K || TYPE == kQ5K) {
      const int c = lane / 8, j = lane % 8;
      float xl[MT][4], xh[MT][4], sl[MT], sh[MT];
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const T* xr = x + (m0 + m < rows ? m0 + m : m0) * K + 256 * blk + 64 * c + 4 * j;
        load4(xr, xl[m]);
        load4(xr + 32, xh[m]);
        sl[m] = (xl[m][0] + xl[m][1]) + (xl[m][2] + xl[m][3]);
        sh[m] = (xh[m][0] + xh[m][1]) + (xh[m][2] + xh[m][3]);
      }
#pragma unroll
      for (int r = 0; r < ROWS; ++r) {
        if (n0 + r >= N) break;
        const uint8_t* b = w + (n0 + r) * row_bytes + blk * kBytes;
        const uint32_t qs = word_at(b + (TYPE == kQ5K ? 48 : 16) + 32 * c + 4 * j);
        uint32_t lo = qs & 0x0F0F0F0Fu, hi = (qs >> 4) & 0x0F0F0F0Fu;
        if constexpr (TYPE == kQ5K) {
          const uint32_t qh = word_at(b + 16 + 4 * j);
          lo |= ((qh >> (2 * c)) & 0x01010101u) << 4;
          hi |= ((qh >> (2 * c + 1)) & 0x01010101u) << 4;
        }
        // Scales and mins of sub-blocks 2c and 2c + 1 (6 bits each).
        const uint8_t* sc = b + 4;
        int s0, m0v, s1, m1v;
        if (c < 2) {
          s0 = sc[2 * c] & 63, m0v = sc[2 * c + 4] & 63, s1 = sc[2 * c + 1] & 63, m1v = sc[2 * c + 5] & 63;
        } else {
          const int a = 2 * c, e = 2 * c + 1;
          s0 = (sc[a + 4] & 0xF) | ((sc[a - 4] >> 6) << 4), m0v = (sc[a + 4] >> 4) | ((sc[a] >> 6) << 4);
          s1 = (sc[e + 4] & 0xF) | ((sc[e - 4] >> 6) << 4), m1v = (sc[e + 4] >> 4) | ((sc[e] >> 6) << 4);
        }
        const float d = f16_at(b), dmin = f16_at(b + 2);
        const float d0 = d * float(s0), d1 = d * float(s1), n0f = dmin * float(m0v), n1f = dmin * float(m1v);
#pragma unroll
        for (int m = 0; m < MT; ++m) {
          acc[m][r] = fmaf(d0, dot4(xl[m], lo), fmaf(d1, dot4(xh[m], hi), acc[m][r]));
          acc[m][r] = fmaf(-n0f, sl[m], fmaf(-n1f, sh[m], acc[m][r]));
        }
      }
    } else {  // Q6_K
      const int h = lane / 16, j = lane % 16, l = 2 * j;
      float xv[MT][4][2];
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        const T* xr = x + (m0 + m < rows ? m0 + m : m0) * K + 256 * blk + 128 * h + l;
#pragma unroll
        for (int r4 = 0; r4 < 4; ++r4) {
          xv[m][r4][0] = float(xr[32 * r4]);
          xv[m][r4][1] = float(xr[32 * r4 + 1]);
        }
      }
#pragma unroll
      for (int r = 0; r < ROWS; ++r) {
        if (n0 + r >= N) break;
        const uint8_t* b = w + (n0 + r) * row_bytes + blk * kBytes;
        const uint8_t* ql = b + 64 * h + l;
        const uint8_t* qh = b + 128 + 32 * h + l;
        const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192) + 8 * h + (j / 8);
        const float d = f16_at(b + 208);
#pragma unroll
        for (int m = 0; m < MT; ++m) {
          float sum = 0.f;
#pragma unroll
          for (int r4 = 0; r4 < 4; ++r4) {
            float part = 0.f;
#pragma unroll
            for (int t = 0; t < 2; ++t) {
              const int lo = r4 % 2 ? ql[32 + t] : ql[t];
              const int q = ((r4 < 2 ? lo & 0xF : lo >> 4) | (((qh[t] >> (2 * r4)) & 3) << 4)) - 32;
              part = fmaf(xv[m][r4][t], float(q), part);
            }
            sum = fmaf(float(sc[2 * r4]), part, sum);
          }
          acc[m][r] = fmaf(d, sum, acc[m][r]);
        }
      }
    }
  }
  cuda::store_warp_sums(acc, out, m0, n0, rows, N, lane);
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
      // Q4_K/Q5_K read x 4 values and codes 4 bytes at a time (Q6_K bytes).
      const bool aligned = type() == kQ6K || (reinterpret_cast<uintptr_t>(cuda::in<T>(xc, s)) % 16 == 0 &&
                                                row_bytes % 4 == 0);
      if (rows <= kDecodeRows && aligned) {
        constexpr int kWarps = 4, kRows = 2;
        const unsigned blocks = unsigned((N + kWarps * kRows - 1) / (kWarps * kRows));
        auto launch = [&](auto mt) {
          dim3 grid(blocks, unsigned((rows + mt() - 1) / mt()));
          gguf_qmv_kernel<type(), T, kRows, mt()><<<grid, kWarps * 32, 0, cuda::stream(s)>>>(
              cuda::in<T>(xc, s), cuda::in<uint8_t>(w, s), static_cast<T*>(o), rows, N, K, row_bytes);
        };
        rows == 1 ? launch(std::integral_constant<int, 1>{}) : launch(std::integral_constant<int, 4>{});
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
