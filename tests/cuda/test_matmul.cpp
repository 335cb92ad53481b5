// Matmul and AddMM on the GPU (cuBLAS) against the CPU backend: every
// inexact dtype, decode and odd shapes, batches, transposed and strided
// views, broadcast batch dims, K == 0, addmm's alpha and beta.
#include <cmath>

#include "cuda/cuda_util.h"

namespace uma::test {
namespace {

std::vector<Dtype> matmul_dtypes() { return {float16, bfloat16, float32, float64, complex64}; }

// Tolerances of a product of K terms computed in another order: relative
// for the rounding of the result, absolute for the sum's cancellations
// (inputs in [-1, 1]: partial sums stay below K).
struct Tol {
  double rtol, atol;
};
Tol matmul_tol(Dtype t, int64_t K) {
  const double k = double(std::max<int64_t>(K, 1));
  switch (t) {
    case Dtype::float16: return {2e-3, 1e-3 + 1e-5 * k};
    case Dtype::bfloat16: return {1.6e-2, 1e-2 + 1e-5 * k};
    case Dtype::float64: return {1e-12, 1e-14 * k};
    default: return {2e-5, 1e-6 * k};  // float32, complex64
  }
}

array rnd(const Shape& shape, Dtype t, uint32_t seed) { return random_array(shape, t, seed, -1, 1); }

void expect_product(const array& gpu_out, const array& cpu_out, int64_t K, const std::string& what) {
  Tol tol = matmul_tol(cpu_out.dtype(), K);
  expect_same(gpu_out, cpu_out, tol.rtol, tol.atol, what);
}

std::string name(Dtype t, const std::string& what) { return std::string(dtype_name(t)) + " " + what; }

TEST(CudaMatmul, ShapesEveryDtype) {
  NoFallback strict;
  struct Mnk {
    int M, K, N;
  };
  const std::vector<Mnk> shapes = {{1, 1, 1}, {1, 4096, 4096}, {7, 33, 65}, {128, 512, 256}, {1, 17, 3}, {64, 1, 9}};
  uint32_t seed = 100;
  for (Dtype t : matmul_dtypes()) {
    for (auto [M, K, N] : shapes) {
      array a = rnd({M, K}, t, seed++), b = rnd({K, N}, t, seed++);
      array g = matmul(a, b, gpu());
      eval(g);
      EXPECT_TRUE(on_gpu(g));
      expect_product(g, matmul(a, b, cpu()), K,
                     name(t, std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N)));
    }
  }
}

TEST(CudaMatmul, Batched) {
  NoFallback strict;
  uint32_t seed = 200;
  for (Dtype t : matmul_dtypes()) {
    // Both operands batched.
    array a = rnd({3, 4, 9, 33}, t, seed++), b = rnd({3, 4, 33, 17}, t, seed++);
    expect_product(matmul(a, b, gpu()), matmul(a, b, cpu()), 33, name(t, "3x4 batch"));
    // A shared weight: x (B, T, C) @ W folds the batch into M.
    array x = rnd({2, 5, 64}, t, seed++), w = rnd({64, 48}, t, seed++);
    expect_product(matmul(x, w, gpu()), matmul(x, w, cpu()), 64, name(t, "shared weight"));
    // Decode: x (B, 1, C) @ W.
    array xd = rnd({4, 1, 64}, t, seed++);
    expect_product(matmul(xd, w, gpu()), matmul(xd, w, cpu()), 64, name(t, "decode batch"));
    // A shared left operand.
    array l = rnd({6, 20}, t, seed++), r = rnd({3, 20, 11}, t, seed++);
    expect_product(matmul(l, r, gpu()), matmul(l, r, cpu()), 20, name(t, "shared a"));
  }
}

TEST(CudaMatmul, TransposedOperands) {
  NoFallback strict;
  uint32_t seed = 300;
  for (Dtype t : matmul_dtypes()) {
    array at = rnd({40, 23}, t, seed++), bt = rnd({31, 40}, t, seed++);  // a = at^T (23, 40), b = bt^T (40, 31)
    array a = rnd({23, 40}, t, seed++), b = rnd({40, 31}, t, seed++);
    auto both = [&](const array& x, const array& y, const std::string& what) {
      expect_product(matmul(transpose(x, {1, 0}, gpu()), transpose(y, {1, 0}, gpu()), gpu()),
                     matmul(transpose(x, {1, 0}, cpu()), transpose(y, {1, 0}, cpu()), cpu()), 40, name(t, what));
    };
    both(at, bt, "a^T b^T");
    // x @ W^T, the linear layer's layout.
    expect_product(matmul(a, transpose(bt, {1, 0}, gpu()), gpu()), matmul(a, transpose(bt, {1, 0}, cpu()), cpu()),
                   40, name(t, "a b^T"));
    expect_product(matmul(transpose(at, {1, 0}, gpu()), b, gpu()), matmul(transpose(at, {1, 0}, cpu()), b, cpu()),
                   40, name(t, "a^T b"));
    // Batched transposes (swapaxes of the last two dims).
    array ab = rnd({3, 40, 9}, t, seed++), bb = rnd({3, 13, 40}, t, seed++);
    expect_product(matmul(swapaxes(ab, -1, -2, gpu()), swapaxes(bb, -1, -2, gpu()), gpu()),
                   matmul(swapaxes(ab, -1, -2, cpu()), swapaxes(bb, -1, -2, cpu()), cpu()), 40,
                   name(t, "batched transposes"));
  }
}

TEST(CudaMatmul, StridedAndBroadcastOperands) {
  NoFallback strict;
  uint32_t seed = 400;
  for (Dtype t : matmul_dtypes()) {
    // Every other column: no cuBLAS layout, copied first.
    array big = rnd({12, 50}, t, seed++), b = rnd({25, 7}, t, seed++);
    expect_product(matmul(slice(big, {0, 0}, {12, 50}, {1, 2}, gpu()), b, gpu()),
                   matmul(slice(big, {0, 0}, {12, 50}, {1, 2}, cpu()), b, cpu()), 25, name(t, "strided a"));
    // A row slice keeps a cuBLAS layout (leading dimension > cols).
    expect_product(matmul(slice(big, {2, 3}, {10, 28}, gpu()), b, gpu()),
                   matmul(slice(big, {2, 3}, {10, 28}, cpu()), b, cpu()), 25, name(t, "sliced a"));
    // Broadcast batch dims: (2, 1) x (1, 3) -> (2, 3), strides no single
    // batch stride describes.
    array a4 = rnd({2, 1, 5, 16}, t, seed++), b4 = rnd({3, 16, 6}, t, seed++);
    expect_product(matmul(a4, b4, gpu()), matmul(a4, b4, cpu()), 16, name(t, "broadcast batch"));
    // Batch slices of a larger buffer (uniform strides, not contiguous).
    array stack = rnd({6, 8, 16}, t, seed++);
    array every_other = slice(stack, {0, 0, 0}, {6, 8, 16}, {2, 1, 1}, cpu());
    expect_product(matmul(slice(stack, {0, 0, 0}, {6, 8, 16}, {2, 1, 1}, gpu()), b4, gpu()),
                   matmul(every_other, b4, cpu()), 16, name(t, "strided batch"));
    // 1-D operands: vector @ matrix, matrix @ vector.
    array v = rnd({16}, t, seed++), m = rnd({16, 9}, t, seed++), m2 = rnd({4, 16}, t, seed++);
    expect_product(matmul(v, m, gpu()), matmul(v, m, cpu()), 16, name(t, "vector @ matrix"));
    expect_product(matmul(m2, v, gpu()), matmul(m2, v, cpu()), 16, name(t, "matrix @ vector"));
  }
}

TEST(CudaMatmul, EmptyProducts) {
  NoFallback strict;
  for (Dtype t : matmul_dtypes()) {
    array a = rnd({5, 0}, t, 1), b = rnd({0, 7}, t, 2);
    expect_same(matmul(a, b, gpu()), matmul(a, b, cpu()), 0, 0, name(t, "K == 0"));
    array c = rnd({5, 7}, t, 3);
    expect_same(addmm(c, a, b, 1.5f, 0.5f, gpu()), addmm(c, a, b, 1.5f, 0.5f, cpu()), -1, -1,
                name(t, "addmm K == 0"));
    expect_same(addmm(c, a, b, 1.f, 0.f, gpu()), addmm(c, a, b, 1.f, 0.f, cpu()), 0, 0, name(t, "addmm K == 0 beta 0"));
    array e = rnd({0, 4}, t, 4), f = rnd({4, 3}, t, 5);
    expect_same(matmul(e, f, gpu()), matmul(e, f, cpu()), 0, 0, name(t, "M == 0"));
    array g = rnd({3, 4}, t, 6), h = rnd({4, 0}, t, 7);
    expect_same(matmul(g, h, gpu()), matmul(g, h, cpu()), 0, 0, name(t, "N == 0"));
  }
}

TEST(CudaMatmul, AddMM) {
  NoFallback strict;
  uint32_t seed = 500;
  for (Dtype t : matmul_dtypes()) {
    array a = rnd({9, 40}, t, seed++), b = rnd({40, 21}, t, seed++);
    array c = rnd({9, 21}, t, seed++), bias = rnd({21}, t, seed++);
    for (auto [alpha, beta] : std::vector<std::pair<float, float>>{{1.f, 1.f}, {0.5f, 2.f}, {-1.f, 0.f}, {2.f, -0.25f}}) {
      std::string what = name(t, "addmm alpha " + std::to_string(alpha) + " beta " + std::to_string(beta));
      expect_product(addmm(c, a, b, alpha, beta, gpu()), addmm(c, a, b, alpha, beta, cpu()), 40, what);
      // A bias row broadcast over the rows (a linear layer).
      expect_product(addmm(bias, a, b, alpha, beta, gpu()), addmm(bias, a, b, alpha, beta, cpu()), 40,
                     what + " broadcast c");
    }
    // Batched, transposed b.
    array ab = rnd({2, 3, 8, 24}, t, seed++), bt = rnd({10, 24}, t, seed++), cb = rnd({2, 1, 8, 10}, t, seed++);
    expect_product(addmm(cb, ab, transpose(bt, {1, 0}, gpu()), 0.75f, 1.25f, gpu()),
                   addmm(cb, ab, transpose(bt, {1, 0}, cpu()), 0.75f, 1.25f, cpu()), 24, name(t, "batched addmm"));
  }
}

TEST(CudaMatmul, MixedDtypesPromote) {
  NoFallback strict;
  array a = rnd({6, 10}, float16, 1), b = rnd({10, 4}, float32, 2);
  expect_product(matmul(a, b, gpu()), matmul(a, b, cpu()), 10, "float16 @ float32");
}

}  // namespace
}  // namespace uma::test
