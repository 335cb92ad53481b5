// CPU kernels of the LAPACK family through LAPACKE (row-major calls: LAPACKE
// transposes to LAPACK's column-major layout and back). Each kernel copies its
// input, of any layout, into a row-major buffer and factors the batch's
// matrices one per task. LAPACK's failures ("info > 0") become
// std::invalid_argument naming the op and the batch element.
#include <lapacke.h>

#include <algorithm>
#include <atomic>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/linalg_lapack.h"

namespace uma {

namespace {

using lapack_int_t = lapack_int;

// --- float / double overloads of the LAPACKE calls
lapack_int_t getrf(int m, int n, float* a, lapack_int_t* ipiv) { return LAPACKE_sgetrf(LAPACK_ROW_MAJOR, m, n, a, n, ipiv); }
lapack_int_t getrf(int m, int n, double* a, lapack_int_t* ipiv) { return LAPACKE_dgetrf(LAPACK_ROW_MAJOR, m, n, a, n, ipiv); }
lapack_int_t getri(int n, float* a, const lapack_int_t* ipiv) { return LAPACKE_sgetri(LAPACK_ROW_MAJOR, n, a, n, ipiv); }
lapack_int_t getri(int n, double* a, const lapack_int_t* ipiv) { return LAPACKE_dgetri(LAPACK_ROW_MAJOR, n, a, n, ipiv); }
lapack_int_t gesv(int n, int k, float* a, lapack_int_t* ipiv, float* b) {
  return LAPACKE_sgesv(LAPACK_ROW_MAJOR, n, k, a, n, ipiv, b, k);
}
lapack_int_t gesv(int n, int k, double* a, lapack_int_t* ipiv, double* b) {
  return LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, k, a, n, ipiv, b, k);
}
lapack_int_t trtri(char uplo, int n, float* a) { return LAPACKE_strtri(LAPACK_ROW_MAJOR, uplo, 'N', n, a, n); }
lapack_int_t trtri(char uplo, int n, double* a) { return LAPACKE_dtrtri(LAPACK_ROW_MAJOR, uplo, 'N', n, a, n); }
lapack_int_t potrf(int n, float* a) { return LAPACKE_spotrf(LAPACK_ROW_MAJOR, 'L', n, a, n); }
lapack_int_t potrf(int n, double* a) { return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, a, n); }
lapack_int_t geqrf(int m, int n, float* a, float* tau) { return LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau); }
lapack_int_t geqrf(int m, int n, double* a, double* tau) { return LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, a, n, tau); }
lapack_int_t orgqr(int m, int k, float* a, int lda, const float* tau) {
  return LAPACKE_sorgqr(LAPACK_ROW_MAJOR, m, k, k, a, lda, tau);
}
lapack_int_t orgqr(int m, int k, double* a, int lda, const double* tau) {
  return LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, k, k, a, lda, tau);
}
lapack_int_t gesdd(char job, int m, int n, float* a, float* s, float* u, float* vt) {
  return LAPACKE_sgesdd(LAPACK_ROW_MAJOR, job, m, n, a, n, s, u, std::max(m, 1), vt, std::max(n, 1));
}
lapack_int_t gesdd(char job, int m, int n, double* a, double* s, double* u, double* vt) {
  return LAPACKE_dgesdd(LAPACK_ROW_MAJOR, job, m, n, a, n, s, u, std::max(m, 1), vt, std::max(n, 1));
}
lapack_int_t syevd(char job, int n, float* a, float* w) { return LAPACKE_ssyevd(LAPACK_ROW_MAJOR, job, 'L', n, a, n, w); }
lapack_int_t syevd(char job, int n, double* a, double* w) { return LAPACKE_dsyevd(LAPACK_ROW_MAJOR, job, 'L', n, a, n, w); }
lapack_int_t geev(char job, int n, float* a, float* wr, float* wi, float* vr) {
  float vl = 0;
  return LAPACKE_sgeev(LAPACK_ROW_MAJOR, 'N', job, n, a, n, wr, wi, &vl, 1, vr, n);
}
lapack_int_t geev(char job, int n, double* a, double* wr, double* wi, double* vr) {
  double vl = 0;
  return LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', job, n, a, n, wr, wi, &vl, 1, vr, n);
}

int64_t rows_of(const array& a) { return a.shape(-2); }
int64_t cols_of(const array& a) { return a.shape(-1); }
int64_t batch_of(const array& a) {
  int64_t m = rows_of(a) * cols_of(a);
  return m == 0 ? 0 : int64_t(a.size()) / m;
}

// A row-major copy of `a` as T.
template <typename T>
std::vector<T> row_major(const array& a) {
  std::vector<T> v(a.size());
  detail::read_elements(a, v.data(), a.dtype());
  return v;
}

// Runs f(b) for every matrix b of the batch, one per task (LAPACK is called
// from several threads at once, as matmul calls BLAS); the first failure,
// f's nonzero return, is rethrown after the loop as "[op] ... message".
template <typename F>
void for_each_matrix(int64_t batch, int64_t n, const char* op, const char* failure, F&& f) {
  std::atomic<int64_t> failed{-1};
  std::atomic<int64_t> info{0};
  auto run = [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      int64_t r = f(int64_t(b));
      if (r != 0) {
        int64_t expected = -1;
        if (failed.compare_exchange_strong(expected, int64_t(b))) info = r;
      }
    }
  };
  if (batch > 1 && n <= 256) {
    cpu::parallel_for(size_t(batch), 1, run);
  } else {
    run(0, size_t(batch));
  }
  if (failed >= 0) {
    std::string where = batch > 1 ? " (batch element " + std::to_string(failed.load()) + ")" : "";
    if (info < 0) {
      throw std::runtime_error(std::string("[") + op + "] LAPACK rejected argument " + std::to_string(-info) + where);
    }
    throw std::invalid_argument(std::string("[") + op + "] " + failure + where + " (LAPACK info " +
                                std::to_string(info.load()) + ")");
  }
}

template <typename F>
void dispatch_float(Dtype t, const char* op, F&& f) {
  if (t == float32) return f(float{});
  if (t == float64) return f(double{});
  throw std::invalid_argument(std::string("[") + op + "] no CPU kernel for dtype " + dtype_name(t));
}

// Zeroes the strict upper (or lower) triangle of each n x n matrix.
template <typename T>
void zero_triangle(T* a, int64_t n, bool upper) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      if (upper ? j > i : j < i) a[i * n + j] = T(0);
    }
  }
}

}  // namespace

void Inverse::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  int64_t n = cols_of(a), batch = batch_of(a);
  const char* op = tri_ ? "linalg::tri_inv" : "linalg::inv";
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out.raw_ptr());
    detail::read_elements(a, o, a.dtype());
    for_each_matrix(batch, n, op, "the matrix is singular", [&](int64_t b) -> int64_t {
      T* m = o + b * n * n;
      if (tri_) {
        zero_triangle(m, n, !upper_);
        return trtri(upper_ ? 'U' : 'L', int(n), m);
      }
      std::vector<lapack_int_t> ipiv(std::max<int64_t>(n, 1));
      lapack_int_t info = getrf(int(n), int(n), m, ipiv.data());
      return info != 0 ? info : getri(int(n), m, ipiv.data());
    });
  });
}

void Solve::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  const array& b = inputs[1];
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  int64_t n = cols_of(a), k = b.shape(-1), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::solve", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> lu(size_t(batch * n * n));
    detail::read_elements(a, lu.data(), a.dtype());
    T* x = static_cast<T*>(out.raw_ptr());
    detail::read_elements(b, x, b.dtype());
    for_each_matrix(batch, n, "linalg::solve", "the matrix is singular", [&](int64_t i) -> int64_t {
      std::vector<lapack_int_t> ipiv(std::max<int64_t>(n, 1));
      return gesv(int(n), int(k), lu.data() + i * n * n, ipiv.data(), x + i * n * k);
    });
  });
}

void Cholesky::eval_cpu(const std::vector<array>& inputs, array& out) {
  const array& a = inputs[0];
  out.set_data(allocator::malloc(out.nbytes()));
  int64_t n = cols_of(a), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::cholesky", [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out.raw_ptr());
    detail::read_elements(a, o, a.dtype());
    for_each_matrix(batch, n, "linalg::cholesky", "the matrix is not positive definite", [&](int64_t b) -> int64_t {
      T* m = o + b * n * n;
      lapack_int_t info = potrf(int(n), m);
      zero_triangle(m, n, true);
      return info;
    });
  });
}

void QRF::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  array &q = outputs[0], &r = outputs[1];
  q.set_data(allocator::malloc(q.nbytes()));
  r.set_data(allocator::malloc(r.nbytes()));
  int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::qr", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> buf = row_major<T>(a);
    T* qo = static_cast<T*>(q.raw_ptr());
    T* ro = static_cast<T*>(r.raw_ptr());
    for_each_matrix(batch, std::max(m, n), "linalg::qr", "the factorization failed", [&](int64_t b) -> int64_t {
      T* x = buf.data() + b * m * n;
      std::vector<T> tau(std::max<int64_t>(k, 1));
      if (k == 0) return 0;
      lapack_int_t info = geqrf(int(m), int(n), x, tau.data());
      if (info != 0) return info;
      T* rb = ro + b * k * n;
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t j = 0; j < n; ++j) rb[i * n + j] = j >= i ? x[i * n + j] : T(0);
      }
      // Q's k columns from the reflectors stored below R (row stride n).
      info = orgqr(int(m), int(k), x, int(n), tau.data());
      T* qb = qo + b * m * k;
      for (int64_t i = 0; i < m; ++i) std::memcpy(qb + i * k, x + i * n, size_t(k) * sizeof(T));
      return info;
    });
  });
}

void SVD::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::svd", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> buf = row_major<T>(a);
    T* s = static_cast<T*>(outputs[compute_uv_ ? 1 : 0].raw_ptr());
    T* u = compute_uv_ ? static_cast<T*>(outputs[0].raw_ptr()) : nullptr;
    T* vt = compute_uv_ ? static_cast<T*>(outputs[2].raw_ptr()) : nullptr;
    for_each_matrix(batch, std::max(m, n), "linalg::svd", "the SVD did not converge", [&](int64_t b) -> int64_t {
      if (k == 0) {
        // Empty matrix: U and Vt are identities.
        if (u) for (int64_t i = 0; i < m; ++i) for (int64_t j = 0; j < m; ++j) u[b * m * m + i * m + j] = T(i == j);
        if (vt) for (int64_t i = 0; i < n; ++i) for (int64_t j = 0; j < n; ++j) vt[b * n * n + i * n + j] = T(i == j);
        return 0;
      }
      T dummy[1];
      return gesdd(compute_uv_ ? 'A' : 'N', int(m), int(n), buf.data() + b * m * n, s + b * k,
                   u ? u + b * m * m : dummy, vt ? vt + b * n * n : dummy);
    });
  });
}

void Eigh::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  int64_t n = cols_of(a), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::eigh", [&](auto tag) {
    using T = decltype(tag);
    T* w = static_cast<T*>(outputs[0].raw_ptr());
    std::vector<T> scratch;
    T* v;
    if (compute_vectors_) {
      v = static_cast<T*>(outputs[1].raw_ptr());
      detail::read_elements(a, v, a.dtype());
    } else {
      scratch = row_major<T>(a);
      v = scratch.data();
    }
    for_each_matrix(batch, n, "linalg::eigh", "the eigensolver did not converge", [&](int64_t b) -> int64_t {
      if (n == 0) return 0;
      return syevd(compute_vectors_ ? 'V' : 'N', int(n), v + b * n * n, w + b * n);
    });
  });
}

void Eig::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  int64_t n = cols_of(a), batch = batch_of(a);
  dispatch_float(a.dtype(), "linalg::eig", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> buf = row_major<T>(a);
    auto* w = static_cast<complex64_t*>(outputs[0].raw_ptr());
    auto* v = compute_vectors_ ? static_cast<complex64_t*>(outputs[1].raw_ptr()) : nullptr;
    for_each_matrix(batch, n, "linalg::eig", "the eigensolver did not converge", [&](int64_t b) -> int64_t {
      if (n == 0) return 0;
      std::vector<T> wr(n), wi(n), vr(compute_vectors_ ? n * n : 1);
      lapack_int_t info = geev(compute_vectors_ ? 'V' : 'N', int(n), buf.data() + b * n * n, wr.data(), wi.data(),
                               vr.data());
      if (info != 0) return info;
      for (int64_t j = 0; j < n; ++j) w[b * n + j] = complex64_t(float(wr[j]), float(wi[j]));
      if (!v) return 0;
      // A complex pair (j, j + 1) stores re in column j, im in column j + 1.
      complex64_t* vb = v + b * n * n;
      for (int64_t j = 0; j < n; ++j) {
        if (wi[j] != T(0) && j + 1 < n) {
          for (int64_t i = 0; i < n; ++i) {
            float re = float(vr[i * n + j]), im = float(vr[i * n + j + 1]);
            vb[i * n + j] = complex64_t(re, im);
            vb[i * n + j + 1] = complex64_t(re, -im);
          }
          ++j;
        } else {
          for (int64_t i = 0; i < n; ++i) vb[i * n + j] = complex64_t(float(vr[i * n + j]), 0.f);
        }
      }
      return 0;
    });
  });
}

void LUF::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  for (auto& o : outputs) o.set_data(allocator::malloc(o.nbytes()));
  int64_t m = rows_of(a), n = cols_of(a), k = std::min(m, n), batch = batch_of(a);
  auto* piv = static_cast<uint32_t*>(outputs[1].raw_ptr());
  auto* rows = static_cast<uint32_t*>(outputs[2].raw_ptr());
  dispatch_float(a.dtype(), "linalg::lu", [&](auto tag) {
    using T = decltype(tag);
    T* lu = static_cast<T*>(outputs[0].raw_ptr());
    detail::read_elements(a, lu, a.dtype());
    // A singular matrix still factors (U has a zero pivot); only inv and
    // solve refuse it.
    for_each_matrix(batch, std::max(m, n), "linalg::lu", "the factorization failed", [&](int64_t b) -> int64_t {
      std::vector<lapack_int_t> ipiv(std::max<int64_t>(k, 1));
      lapack_int_t info = k == 0 ? 0 : getrf(int(m), int(n), lu + b * m * n, ipiv.data());
      if (info < 0) return info;
      // perm: (P a)[i] = a[perm[i]] = (L U)[i]; MLX's rows invert it.
      std::vector<uint32_t> perm(m);
      for (int64_t i = 0; i < m; ++i) perm[i] = uint32_t(i);
      for (int64_t i = 0; i < k; ++i) {
        piv[b * k + i] = uint32_t(ipiv[i] - 1);
        std::swap(perm[i], perm[ipiv[i] - 1]);
      }
      for (int64_t i = 0; i < m; ++i) rows[b * m + perm[i]] = uint32_t(i);
      return 0;
    });
  });
}

}  // namespace uma
