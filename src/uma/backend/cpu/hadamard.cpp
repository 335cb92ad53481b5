// CPU kernel of Hadamard. Each row of n = m * 2^k values is computed in
// float32 (float64 for float64 rows) and rounded once: Sylvester butterflies
// on each of the m blocks of 2^k (in place, O(n log n)), then the m x m
// matrix across the blocks (m > 1), then the scale.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "uma/backend/cpu/row_major.h"
#include "uma/backend/cpu/scratch.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/linalg.h"

namespace uma {

namespace {

// The Hadamard matrices of orders 12, 20 and 28 that MLX uses (from N. J. A.
// Sloane's library): row j has bit k set where H(j, k) = +1, else H(j, k) = -1.
constexpr uint32_t kH12[12] = {0x0000ffd, 0x0000554, 0x0000c37, 0x0000691, 0x00000df, 0x0000a45,
                               0x0000373, 0x0000919, 0x0000dc3, 0x0000469, 0x000070f, 0x00001a5};
constexpr uint32_t kH20[20] = {0x006cc21, 0x00d1c42, 0x00ab884, 0x005f108, 0x00b6610, 0x009c83e, 0x003945d,
                               0x007289b, 0x00e5117, 0x00ca60f, 0x00f05ac, 0x00e8b58, 0x00d92b1, 0x00ba163,
                               0x007c2c6, 0x0008592, 0x0010b05, 0x002122a, 0x0042074, 0x00840c9};
constexpr uint32_t kH28[28] = {0x3296181, 0x6528382, 0xc854704, 0x92a8e08, 0x2751c10, 0x4ca7820, 0x994b0c0,
                               0x4b980bc, 0x9534178, 0x2a6c271, 0x54d8463, 0xa9b0847, 0x536500f, 0xa4ce01e,
                               0x7804cda, 0xf009935, 0xe21326a, 0xc6224d5, 0x8e409ab, 0x1e81356, 0x3d0262d,
                               0x030ed66, 0x041dacd, 0x083b51b, 0x1072ab6, 0x20e15ec, 0x41c2b59, 0x81856b3};

// Rows of H_m (transposed: of H_m^T) as sign masks; m = 1 has none.
std::vector<uint32_t> sign_rows(int m, bool transposed) {
  const uint32_t* h = m == 12 ? kH12 : m == 20 ? kH20 : m == 28 ? kH28 : nullptr;
  std::vector<uint32_t> rows(h ? size_t(m) : 0, 0);
  for (size_t j = 0; j < rows.size(); ++j) {
    if (!transposed) {
      rows[j] = h[j];
    } else {
      for (int k = 0; k < m; ++k) rows[j] |= ((h[k] >> j) & 1u) << k;
    }
  }
  return rows;
}

// Stages h = 1, 2, 4 on 8 float32 values in a register: lane i pairs with
// lane i ^ h; the lower lane gets the sum, the upper the difference.
inline __m256 butterfly8(__m256 v) {
  __m256 t = _mm256_permute_ps(v, 0xB1);  // [1, 0, 3, 2]
  v = _mm256_blend_ps(_mm256_add_ps(v, t), _mm256_sub_ps(t, v), 0xAA);
  t = _mm256_permute_ps(v, 0x4E);  // [2, 3, 0, 1]
  v = _mm256_blend_ps(_mm256_add_ps(v, t), _mm256_sub_ps(t, v), 0xCC);
  t = _mm256_permute2f128_ps(v, v, 1);  // halves swapped
  return _mm256_blend_ps(_mm256_add_ps(v, t), _mm256_sub_ps(t, v), 0xF0);
}

// x (p = 2^k values) <- H_p x, Sylvester's H_p, in place.
template <typename C>
void butterflies(C* x, int64_t p) {
  int64_t h = 1;
  if constexpr (std::is_same_v<C, float>) {
    if (p >= 8) {
      for (int64_t j = 0; j < p; j += 8) _mm256_storeu_ps(x + j, butterfly8(_mm256_loadu_ps(x + j)));
      h = 8;
    }
  }
  // Two stages (h and 2h) per pass over the data; the inner loops are
  // contiguous runs of h values, vectorized by the compiler.
  for (; 4 * h <= p; h *= 4) {
    for (int64_t j = 0; j < p; j += 4 * h) {
      C* a = x + j;
      C* b = a + h;
      C* c = b + h;
      C* d = c + h;
#pragma GCC ivdep
      for (int64_t i = 0; i < h; ++i) {
        C s0 = a[i] + b[i], d0 = a[i] - b[i], s1 = c[i] + d[i], d1 = c[i] - d[i];
        a[i] = s0 + s1;
        b[i] = d0 + d1;
        c[i] = s0 - s1;
        d[i] = d0 - d1;
      }
    }
  }
  if (2 * h <= p) {
    for (int64_t j = 0; j < p; j += 2 * h) {
      C* a = x + j;
      C* b = a + h;
#pragma GCC ivdep
      for (int64_t i = 0; i < h; ++i) {
        C u = a[i], w = b[i];
        a[i] = u + w;
        b[i] = u - w;
      }
    }
  }
}

// y (m blocks of p) <- (S (x) I_p) x for the sign rows S of H_m.
template <typename C>
void across_blocks(const C* __restrict x, C* __restrict y, const std::vector<uint32_t>& rows, int64_t p) {
  const size_t m = rows.size();
  for (size_t j = 0; j < m; ++j) {
    C* yj = y + int64_t(j) * p;
    const bool first_plus = rows[j] & 1u;
    for (int64_t i = 0; i < p; ++i) yj[i] = first_plus ? x[i] : -x[i];
    for (size_t k = 1; k < m; ++k) {
      const C* xk = x + int64_t(k) * p;
      if ((rows[j] >> k) & 1u) {
        for (int64_t i = 0; i < p; ++i) yj[i] += xk[i];
      } else {
        for (int64_t i = 0; i < p; ++i) yj[i] -= xk[i];
      }
    }
  }
}

// Rows [r0, r1) of in (row-major, n per row) into out.
template <typename T, typename C>
void transform_rows(const T* in, T* out, int64_t n, int m, const std::vector<uint32_t>& rows, float scale,
                    int64_t r0, int64_t r1) {
  const int64_t p = n / m;
  cpu::Scratch<C> buf(size_t(m > 1 ? 2 * n : n));
  C* x = buf.data();
  C* y = m > 1 ? x + n : x;
  const C sc = C(scale);
  for (int64_t r = r0; r < r1; ++r) {
    if constexpr (std::is_same_v<C, float>) {
      cpu::load_f32(in + r * n, x, n);
    } else {
      std::memcpy(x, in + r * n, size_t(n) * sizeof(C));
    }
    for (int64_t b = 0; b < m; ++b) butterflies(x + b * p, p);
    if (m > 1) across_blocks(x, y, rows, p);
    for (int64_t i = 0; i < n; ++i) y[i] *= sc;
    if constexpr (std::is_same_v<C, float>) {
      cpu::store_f32(y, out + r * n, n);
    } else {
      std::memcpy(out + r * n, y, size_t(n) * sizeof(C));
    }
  }
}

}  // namespace

void Hadamard::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const int64_t n = out.ndim() > 0 ? out.shape(-1) : 1;
  const int m = block_order(n);
  if (m == 0) {
    throw std::invalid_argument("[hadamard_transform] no Hadamard matrix of order " + std::to_string(n));
  }
  array in = cpu::row_major(inputs[0]);
  const std::vector<uint32_t> rows = sign_rows(m, transposed_);
  const int64_t nrows = int64_t(out.size()) / n;
  cpu::dispatch_float(out.dtype(), "hadamard_transform", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
    const T* src = static_cast<const T*>(in.raw_ptr());
    T* dst = static_cast<T*>(out.raw_ptr());
    size_t grain = size_t(std::max<int64_t>(1, (int64_t(1) << 14) / n));
    cpu::parallel_for(size_t(nrows), grain, [&](size_t r0, size_t r1) {
      transform_rows<T, C>(src, dst, n, m, rows, scale_, int64_t(r0), int64_t(r1));
    });
  });
}

}  // namespace uma
