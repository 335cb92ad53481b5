// MLX's affine quantization on the GPU: dequantize, the matrix-vector
// product of decode (x @ W.T with W stored (N, K) as packed codes, a few rows
// of x), which reads the packed weights once at memory speed, and the
// product of prefill (many rows of x, or x @ W): W dequantized into x's
// dtype, then one cuBLAS product. The fp modes and batched W run on the CPU
// for now.
#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/qmm_utils.cuh"
#include "uma/backend/cuda/utils.cuh"
#include "uma/core/primitives/quantized.h"

namespace uma {

namespace {

using cuda::convert;

// 32 consecutive codes of width BITS start at word u * BITS of a row: a
// "unit". Group sizes are multiples of 32, so a unit lies in one group.
template <int BITS>
__device__ inline void load_unit(const uint32_t* p, uint32_t (&w)[BITS]) {
  if constexpr (BITS == 4) {
    uint4 v = *reinterpret_cast<const uint4*>(p);
    w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w;
  } else if constexpr (BITS == 8) {
    uint4 v = reinterpret_cast<const uint4*>(p)[0], u = reinterpret_cast<const uint4*>(p)[1];
    w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w, w[4] = u.x, w[5] = u.y, w[6] = u.z, w[7] = u.w;
  } else if constexpr (BITS == 2) {
    uint2 v = *reinterpret_cast<const uint2*>(p);
    w[0] = v.x, w[1] = v.y;
  } else {
#pragma unroll
    for (int i = 0; i < BITS; ++i) w[i] = p[i];
  }
}

// Code j (0..31) of a unit: an LSB-first bit stream over little-endian words.
template <int BITS>
__device__ inline uint32_t code(const uint32_t (&w)[BITS], int j) {
  const int bit = j * BITS, word = bit >> 5, shift = bit & 31;
  uint32_t v = w[word] >> shift;
  if (shift + BITS > 32) v |= w[word + 1] << (32 - shift);
  return v & ((1u << BITS) - 1);
}

template <typename T>
__device__ inline float to_float(T v) {
  return float(v);
}

// out[r, n] = sum_k x[r, k] * (scale[n, g(k)] * q[n, k] + bias[n, g(k)]) for
// MT rows r of x: one warp per output column n, lanes striding over units;
// per unit, scale * (x . q) + bias * sum(x).
template <typename T, int BITS, int MT>
__global__ void qmv_kernel(const T* x, const uint32_t* wq, const T* scales, const T* biases, T* out, int64_t rows,
                           int64_t N, int64_t K, int group_size) {
  const int lane = threadIdx.x & 31;
  const int64_t n = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const int64_t r0 = int64_t(blockIdx.y) * MT;
  if (n >= N) return;
  const int64_t units = K / 32, groups = K / group_size;
  const uint32_t* wrow = wq + n * (K * BITS / 32);
  const T* srow = scales + n * groups;
  const T* brow = biases + n * groups;
  float acc[MT];
#pragma unroll
  for (int m = 0; m < MT; ++m) acc[m] = 0.f;
  for (int64_t u = lane; u < units; u += 32) {
    uint32_t w[BITS];
    load_unit<BITS>(wrow + u * BITS, w);
    const int64_t g = (u * 32) / group_size;
    const float s = to_float(srow[g]), b = to_float(brow[g]);
#pragma unroll
    for (int m = 0; m < MT; ++m) {
      if (r0 + m >= rows) break;
      const T* xr = x + (r0 + m) * K + u * 32;
      float dot = 0.f, sum = 0.f;
#pragma unroll
      for (int j = 0; j < 32; ++j) {
        float xv = to_float(xr[j]);
        dot = fmaf(xv, float(code<BITS>(w, j)), dot);
        sum += xv;
      }
      acc[m] = fmaf(s, dot, fmaf(b, sum, acc[m]));
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

// The decode product for 4- and 8-bit codes, x @ W.T for MT rows of x: a
// warp per ROWS rows of W, each lane taking 8 consecutive codes in turn (one
// word of 4-bit codes, two of 8-bit), so that a warp reads 128 or 256
// contiguous bytes of each row per step; codes become floats by byte
// permutes (byte_float), x is read 16 bytes at a time.
template <typename T, int BITS, int ROWS, int MT>
__global__ void qmv_fast_kernel(const T* x, const uint32_t* wq, const T* scales, const T* biases, T* out,
                                int64_t rows, int64_t N, int64_t K, int group_size) {
  const int lane = threadIdx.x & 31;
  const int64_t n0 = (int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32) * ROWS;
  const int64_t m0 = int64_t(blockIdx.y) * MT;
  if (n0 >= N) return;
  const int64_t G = K / group_size, row_words = K * BITS / 32;
  float acc[MT][ROWS] = {};
#pragma unroll 2
  for (int64_t k0 = int64_t(lane) * 8; k0 < K; k0 += 256) {
    float xv[MT][8], xs[MT];
#pragma unroll
    for (int m = 0; m < MT; ++m) {
      if (m0 + m < rows) {
        cuda::load8(x + (m0 + m) * K + k0, xv[m]);
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j) xv[m][j] = 0.f;
      }
      xs[m] = ((xv[m][0] + xv[m][1]) + (xv[m][2] + xv[m][3])) + ((xv[m][4] + xv[m][5]) + (xv[m][6] + xv[m][7]));
    }
    const int64_t g = k0 / group_size;
#pragma unroll
    for (int r = 0; r < ROWS; ++r) {
      if (n0 + r >= N) break;
      float q[8];
      if constexpr (BITS == 4) {
        const uint32_t w = wq[(n0 + r) * row_words + k0 / 8];
        const uint32_t even = w & 0x0F0F0F0Fu, odd = (w >> 4) & 0x0F0F0F0Fu;  // codes 0,2,4,6 / 1,3,5,7
        q[0] = cuda::byte_float<0>(even), q[2] = cuda::byte_float<1>(even);
        q[4] = cuda::byte_float<2>(even), q[6] = cuda::byte_float<3>(even);
        q[1] = cuda::byte_float<0>(odd), q[3] = cuda::byte_float<1>(odd);
        q[5] = cuda::byte_float<2>(odd), q[7] = cuda::byte_float<3>(odd);
      } else {
        const uint2 w = *reinterpret_cast<const uint2*>(wq + (n0 + r) * row_words + k0 / 4);
        q[0] = cuda::byte_float<0>(w.x), q[1] = cuda::byte_float<1>(w.x);
        q[2] = cuda::byte_float<2>(w.x), q[3] = cuda::byte_float<3>(w.x);
        q[4] = cuda::byte_float<0>(w.y), q[5] = cuda::byte_float<1>(w.y);
        q[6] = cuda::byte_float<2>(w.y), q[7] = cuda::byte_float<3>(w.y);
      }
      const float s = to_float(scales[(n0 + r) * G + g]), b = to_float(biases[(n0 + r) * G + g]);
#pragma unroll
      for (int m = 0; m < MT; ++m) {
        float dot = 0.f;
#pragma unroll
        for (int j = 0; j < 8; ++j) dot = fmaf(xv[m][j], q[j], dot);
        acc[m][r] = fmaf(s, dot, fmaf(b, xs[m], acc[m][r]));
      }
    }
  }
  cuda::store_warp_sums(acc, out, m0, n0, rows, N, lane);
}

// Dequantize rows: each thread one unit of 32 codes (as the CPU rounds:
// scale * q to P, plus the bias, to O).
template <typename P, typename O, int BITS>
__global__ void dequantize_kernel(const uint32_t* wq, const P* scales, const O* biases, O* out, int64_t rows,
                                  int64_t K, int group_size) {
  const int64_t units_per_row = K / 32;
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= rows * units_per_row) return;
  const int64_t r = i / units_per_row, u = i - r * units_per_row;
  uint32_t w[BITS];
  const uint32_t* p = wq + r * (K * BITS / 32) + u * BITS;
#pragma unroll
  for (int k = 0; k < BITS; ++k) w[k] = p[k];
  const int64_t g = r * (K / group_size) + (u * 32) / group_size;
  const float s = to_float(scales[g]), b = to_float(biases[g]);
  O* o = out + r * K + u * 32;
#pragma unroll
  for (int j = 0; j < 32; ++j) {
    // Two roundings, as the CPU: no fused multiply-add.
    float prod = to_float(convert<P>(__fmul_rn(float(code<BITS>(w, j)), s)));
    o[j] = convert<O>(__fadd_rn(prod, b));
  }
}

// Rows of x up to which the decode kernel beats dequantize + GEMM.
constexpr int64_t kDecodeRows = 16;

template <typename F>
void dispatch_bits(int bits, const char* who, F&& f) {
  switch (bits) {
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 8: return f(std::integral_constant<int, 8>{});
  }
  throw std::invalid_argument(std::string("[") + who + "] bits must be 2, 3, 4, 5, 6 or 8, got " +
                              std::to_string(bits));
}

// Launches the dequantization of rows x K codes into o (dtype O) on s.
template <typename P, typename O>
void launch_dequantize(const array& w, const array& scales, const array& biases, O* o, int64_t rows, int64_t K,
                       int group_size, int bits, const Stream& s) {
  dispatch_bits(bits, "dequantize", [&](auto b) {
    int64_t n = rows * (K / 32);
    dequantize_kernel<P, O, b()><<<cuda::blocks_for(n, 256), 256, 0, cuda::stream(s)>>>(
        cuda::in<uint32_t>(w, s), cuda::in<P>(scales, s), cuda::in<O>(biases, s), o, rows, K, group_size);
    UMA_CUDA_LAUNCHED("dequantize");
  });
}

}  // namespace

void Dequantize::eval_gpu(const std::vector<array>& inputs, array& out) {
  if (mode_ != QuantizationMode::affine) {
    std::vector<array> outs{out};
    return cuda::cpu_fallback(*this, inputs, outs);
  }
  const Stream s = stream();
  array w = cuda::row_major(inputs[0], s), scales = cuda::row_major(inputs[1], s),
        biases = cuda::row_major(inputs[2], s);
  void* o = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  const int64_t K = out.shape(-1), rows = int64_t(out.size()) / K;
  bool ok = false;
  cuda::dispatch_qmm_float(scales.dtype(), [&](auto ptag) {
    using P = typename decltype(ptag)::type;
    ok = cuda::dispatch_qmm_float(out.dtype(), [&](auto otag) {
      using O = typename decltype(otag)::type;
      launch_dequantize<P, O>(w, scales, biases, static_cast<O*>(o), rows, K, group_size_, bits_, s);
    });
  });
  if (!ok) throw std::invalid_argument("[dequantize] the GPU dequantizes to float16, bfloat16 or float32");
}

void QuantizedMatmul::eval_gpu(const std::vector<array>& inputs, array& out) {
  const array& x = inputs[0];
  const int64_t K = x.shape(-1), N = out.shape(-1);
  const int64_t rows = K ? int64_t(x.size()) / K : 0;
  const bool float_x = x.dtype() == float16 || x.dtype() == bfloat16 || x.dtype() == float32;
  const bool covered = mode_ == QuantizationMode::affine && inputs[1].ndim() == 2 && float_x &&
                       inputs[2].dtype() == x.dtype() && inputs[3].dtype() == x.dtype();
  // Codes are read in units of 32 along the packed axis (K for x @ W.T, N for x @ W).
  if (!covered || (transpose_ ? K : N) % 32 != 0) {
    std::vector<array> outs{out};
    return cuda::cpu_fallback(*this, inputs, outs);
  }
  const Stream s = stream();
  array xc = cuda::row_major(x, s), w = cuda::row_major(inputs[1], s), scales = cuda::row_major(inputs[2], s),
        biases = cuda::row_major(inputs[3], s);
  void* o = cuda::out_ptr(out, s);
  if (out.size() == 0) return;
  cuda::dispatch_qmm_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // 16-byte aligned x rows (the fast kernel's vector loads).
    const bool aligned = reinterpret_cast<uintptr_t>(cuda::in<T>(xc, s)) % 32 == 0 && K % 16 == 0;
    if (transpose_ && rows <= kDecodeRows && (bits_ == 4 || bits_ == 8) && aligned) {
      constexpr int kWarps = 4, kRows = 2;
      const unsigned blocks = unsigned((N + kWarps * kRows - 1) / (kWarps * kRows));
      auto launch = [&](auto bits, auto mt) {
        dim3 grid(blocks, unsigned((rows + mt() - 1) / mt()));
        qmv_fast_kernel<T, bits(), kRows, mt()><<<grid, kWarps * 32, 0, cuda::stream(s)>>>(
            cuda::in<T>(xc, s), cuda::in<uint32_t>(w, s), cuda::in<T>(scales, s), cuda::in<T>(biases, s),
            static_cast<T*>(o), rows, N, K, group_size_);
      };
      using one = std::integral_constant<int, 1>;
      using four = std::integral_constant<int, 4>;
      if (bits_ == 4) {
        rows == 1 ? launch(std::integral_constant<int, 4>{}, one{}) : launch(std::integral_constant<int, 4>{}, four{});
      } else {
        rows == 1 ? launch(std::integral_constant<int, 8>{}, one{}) : launch(std::integral_constant<int, 8>{}, four{});
      }
      UMA_CUDA_LAUNCHED("quantized_matmul");
      return;
    }
    if (transpose_ && rows <= kDecodeRows) {
      // Decode of the other widths: a lane per 32 codes.
      constexpr int kWarps = 8, kRows = 4;
      dispatch_bits(bits_, "quantized_matmul", [&](auto bits) {
        dim3 grid(unsigned((N + kWarps - 1) / kWarps), unsigned((rows + kRows - 1) / kRows));
        qmv_kernel<T, bits(), kRows><<<grid, kWarps * 32, 0, cuda::stream(s)>>>(
            cuda::in<T>(xc, s), cuda::in<uint32_t>(w, s), cuda::in<T>(scales, s), cuda::in<T>(biases, s),
            static_cast<T*>(o), rows, N, K, group_size_);
        UMA_CUDA_LAUNCHED("quantized_matmul");
      });
      return;
    }
    // Prefill: W dequantized into x's dtype (N x K for x @ W.T, K x N for
    // x @ W, row-major), then out (rows x N) = x @ W(.T) by cuBLAS with
    // float32 accumulation. Column-major view: out^T = op(W) @ x^T.
    array wd(transpose_ ? Shape{int32_t(N), int32_t(K)} : Shape{int32_t(K), int32_t(N)}, x.dtype(), nullptr, {});
    T* wp = cuda::out<T>(wd, s);
    launch_dequantize<T, T>(w, scales, biases, wp, transpose_ ? N : K, transpose_ ? K : N, group_size_, bits_, s);
    cuda::gemm_x_w<T>(s, cuda::in<T>(xc, s), wp, o, rows, N, K, transpose_);
  });
}

}  // namespace uma
