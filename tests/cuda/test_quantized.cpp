// MLX-layout affine quantization on the GPU: dequantize bit for bit as the
// CPU rounds it, and the decode product x @ W.T against dequantize-then-
// matmul in float64 on the CPU (the GPU keeps x in float, so the bound is
// float32 summation error, not the CPU kernel's int8-activation error).
#include "cuda/cuda_util.h"

namespace uma::test {
namespace {

struct Packed {
  array wq{0}, scales{0}, biases{0};
};

Packed pack(const array& w, int group, int bits) {
  auto q = quantize(w, group, bits, "affine", std::nullopt, cpu());
  eval(q);
  return {q[0], q[1], q[2]};
}

// scale * q + bias from the stored scales and biases in float32 (exact
// for half-precision scales up to float32's rounding), as float64.
array exact_weights(const Packed& p, int group, int bits) {
  return astype(dequantize(p.wq, astype(p.scales, float32, cpu()), astype(p.biases, float32, cpu()), group, bits,
                           "affine", std::nullopt, std::nullopt, cpu()),
                float64, cpu());
}

TEST(CudaQuantized, DequantizeIsBitExact) {
  NoFallback strict;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    for (int group : {32, 64, 128}) {
      for (Dtype t : {float32, float16, bfloat16}) {
        array w = random_array({24, 256}, t, 100 + bits * 7 + group);
        Packed p = pack(w, group, bits);
        std::string what = std::to_string(bits) + "-bit g" + std::to_string(group) + " " + dtype_name(t);
        expect_same(dequantize(p.wq, p.scales, p.biases, group, bits, "affine", std::nullopt, std::nullopt, gpu()),
                    dequantize(p.wq, p.scales, p.biases, group, bits, "affine", std::nullopt, std::nullopt, cpu()),
                    0, 0, what);
      }
    }
  }
}

TEST(CudaQuantized, DecodeProductMatchesDequantizedMatmul) {
  NoFallback strict;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    for (int group : {32, 64, 128}) {
      for (Dtype t : {float32, bfloat16, float16}) {
        for (int rows : {1, 3, 8, 37, 200}) {  // decode kernel, then dequantize + cuBLAS
          const int N = 72, K = 512;
          array w = random_array({N, K}, t, 200 + bits + group);
          array x = random_array({rows, K}, t, 300 + rows, -1, 1);
          Packed p = pack(w, group, bits);
          array got = quantized_matmul(x, p.wq, p.scales, p.biases, true, group, bits, "affine", gpu());
          eval(got);
          EXPECT_TRUE(on_gpu(got));
          // Up to 16 rows the kernel reads scale * q + bias in float32;
          // beyond, W is dequantized into x's dtype first (the CPU's rounding).
          array wf = rows <= 16 ? exact_weights(p, group, bits)
                                : astype(dequantize(p.wq, p.scales, p.biases, group, bits, "affine", std::nullopt,
                                                    std::nullopt, cpu()),
                                         float64, cpu());
          array ref = matmul(astype(x, float64, cpu()), transpose(wf, {1, 0}, cpu()), cpu());
          // Bound: the float32 sum of K products of |x| <= 1 and |w| <= ~4,
          // plus the rounding of the result to t.
          double tol = t == float32 ? 2e-4 : (t == float16 ? 2e-3 : 1.6e-2);
          std::string what = std::to_string(bits) + "-bit g" + std::to_string(group) + " " + dtype_name(t) +
                             " rows " + std::to_string(rows);
          expect_same(astype(got, float64, cpu()), ref, tol, t == float32 ? 1e-3 : 0.05, what);
        }
      }
    }
  }
}

TEST(CudaQuantized, UntransposedProduct) {
  // x @ W with W (K, N) packed along N: the prefill path for any row count.
  NoFallback strict;
  for (int rows : {1, 70}) {
    for (int bits : {3, 4, 8}) {
      const int K = 96, N = 256;
      array w = random_array({K, N}, float32, 40 + bits);
      Packed p = pack(w, 64, bits);
      array x = random_array({rows, K}, float32, 41, -1, 1);
      array got = quantized_matmul(x, p.wq, p.scales, p.biases, false, 64, bits, "affine", gpu());
      array wf = astype(dequantize(p.wq, p.scales, p.biases, 64, bits, "affine", std::nullopt, std::nullopt, cpu()),
                        float64, cpu());
      array ref = matmul(astype(x, float64, cpu()), wf, cpu());
      expect_same(astype(got, float64, cpu()), ref, 2e-4, 1e-3, "bits " + std::to_string(bits));
    }
  }
}

TEST(CudaQuantized, BatchedRowsOfX) {
  NoFallback strict;
  array w = random_array({64, 256}, bfloat16, 7);
  Packed p = pack(w, 64, 4);
  array x = random_array({2, 3, 256}, bfloat16, 8, -1, 1);
  array got = quantized_matmul(x, p.wq, p.scales, p.biases, true, 64, 4, "affine", gpu());
  ASSERT_EQ(got.shape(), (Shape{2, 3, 64}));
  array ref = matmul(astype(x, float64, cpu()), transpose(exact_weights(p, 64, 4), {1, 0}, cpu()), cpu());
  expect_same(astype(got, float64, cpu()), ref, 1.6e-2, 0.05);
}

}  // namespace
}  // namespace uma::test
