// Matrix products for the kernels of the matmul family (matmul.cpp,
// matmul_gather.cpp, quantized_matmul.cpp): one product, a batch of
// independent products, and the checked reading of matrix indices.
#pragma once

#include <cstdint>
#include <vector>

#include "uma/core/array.h"

namespace uma::cpu {

// One operand: element (i, j) at ptr[i * rs + j * cs] (strides in elements).
struct MatRef {
  const void* ptr;
  int64_t rs, cs;
};

// c (M, N), row-major with leading dimension ldc, = alpha * a @ b + beta * c
// in dtype t: float32, float64 and complex64 through BLAS (layouts BLAS
// cannot take are copied first), bfloat16 and float16 through gemm_half
// (on one thread when `serial`). K >= 1.
void gemm(Dtype t, int64_t M, int64_t N, int64_t K, MatRef a, MatRef b, void* c, int64_t ldc, float alpha,
          float beta, bool serial);

// One product of a batch: c (M, N) from a (M, K) and b (K, N).
struct GemmTask {
  MatRef a, b;
  void* c;
  int64_t M, K;
};

// Independent products c = alpha * a @ b + beta * c with N columns each (c
// row-major, leading dimension ldc): small ones one per thread, large ones
// one after another with every thread on each. Tasks with K = 0 are written
// as zeros (callers with beta != 0 scale those themselves).
void gemm_tasks(Dtype t, const std::vector<GemmTask>& tasks, int64_t N, int64_t ldc, float alpha = 1.f,
                float beta = 0.f);

// The number of matrices of x: the product of the dims before the last two.
inline int64_t matrix_count(const array& x) {
  int64_t n = 1;
  for (int d = 0; d + 2 < int(x.ndim()); ++d) n *= x.shape(d);
  return n;
}

// The element offset of matrix i of x, i counting row-major over the dims
// before the last two.
int64_t matrix_offset(const array& x, int64_t i);

// The entries of an integer index array (any integer dtype, any layout) as
// int64, each checked to lie in [0, n): otherwise "[op] <which> holds v (flat
// position i), out of range for the n matrices of <of>".
std::vector<int64_t> matrix_indices(const array& idx, int64_t n, const char* op, const char* which, const char* of);

}  // namespace uma::cpu
