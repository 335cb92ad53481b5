// CUDA kernels of Matmul and AddMM through cuBLAS (cublasGemmStridedBatchedEx):
// float32 (FP32 compute, no TF32), float16 and bfloat16 (FP32 accumulation,
// one rounding of alpha * acc + beta * c), float64 and complex64. Layouts as
// the CPU kernel (backend/cpu/matmul.cpp) takes them: transposed operands go
// to cuBLAS as transposes, batches as strided batches, a weight shared by a
// batch folds the batch into M; operands whose batch or matrix strides no
// cuBLAS call can express are copied to row-major first.
#include <cuComplex.h>

#include <mutex>
#include <unordered_map>

#include "uma/backend/cuda/copy.h"
#include "uma/backend/cuda/matmul.h"
#include "uma/backend/cuda/utils.cuh"
#include "uma/core/primitives/linalg.h"

namespace uma::cuda {

void check_cublas(cublasStatus_t st, const char* what, const char* file, int line) {
  if (st == CUBLAS_STATUS_SUCCESS) return;
  std::string msg = std::string("[cublas] ") + what + " failed: " + cublasGetStatusName(st) + " (" +
                    cublasGetStatusString(st) + ") (" + file + ":" + std::to_string(line) + ")";
  if (st == CUBLAS_STATUS_ALLOC_FAILED) throw out_of_memory(msg);
  throw std::runtime_error(msg);
}

cublasHandle_t cublas_handle(const Stream& s) {
  cudaStream_t cs = stream(s);  // also makes s's device current
  // Leaked on purpose: destroying handles at thread or process exit may run
  // after the CUDA runtime is gone.
  thread_local auto* handles = new std::unordered_map<int, cublasHandle_t>();
  auto it = handles->find(s.index);
  if (it == handles->end()) {
    cublasHandle_t h = nullptr;
    UMA_CUBLAS_CHECK(cublasCreate(&h));
    // Default math: FP32 products stay FP32 (TF32 only with an explicit
    // *_FAST_TF32 compute type, never asked for here).
    UMA_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    it = handles->emplace(s.index, h).first;
  }
  UMA_CUBLAS_CHECK(cublasSetStream(it->second, cs));
  return it->second;
}

}  // namespace uma::cuda

namespace uma {

namespace {

// A matrix (rows, cols) at element strides (rs, cs) as cuBLAS takes it: a
// row-major matrix (trans = false) or a column-major one (trans = true),
// with leading dimension ld; false when it is neither (the CPU's blas_layout).
bool gemm_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool& trans, int64_t& ld) {
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1))) {
    trans = false;
    ld = rows == 1 ? std::max<int64_t>(cols, 1) : rs;
    return ld <= INT32_MAX;
  }
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1))) {
    trans = true;
    ld = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
    return ld <= INT32_MAX;
  }
  return false;
}

// Whether the batch offsets (row-major over bshape, strides st) are i * stride
// for the flattened batch index i.
bool uniform_batch(const std::vector<int64_t>& bshape, const std::vector<int64_t>& st, int64_t& stride) {
  stride = st.empty() ? 0 : st.back();
  int64_t expect = stride;
  for (int d = int(bshape.size()) - 1; d >= 0; --d) {
    if (st[size_t(d)] != expect) return false;
    expect *= bshape[size_t(d)];
  }
  return true;
}

// One operand of the product as cuBLAS reads it.
struct Operand {
  array src;  // the input, or its row-major copy
  const void* ptr = nullptr;
  bool trans = false;
  int64_t ld = 0, batch_stride = 0;
  int64_t rs = 0, cs = 0;
  std::vector<int64_t> bst;  // strides of the (size > 1) batch dims of out
};

// Describes x (..., rows, cols) over out's batch dims; copies it to
// row-major when its matrix or batch layout is beyond cuBLAS.
Operand make_operand(const array& x, const array& out, int64_t rows, int64_t cols, const Stream& s) {
  auto describe = [&](const array& a) {
    Operand o{a};
    int nd = int(out.ndim());
    o.rs = a.strides(-2);
    o.cs = a.strides(-1);
    for (int d = 0; d < nd - 2; ++d) {
      if (out.shape(d) != 1) o.bst.push_back(a.strides(d));
    }
    return o;
  };
  std::vector<int64_t> bshape;
  for (int d = 0; d < int(out.ndim()) - 2; ++d) {
    if (out.shape(d) != 1) bshape.push_back(out.shape(d));
  }
  Operand o = describe(x);
  bool ok = gemm_layout(rows, cols, o.rs, o.cs, o.trans, o.ld) && uniform_batch(bshape, o.bst, o.batch_stride);
  if (!ok) {
    array tmp(x.shape(), x.dtype(), nullptr, {});
    cuda::copy_to_new(x, tmp, s);
    o = describe(tmp);
    bool ok2 = gemm_layout(rows, cols, o.rs, o.cs, o.trans, o.ld) && uniform_batch(bshape, o.bst, o.batch_stride);
    if (!ok2) throw std::logic_error("[matmul] a row-major copy has no cuBLAS layout");
  }
  o.ptr = cuda::in_ptr(o.src, s);
  return o;
}

template <typename T>
__global__ void scale_kernel(T* p, int64_t n, float beta) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (std::is_same_v<T, cuda::complex64>) {
      p[i] = cuda::complex64{p[i].re * beta, p[i].im * beta};
    } else {
      p[i] = cuda::convert<T>(cuda::to_double(p[i]) * double(beta));
    }
  }
}

// out = beta * out (an empty product, K == 0), as the CPU's scale_in_place.
void scale_in_place(array& out, void* p, float beta, const Stream& s) {
  cudaStream_t cs = cuda::stream(s);
  if (beta == 0.f) {
    UMA_CUDA_CHECK(cudaMemsetAsync(p, 0, out.nbytes(), cs));
    return;
  }
  if (beta == 1.f) return;
  int64_t n = int64_t(out.size());
  cuda::dispatch(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || cuda::is_half_v<T> || std::is_same_v<T, cuda::complex64>) {
      int grid = std::max(1, std::min(cuda::blocks_for(size_t(n), 256), 65535 * 4));
      scale_kernel<T><<<grid, 256, 0, cs>>>(static_cast<T*>(p), n, beta);
      UMA_CUDA_LAUNCHED("matmul_scale");
    } else {
      throw std::invalid_argument(std::string("[matmul] no CUDA kernel for dtype ") + dtype_name(out.dtype()));
    }
  });
}

struct CublasTypes {
  cudaDataType data;
  cublasComputeType_t compute;
};

CublasTypes cublas_types(Dtype t) {
  switch (t) {
    case Dtype::float32: return {CUDA_R_32F, CUBLAS_COMPUTE_32F};
    case Dtype::float16: return {CUDA_R_16F, CUBLAS_COMPUTE_32F};
    case Dtype::bfloat16: return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
    case Dtype::float64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F};
    case Dtype::complex64: return {CUDA_C_32F, CUBLAS_COMPUTE_32F};
    default: throw std::invalid_argument(std::string("[matmul] no CUDA kernel for dtype ") + dtype_name(t));
  }
}

bool cublas_dtype(Dtype t) {
  return t == Dtype::float32 || t == Dtype::float16 || t == Dtype::bfloat16 || t == Dtype::float64 ||
         t == Dtype::complex64;
}

// out (row-major, its device data at c; holding c's values when beta != 0)
// = alpha * a @ b + beta * out.
void matmul_into(const array& a_in, const array& b_in, array& out, void* c, float alpha, float beta,
                 const Stream& s) {
  const int nd = int(out.ndim());
  const int64_t M = out.shape(-2), N = out.shape(-1), K = a_in.shape(-1);
  if (out.size() == 0) return;
  if (K == 0) return scale_in_place(out, c, beta, s);

  int64_t nbatch = 1;
  for (int d = 0; d < nd - 2; ++d) nbatch *= out.shape(d);
  if (nbatch > INT32_MAX) throw std::invalid_argument("[matmul] more than 2^31 - 1 matrices in one product");

  Operand a = make_operand(a_in, out, M, K, s);
  Operand b = make_operand(b_in, out, K, N, s);

  // Row-major C (M, N) is column-major C^T (N, M) = B^T A^T: cuBLAS's first
  // operand is b (row-major b reads as B^T untransposed), the second a.
  int64_t m_rows = M, batches = nbatch, a_batch = a.batch_stride, lda = a.ld;
  bool b_shared = b.batch_stride == 0;
  if (nbatch > 1 && b_shared && !a.trans && M * nbatch <= INT32_MAX) {
    // A weight shared by the batch: a's batches, if their rows are evenly
    // spaced, are one (M * nbatch, K) matrix (x (B, T, C) @ W).
    int64_t row_step = M == 1 ? a.batch_stride : a.ld;
    if (a.batch_stride == row_step * M && row_step >= std::max<int64_t>(K, 1) && row_step <= INT32_MAX) {
      m_rows = M * nbatch;
      batches = 1;
      lda = row_step;
      a_batch = 0;
    }
  }

  CublasTypes ty = cublas_types(out.dtype());
  float alpha_f = alpha, beta_f = beta;
  double alpha_d = alpha, beta_d = beta;
  cuComplex alpha_c = make_cuComplex(alpha, 0.f), beta_c = make_cuComplex(beta, 0.f);
  const void *alpha_p = &alpha_f, *beta_p = &beta_f;
  if (out.dtype() == Dtype::float64) {
    alpha_p = &alpha_d;
    beta_p = &beta_d;
  } else if (out.dtype() == Dtype::complex64) {
    alpha_p = &alpha_c;
    beta_p = &beta_c;
  }

  cublasHandle_t h = cuda::cublas_handle(s);
  UMA_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, b.trans ? CUBLAS_OP_T : CUBLAS_OP_N, a.trans ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(m_rows), int(K),
      alpha_p, b.ptr, ty.data, int(b.ld), b.batch_stride, a.ptr, ty.data, int(lda), a_batch, beta_p, c, ty.data,
      int(N), M * N, int(batches), ty.compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void Matmul::eval_gpu(const std::vector<array>& inputs, array& out) {
  if (!cublas_dtype(out.dtype())) {
    std::vector<array> outs{out};
    cuda::cpu_fallback(*this, inputs, outs);
    return;
  }
  void* c = cuda::out_ptr(out, stream());
  matmul_into(inputs[0], inputs[1], out, c, 1.f, 0.f, stream());
}

void AddMM::eval_gpu(const std::vector<array>& inputs, array& out) {
  if (!cublas_dtype(out.dtype())) {
    std::vector<array> outs{out};
    cuda::cpu_fallback(*this, inputs, outs);
    return;
  }
  void* c = cuda::out_ptr(out, stream());
  if (out.size() == 0) return;
  const array& cin = inputs[2];
  if (beta_ != 0.f) {
    cuda::copy_strided(cin, out.shape(), cin.strides(), 0, out, detail::row_strides(out.shape()), 0, stream());
  }
  matmul_into(inputs[0], inputs[1], out, c, alpha_, beta_, stream());
}

}  // namespace uma
