// CPU kernels of Matmul and AddMM, and the products of matmul.h that the
// gathered, segmented and block-masked kernels share: batching, layouts and
// BLAS. float32, float64 and complex64 go to OpenBLAS; bfloat16/float16 to
// gemm_half (gemm_half.cpp). Transposed operands are passed to BLAS as
// transposes, not copied; only layouts no BLAS call can express are copied
// first.
#include <cblas.h>

#include <complex>
#include <cstring>

#include "uma/backend/cpu/copy.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/indexing_utils.h"
#include "uma/backend/cpu/matmul.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/linalg.h"

namespace uma {

using cpu::MatRef;

namespace {

// BLAS takes a row-major matrix or its transpose with a leading dimension;
// returns false when (rs, cs) is neither.
bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, CBLAS_TRANSPOSE& t, int64_t& ld) {
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1))) {
    t = CblasNoTrans;
    ld = rows == 1 ? std::max<int64_t>(cols, 1) : rs;
    return ld <= INT32_MAX;
  }
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1))) {
    t = CblasTrans;
    ld = cols == 1 ? std::max<int64_t>(rows, 1) : cs;
    return ld <= INT32_MAX;
  }
  return false;
}

template <typename T>
void blas_call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha, const T* a, int lda,
               const T* b, int ldb, double beta, T* c, int ldc) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, float(alpha), a, lda, b, ldb, float(beta), c, ldc);
  } else if constexpr (std::is_same_v<T, double>) {
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    std::complex<float> al(float(alpha), 0.f), be(float(beta), 0.f);
    cblas_cgemm(CblasRowMajor, ta, tb, M, N, K, &al, a, lda, b, ldb, &be, c, ldc);
  }
}

// Products below this many multiply-adds run as one BLAS call.
constexpr int64_t kSplitWork = int64_t(1) << 18;

// blas_call on uma's pool: one block of C's rows (or columns, when C is wider
// than tall) per worker, rows in multiples of 8 and columns of 16 so each
// call keeps whole micro-tiles. OpenBLAS blocks only K within a call, so an
// element's sum keeps its order however C is split (the training tests see
// the same losses to the last digit).
template <typename T>
void blas_parallel(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha, const T* a,
                   int64_t lda, const T* b, int64_t ldb, double beta, T* c, int64_t ldc, bool serial) {
  cpu::single_thread_blas();
  const bool by_rows = M >= N;
  const int64_t extent = by_rows ? M : N, align = by_rows ? 8 : 16;
  int64_t parts = serial ? 1 : std::min<int64_t>(cpu::num_threads(), M * N * K / kSplitWork + 1);
  parts = std::min(parts, (extent + align - 1) / align);
  if (parts <= 1) {
    blas_call<T>(ta, tb, int(M), int(N), int(K), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
    return;
  }
  const int64_t chunk = (extent + parts - 1) / parts, step = (chunk + align - 1) / align * align;
  cpu::parallel_for(size_t(parts), 1, [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      const int64_t s = int64_t(p) * step, n = std::min(extent, s + step) - s;
      if (n <= 0) continue;
      if (by_rows) {
        blas_call<T>(ta, tb, int(n), int(N), int(K), alpha, ta == CblasNoTrans ? a + s * lda : a + s, int(lda), b,
                     int(ldb), beta, c + s * ldc, int(ldc));
      } else {
        blas_call<T>(ta, tb, int(M), int(n), int(K), alpha, a, int(lda), tb == CblasNoTrans ? b + s : b + s * ldb,
                     int(ldb), beta, c + s, int(ldc));
      }
    }
  });
}

// A row-major copy of a strided matrix (for layouts BLAS cannot take).
template <typename T>
allocator::Buffer copy_matrix(int64_t rows, int64_t cols, const T* src, int64_t rs, int64_t cs) {
  allocator::Buffer buf = allocator::malloc(size_t(rows * cols) * sizeof(T));
  T* d = static_cast<T*>(buf.ptr);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) d[i * cols + j] = src[i * rs + j * cs];
  }
  return buf;
}

template <typename T>
void gemm_blas(int64_t M, int64_t N, int64_t K, MatRef a, MatRef b, T* c, int64_t ldc, float alpha, float beta,
               bool serial) {
  CBLAS_TRANSPOSE ta, tb;
  int64_t lda, ldb;
  allocator::Buffer ca{}, cb{};
  const T* ap = static_cast<const T*>(a.ptr);
  const T* bp = static_cast<const T*>(b.ptr);
  if (!blas_layout(M, K, a.rs, a.cs, ta, lda)) {
    ca = copy_matrix(M, K, ap, a.rs, a.cs);
    ap = static_cast<const T*>(ca.ptr);
    ta = CblasNoTrans;
    lda = std::max<int64_t>(K, 1);
  }
  if (!blas_layout(K, N, b.rs, b.cs, tb, ldb)) {
    cb = copy_matrix(K, N, bp, b.rs, b.cs);
    bp = static_cast<const T*>(cb.ptr);
    tb = CblasNoTrans;
    ldb = std::max<int64_t>(N, 1);
  }
  blas_parallel<T>(ta, tb, M, N, K, alpha, ap, lda, bp, ldb, beta, c, ldc, serial);
  if (ca.ptr) allocator::free(ca);
  if (cb.ptr) allocator::free(cb);
}

}  // namespace

void cpu::blas_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                     const float* b, int64_t ldb, float beta, float* c, int64_t ldc, bool serial) {
  blas_parallel<float>(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, a, lda, b, ldb,
                       beta, c, ldc, serial);
}

void cpu::blas_dgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* a, int64_t lda,
                     const double* b, int64_t ldb, double beta, double* c, int64_t ldc, bool serial) {
  blas_parallel<double>(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, a, lda, b,
                        ldb, beta, c, ldc, serial);
}

void cpu::gemm(Dtype t, int64_t M, int64_t N, int64_t K, MatRef a, MatRef b, void* c, int64_t ldc, float alpha,
              float beta, bool serial) {
  switch (t) {
    case float32: return gemm_blas<float>(M, N, K, a, b, static_cast<float*>(c), ldc, alpha, beta, serial);
    case float64: return gemm_blas<double>(M, N, K, a, b, static_cast<double*>(c), ldc, alpha, beta, serial);
    case complex64:
      return gemm_blas<complex64_t>(M, N, K, a, b, static_cast<complex64_t*>(c), ldc, alpha, beta, serial);
    case bfloat16:
    case float16: {
      cpu::HalfGemm g;
      g.kind = t == bfloat16 ? cpu::HalfKind::bf16 : cpu::HalfKind::f16;
      g.M = M, g.N = N, g.K = K;
      g.a = static_cast<const uint16_t*>(a.ptr), g.a_rs = a.rs, g.a_cs = a.cs;
      g.b = static_cast<const uint16_t*>(b.ptr), g.b_rs = b.rs, g.b_cs = b.cs;
      g.c = static_cast<uint16_t*>(c), g.ldc = ldc, g.alpha = alpha, g.beta = beta;
      return cpu::gemm_half(g, cpu::GemmPath::automatic, serial);
    }
    default:
      throw std::invalid_argument(std::string("[matmul] no CPU kernel for dtype ") + dtype_name(t));
  }
}

void cpu::gemm_tasks(Dtype t, const std::vector<GemmTask>& tasks, int64_t N, int64_t ldc, float alpha,
                     float beta) {
  if (tasks.empty() || N == 0) return;
  const int64_t isz = int64_t(size_of(t));
  int64_t work = 0;
  for (auto& k : tasks) work += k.M * N * k.K;
  auto run = [&](size_t begin, size_t end, bool serial) {
    for (size_t i = begin; i < end; ++i) {
      const GemmTask& k = tasks[i];
      if (k.M == 0) continue;
      if (k.K == 0) {
        for (int64_t r = 0; r < k.M; ++r) std::memset(static_cast<char*>(k.c) + r * ldc * isz, 0, size_t(N * isz));
        continue;
      }
      gemm(t, k.M, N, k.K, k.a, k.b, k.c, ldc, alpha, beta, serial);
    }
  };
  // Many small products: one per task (BLAS runs these single-threaded).
  if (tasks.size() > 1 && work / int64_t(tasks.size()) < (int64_t(1) << 18)) {
    parallel_for(tasks.size(), 1, [&](size_t b0, size_t b1) { run(b0, b1, true); });
  } else {
    run(0, tasks.size(), false);
  }
}

int64_t cpu::matrix_offset(const array& x, int64_t i) {
  int64_t off = 0;
  for (int d = int(x.ndim()) - 3; d >= 0 && i > 0; --d) {
    off += (i % x.shape(d)) * x.strides(d);
    i /= x.shape(d);
  }
  return off;
}

std::vector<int64_t> cpu::matrix_indices(const array& idx, int64_t n, const char* op, const char* which,
                                         const char* of) {
  std::vector<int64_t> v = read_start_indices(idx);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= n) {
      throw std::invalid_argument("[" + std::string(op) + "] " + which + " holds " + std::to_string(v[i]) +
                                  " (flat position " + std::to_string(i) + "), out of range for the " +
                                  std::to_string(n) + " matrices of " + of);
    }
  }
  return v;
}

namespace {

// out = beta * out (K == 0: the product is empty).
void scale_in_place(array& out, float beta) {
  if (beta == 0.f) {
    std::memset(out.raw_ptr(), 0, out.nbytes());
    return;
  }
  if (beta == 1.f) return;
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bfloat16_t> || std::is_same_v<T, float16_t>) {
      T* d = static_cast<T*>(out.raw_ptr());
      for (size_t i = 0; i < out.size(); ++i) d[i] = T(double(d[i]) * beta);
    } else if constexpr (std::is_same_v<T, complex64_t>) {
      T* d = static_cast<T*>(out.raw_ptr());
      for (size_t i = 0; i < out.size(); ++i) d[i] *= beta;
    }
  });
}

// out (row-major, buffer set, holding c when beta != 0) = alpha * a @ b + beta * out.
void matmul_into(const array& a, const array& b, array& out, float alpha, float beta) {
  int nd = int(out.ndim());
  int64_t M = out.shape(-2), N = out.shape(-1), K = a.shape(-1);
  if (out.size() == 0) return;
  if (K == 0) return scale_in_place(out, beta);

  size_t isz = out.itemsize();
  const char* ap = static_cast<const char*>(a.raw_ptr());
  const char* bp = static_cast<const char*>(b.raw_ptr());
  char* cp = static_cast<char*>(out.raw_ptr());
  int64_t a_rs = a.strides(-2), a_cs = a.strides(-1), b_rs = b.strides(-2), b_cs = b.strides(-1);

  // Batch dims (size-1 dims dropped).
  std::vector<int64_t> bshape, ast, bst;
  for (int d = 0; d < nd - 2; ++d) {
    if (out.shape(d) == 1) continue;
    bshape.push_back(out.shape(d));
    ast.push_back(a.strides(d));
    bst.push_back(b.strides(d));
  }
  int64_t nbatch = 1;
  for (auto d : bshape) nbatch *= d;

  // b shared by every batch and a's batch rows evenly spaced: one GEMM with
  // M * nbatch rows (x (B, T, C) @ W).
  if (nbatch > 1) {
    bool b_shared = true, a_folds = true;
    int64_t expect = a_rs * M;
    for (int i = int(bshape.size()) - 1; i >= 0; --i) {
      b_shared &= bst[i] == 0;
      a_folds &= ast[i] == expect;
      expect *= bshape[i];
    }
    if (b_shared && a_folds && (M == 1 || a_rs != 0)) {
      cpu::gemm(out.dtype(), M * nbatch, N, K, {ap, a_rs, a_cs}, {bp, b_rs, b_cs}, cp, N, alpha, beta, false);
      return;
    }
  }

  std::vector<cpu::GemmTask> tasks(static_cast<size_t>(nbatch));
  for (int64_t i = 0; i < nbatch; ++i) {
    int64_t rem = i, ao = 0, bo = 0;
    for (int d = int(bshape.size()) - 1; d >= 0; --d) {
      int64_t idx = rem % bshape[d];
      rem /= bshape[d];
      ao += idx * ast[d];
      bo += idx * bst[d];
    }
    tasks[size_t(i)] = {{ap + ao * int64_t(isz), a_rs, a_cs}, {bp + bo * int64_t(isz), b_rs, b_cs},
                        cp + i * M * N * int64_t(isz), M, K};
  }
  cpu::gemm_tasks(out.dtype(), tasks, N, N, alpha, beta);
}

}  // namespace

void Matmul::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  matmul_into(inputs[0], inputs[1], out, 1.f, 0.f);
}

void AddMM::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  const array& c = inputs[2];
  if (beta_ != 0.f && out.size() > 0) {
    cpu::copy_strided(c, out.shape(), c.strides(), 0, out, detail::row_strides(out.shape()), 0);
  }
  matmul_into(inputs[0], inputs[1], out, alpha_, beta_);
}

}  // namespace uma
