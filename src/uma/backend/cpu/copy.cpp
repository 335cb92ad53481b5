#include "uma/backend/cpu/copy.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "uma/backend/cpu/simd/vec.h"
#include "uma/backend/cpu/strided.h"

namespace uma::cpu {

namespace {

template <typename From, typename To>
void convert_row(const From* s, int64_t ss, To* d, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = convert<To>(s[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * ds] = convert<To>(s[i * ss]);
  }
}

// 8 x 8 blocks of 2-byte elements: rows r of 8 elements in, row j of the
// result (element r of every input row j) out (4-byte ones: vec.h's
// transpose8x8).
inline void transpose8(__m128i (&v)[8]) {
  __m128i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm_unpacklo_epi16(v[i], v[i + 1]);
    t[i + 1] = _mm_unpackhi_epi16(v[i], v[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm_unpacklo_epi32(t[i], t[i + 2]);
    u[i + 1] = _mm_unpackhi_epi32(t[i], t[i + 2]);
    u[i + 2] = _mm_unpacklo_epi32(t[i + 1], t[i + 3]);
    u[i + 3] = _mm_unpackhi_epi32(t[i + 1], t[i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    v[2 * c] = _mm_unpacklo_epi64(u[c], u[c + 4]);
    v[2 * c + 1] = _mm_unpackhi_epi64(u[c], u[c + 4]);
  }
}

// A copy whose destination is contiguous along dimension L (the last) and
// whose source is contiguous along another, J: the naive walk reads one
// element per cache line. Tiles of 8 along J and the whole of L instead:
// 8 source runs along J at each step of 8 along L, transposed in registers
// (T of 4 or 2 bytes), stored as 8 runs along L.
template <typename T>
void transpose_copy(const T* s, T* d, const Shape& shape, const std::array<Strides, 2>& st, int J) {
  const int L = int(shape.size()) - 1;
  const int64_t nJ = shape[J], nL = shape[L], sL = st[0][L], dJ = st[1][J];
  std::vector<int> outer;  // the other dimensions
  int64_t count = 1;
  for (int k = 0; k < L; ++k) {
    if (k != J) outer.push_back(k), count *= shape[k];
  }
  const int64_t blocks = (nJ + 7) / 8;
  parallel_for(size_t(count * blocks), std::max<size_t>(1, size_t(16384 / (8 * nL))), [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      int64_t o = int64_t(t) / blocks, j0 = int64_t(t) % blocks * 8, so = 0, dof = 0;
      for (size_t i = outer.size(); i-- > 0;) {
        const int k = outer[i];
        const int64_t x = o % shape[k];
        o /= shape[k];
        so += x * st[0][k], dof += x * st[1][k];
      }
      const T* sp = s + so + j0;  // element (j, l) at sp[j + l sL]
      T* dp = d + dof + j0 * dJ;  // and at dp[j dJ + l]
      const int64_t jn = std::min<int64_t>(8, nJ - j0);
      int64_t l = 0;
      if (jn == 8) {
        if constexpr (sizeof(T) == 4) {
          for (; l + 8 <= nL; l += 8) {
            __m256i v[8];
            for (int r = 0; r < 8; ++r) v[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sp + (l + r) * sL));
            simd::avx2::transpose8x8(v);
            for (int j = 0; j < 8; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dp + j * dJ + l), v[j]);
          }
        } else if constexpr (sizeof(T) == 2) {
          for (; l + 8 <= nL; l += 8) {
            __m128i v[8];
            for (int r = 0; r < 8; ++r) v[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sp + (l + r) * sL));
            transpose8(v);
            for (int j = 0; j < 8; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(dp + j * dJ + l), v[j]);
          }
        }
      }
      for (; l < nL; ++l) {
        for (int64_t j = 0; j < jn; ++j) dp[j * dJ + l] = sp[j + l * sL];
      }
    }
  });
}

void copy_general(const void* src, Dtype st, void* dst, Dtype dt, Shape shape, Strides sstr, Strides dstr) {
  std::array<Strides, 2> strides{std::move(sstr), std::move(dstr)};
  collapse_dims(shape, strides);
  size_t ssz = size_of(st), dsz = size_of(dt);
  if (st == dt && (ssz == 2 || ssz == 4 || ssz == 8) && strides[1].back() == 1 && strides[0].back() != 1 &&
      shape.back() >= 8) {
    // A transposing copy: the source contiguous along another dimension.
    for (int j = 0; j + 1 < int(shape.size()); ++j) {
      if (strides[0][j] != 1 || shape[j] < 8) continue;
      if (ssz == 2) {
        transpose_copy(static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), shape, strides, j);
      } else if (ssz == 4) {
        transpose_copy(static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), shape, strides, j);
      } else {
        transpose_copy(static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), shape, strides, j);
      }
      return;
    }
  }
  if (st == dt && strides[0].back() == 1 && strides[1].back() == 1) {
    for_each_row<2>(shape, strides, true, [&](const std::array<int64_t, 2>& off, int64_t n, auto&) {
      std::memcpy(static_cast<char*>(dst) + off[1] * dsz, static_cast<const char*>(src) + off[0] * ssz, n * ssz);
    });
    return;
  }
  dispatch_all(st, [&](auto ftag) {
    using From = typename decltype(ftag)::type;
    dispatch_all(dt, [&](auto ttag) {
      using To = typename decltype(ttag)::type;
      const From* s = static_cast<const From*>(src);
      To* d = static_cast<To*>(dst);
      for_each_row<2>(shape, strides, true, [&](const std::array<int64_t, 2>& off, int64_t n,
                                                const std::array<int64_t, 2>& inner) {
        convert_row(s + off[0], inner[0], d + off[1], inner[1], n);
      });
    });
  });
}

}  // namespace

void copy_to_new(const array& src, array& dst) {
  dst.set_data(allocator::malloc(dst.nbytes()));
  if (dst.size() == 0) return;
  if (src.flags().row_contiguous && src.dtype() == dst.dtype()) {
    const char* s = static_cast<const char*>(src.raw_ptr());
    char* d = static_cast<char*>(dst.raw_ptr());
    size_t bytes = dst.nbytes();
    parallel_for(bytes, size_t(1) << 20, [&](size_t b, size_t e) { std::memcpy(d + b, s + b, e - b); });
    return;
  }
  copy_general(src.raw_ptr(), src.dtype(), dst.raw_ptr(), dst.dtype(), src.shape(), src.strides(),
               detail::row_strides(src.shape()));
}

void copy_strided(const array& src, const Shape& shape, const Strides& src_strides, int64_t src_offset, array& dst,
                  const Strides& dst_strides, int64_t dst_offset) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  if (n == 0) return;
  const char* s = static_cast<const char*>(src.raw_ptr()) + src_offset * int64_t(src.itemsize());
  char* d = static_cast<char*>(dst.raw_ptr()) + dst_offset * int64_t(dst.itemsize());
  copy_general(s, src.dtype(), d, dst.dtype(), shape, src_strides, dst_strides);
}

void fill(const array& scalar, array& dst) {
  if (dst.size() == 0) return;
  Shape shape = dst.shape();
  copy_general(scalar.raw_ptr(), scalar.dtype(), dst.raw_ptr(), dst.dtype(), shape, Strides(shape.size(), 0),
               detail::row_strides(shape));
}

}  // namespace uma::cpu

namespace uma::detail {

void read_elements(const array& a, void* dst, Dtype dst_dtype) {
  if (a.size() == 0) return;
  Shape shape = a.shape();
  Strides st = a.strides();
  if (shape.empty()) {
    shape = {1};
    st = {0};
  }
  array out(dst, a.shape(), dst_dtype, [](void*) {});  // caller owns dst
  cpu::copy_strided(a, shape, st, 0, out, row_strides(shape), 0);
}

}  // namespace uma::detail
