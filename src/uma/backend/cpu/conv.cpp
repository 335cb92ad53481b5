// CPU kernel of Convolution: im2col over tiles of output rows, then one
// OpenBLAS GEMM per tile and group (sgemm for float32, dgemm for float64;
// bfloat16/float16 run in float32 and round once at the end). A direct loop
// serves groups too thin for a GEMM (depthwise convolutions). Inputs are
// copied to row-major first when they are not.
//
// Shapes, with spatial dimensions padded to three (size-1 dimensions in front):
//   x: (N, I0, I1, I2, C_in)   w: (C_out, K0, K1, K2, C_in / G)
//   out: (N, O0, O1, O2, C_out); a row is one output position (n, o0, o1, o2).

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "uma/backend/cpu/copy.h"
#include "uma/backend/cpu/gemm.h"
#include "uma/backend/cpu/scratch.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/conv.h"

namespace uma {

namespace {

struct ConvGeom {
  int64_t N = 0, cin = 0, cout = 0, groups = 1, cin_g = 0, cout_g = 0;
  int64_t in[3], k[3], out[3];
  int64_t rows = 0;     // N * O0 * O1 * O2
  int64_t ksize = 0;    // K0 * K1 * K2
  int64_t kd = 0;       // ksize * cin_g: the length of an im2col row
  // tap[d][o * k[d] + kw]: the input index read by output o through weight
  // tap kw along dimension d, or -1 (padding, or between dilated elements).
  std::vector<int64_t> tap[3];
  bool identity = false;  // im2col would copy x unchanged (1x1, stride 1, no padding)
  // The valid taps of the innermost dimension read consecutive positions
  // (no flip, no dilations, one group): one copy per run; run2[o] is the
  // range [first, last) of valid taps of output o.
  bool runs = false;
  std::vector<std::pair<int64_t, int64_t>> run2;
};

ConvGeom make_geom(const array& x, const array& w, const array& out, const Convolution& p) {
  ConvGeom g;
  int nd = int(x.ndim()) - 2, off = 3 - nd;
  g.N = x.shape(0);
  g.cin = x.shape(-1);
  g.cout = w.shape(0);
  g.groups = p.groups();
  g.cin_g = g.cin / g.groups;
  g.cout_g = g.cout / g.groups;
  g.identity = true;
  for (int d = 0; d < 3; ++d) {
    int s = d - off;  // the primitive's dimension, or < 0 for a padded one
    g.in[d] = s < 0 ? 1 : x.shape(s + 1);
    g.k[d] = s < 0 ? 1 : w.shape(s + 1);
    g.out[d] = s < 0 ? 1 : out.shape(s + 1);
    int64_t stride = s < 0 ? 1 : p.stride()[s], lo = s < 0 ? 0 : p.padding_lo()[s];
    int64_t kdil = s < 0 ? 1 : p.kernel_dilation()[s], idil = s < 0 ? 1 : p.input_dilation()[s];
    g.identity &= g.k[d] == 1 && stride == 1 && lo == 0 && idil == 1 && g.out[d] == g.in[d];
    g.tap[d].resize(size_t(g.out[d] * g.k[d]));
    for (int64_t o = 0; o < g.out[d]; ++o) {
      for (int64_t kw = 0; kw < g.k[d]; ++kw) {
        int64_t kk = p.flip() ? g.k[d] - 1 - kw : kw;
        int64_t pos = o * stride + kk * kdil - lo;  // in the dilated input
        int64_t i = pos >= 0 && pos % idil == 0 ? pos / idil : -1;
        g.tap[d][size_t(o * g.k[d] + kw)] = i >= 0 && i < g.in[d] ? i : -1;
      }
    }
  }
  int s2 = 2 - off;
  g.runs = g.groups == 1 && (s2 < 0 || (!p.flip() && p.kernel_dilation()[s2] == 1 && p.input_dilation()[s2] == 1));
  for (int64_t o = 0; o < g.out[2]; ++o) {
    const int64_t* t = g.tap[2].data() + o * g.k[2];
    int64_t first = 0, last = g.k[2];
    while (first < last && t[first] < 0) ++first;
    while (last > first && t[last - 1] < 0) --last;
    g.run2.push_back({first, last});
  }
  g.rows = g.N * g.out[0] * g.out[1] * g.out[2];
  g.ksize = g.k[0] * g.k[1] * g.k[2];
  g.kd = g.ksize * g.cin_g;
  return g;
}

// Offsets (in elements of x, channel 0) of the input positions row r reads,
// one per weight tap, or -1; calls f(tap index, offset).
template <typename F>
void for_each_tap(const ConvGeom& g, int64_t r, F&& f) {
  int64_t o2 = r % g.out[2], t = r / g.out[2];
  int64_t o1 = t % g.out[1];
  t /= g.out[1];
  int64_t o0 = t % g.out[0], n = t / g.out[0];
  const int64_t* t0 = g.tap[0].data() + o0 * g.k[0];
  const int64_t* t1 = g.tap[1].data() + o1 * g.k[1];
  const int64_t* t2 = g.tap[2].data() + o2 * g.k[2];
  int64_t j = 0;
  for (int64_t a = 0; a < g.k[0]; ++a) {
    for (int64_t b = 0; b < g.k[1]; ++b) {
      for (int64_t c = 0; c < g.k[2]; ++c, ++j) {
        bool ok = t0[a] >= 0 && t1[b] >= 0 && t2[c] >= 0;
        f(j, ok ? (((n * g.in[0] + t0[a]) * g.in[1] + t1[b]) * g.in[2] + t2[c]) * g.cin : int64_t(-1));
      }
    }
  }
}

// Columns [ab0 * K2, ab1 * K2) taps of im2col row r (taps (a, b, c) in
// order, (a, b) = divmod(ab, K1)) into dst. With runs, the valid innermost
// taps of each (a, b) are one copy, zeros around it.
template <typename T>
void im2col_row(const ConvGeom& g, const T* x, int64_t grp, int64_t r, int64_t ab0, int64_t ab1, T* dst) {
  int64_t o2 = r % g.out[2], t = r / g.out[2];
  int64_t o1 = t % g.out[1];
  t /= g.out[1];
  int64_t o0 = t % g.out[0], n = t / g.out[0];
  const int64_t* t0 = g.tap[0].data() + o0 * g.k[0];
  const int64_t* t1 = g.tap[1].data() + o1 * g.k[1];
  const int64_t* t2 = g.tap[2].data() + o2 * g.k[2];
  auto [first, last] = g.run2[size_t(o2)];
  int64_t block = g.k[2] * g.cin_g;
  size_t cbytes = size_t(g.cin_g) * sizeof(T);
  for (int64_t ab = ab0; ab < ab1; ++ab, dst += block) {
    int64_t a = ab / g.k[1], b = ab % g.k[1];
    if (t0[a] < 0 || t1[b] < 0 || last <= first) {
      std::memset(dst, 0, size_t(block) * sizeof(T));
      continue;
    }
    const T* row = x + ((n * g.in[0] + t0[a]) * g.in[1] + t1[b]) * g.in[2] * g.cin + grp * g.cin_g;
    if (g.runs) {
      std::memset(dst, 0, size_t(first) * cbytes);
      std::memcpy(dst + first * g.cin_g, row + t2[first] * g.cin, size_t(last - first) * cbytes);
      std::memset(dst + last * g.cin_g, 0, size_t(g.k[2] - last) * cbytes);
      continue;
    }
    for (int64_t c = 0; c < g.k[2]; ++c) {
      if (t2[c] < 0) {
        std::memset(dst + c * g.cin_g, 0, cbytes);
      } else {
        std::memcpy(dst + c * g.cin_g, row + t2[c] * g.cin, cbytes);
      }
    }
  }
}

// buf (r1 - r0, (ab1 - ab0) * K2 * cin_g) = those columns of the im2col rows
// [r0, r1) of group grp.
template <typename T>
void im2col(const ConvGeom& g, const T* x, int64_t grp, int64_t r0, int64_t r1, int64_t ab0, int64_t ab1, T* buf) {
  int64_t cols = (ab1 - ab0) * g.k[2] * g.cin_g;
  cpu::parallel_for(size_t(r1 - r0), std::max<size_t>(1, size_t(4096 / std::max<int64_t>(cols, 1))),
                    [&](size_t b, size_t e) {
                      for (int64_t r = r0 + int64_t(b); r < r0 + int64_t(e); ++r) {
                        im2col_row(g, x, grp, r, ab0, ab1, buf + (r - r0) * cols);
                      }
                    });
}

template <typename T>
void gemm_nt(int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc,
             T beta = 0) {
  if constexpr (std::is_same_v<T, float>) {
    cpu::blas_sgemm(false, true, M, N, K, 1.f, a, lda, b, ldb, beta, c, ldc);
  } else {
    cpu::blas_dgemm(false, true, M, N, K, 1.0, a, lda, b, ldb, beta, c, ldc);
  }
}

// The reference: one output at a time, accumulated in T (float or double).
template <typename T>
void conv_direct(const ConvGeom& g, const T* x, const T* w, T* out) {
  cpu::parallel_for(size_t(g.rows), std::max<size_t>(1, size_t(8192 / std::max<int64_t>(g.kd * g.cout, 1))),
                    [&](size_t b, size_t e) {
                      std::vector<int64_t> offs(size_t(g.ksize));
                      for (int64_t r = int64_t(b); r < int64_t(e); ++r) {
                        for_each_tap(g, r, [&](int64_t j, int64_t off) { offs[size_t(j)] = off; });
                        T* o = out + r * g.cout;
                        for (int64_t co = 0; co < g.cout; ++co) {
                          int64_t grp = co / g.cout_g;
                          const T* wr = w + co * g.kd;
                          T acc = 0;
                          for (int64_t j = 0; j < g.ksize; ++j) {
                            if (offs[size_t(j)] < 0) continue;
                            const T* xr = x + offs[size_t(j)] + grp * g.cin_g;
                            const T* wj = wr + j * g.cin_g;
                            for (int64_t c = 0; c < g.cin_g; ++c) acc += xr[c] * wj[c];
                          }
                          o[co] = acc;
                        }
                      }
                    });
}

// out (rows, cout) = im2col(x) @ w^T, group by group, in tiles of rows.
template <typename T>
void conv_gemm(const ConvGeom& g, const T* x, const T* w, T* out) {
  if (g.identity) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      gemm_nt<T>(g.rows, g.cout_g, g.cin_g, x + grp * g.cin_g, g.cin, w + grp * g.cout_g * g.kd, g.kd,
                 out + grp * g.cout_g, g.cout);
    }
    return;
  }
  // Tiles of about 8 MiB of im2col: whole rows when 1024 of them fit, else
  // 1024 rows by a range of kernel taps (a long K: the weight gradient's
  // 56x56 "kernel"), the products over the ranges accumulated (beta = 1).
  int64_t budget = (int64_t(8) << 20) / int64_t(sizeof(T));
  int64_t nab = g.k[0] * g.k[1], ab_cols = g.k[2] * g.cin_g;
  int64_t tile = std::min<int64_t>(g.rows, 1024), ab_tile = nab;
  if (tile * g.kd <= budget) {
    tile = std::min(g.rows, std::max<int64_t>(tile, budget / std::max<int64_t>(g.kd, 1)));
  } else {
    ab_tile = std::max<int64_t>(1, budget / (tile * std::max<int64_t>(ab_cols, 1)));
  }
  cpu::Scratch<T> buf(size_t(tile * ab_tile * ab_cols));
  for (int64_t r0 = 0; r0 < g.rows; r0 += tile) {
    int64_t r1 = std::min(g.rows, r0 + tile);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t ab0 = 0; ab0 < nab; ab0 += ab_tile) {
        int64_t ab1 = std::min(nab, ab0 + ab_tile), cols = (ab1 - ab0) * ab_cols;
        im2col(g, x, grp, r0, r1, ab0, ab1, buf.data());
        gemm_nt<T>(r1 - r0, g.cout_g, cols, buf.data(), cols, w + grp * g.cout_g * g.kd + ab0 * ab_cols, g.kd,
                   out + r0 * g.cout + grp * g.cout_g, g.cout, T(ab0 == 0 ? 0 : 1));
      }
    }
  }
}

template <typename T>
void conv_run(const ConvGeom& g, const T* x, const T* w, T* out) {
  // Thin groups (depthwise) make GEMMs of a column or two: loop directly.
  if (g.groups > 1 && g.cout_g * g.cin_g <= 16) return conv_direct(g, x, w, out);
  conv_gemm(g, x, w, out);
}

// x as a row-major array of dtype t (the array itself when it already is one).
array row_major_as(const array& x, Dtype t) {
  if (x.dtype() == t && x.flags().row_contiguous) return x;
  array c(x.shape(), t, nullptr, {});
  cpu::copy_to_new(x, c);
  return c;
}

}  // namespace

void Convolution::eval_cpu(const std::vector<array>& inputs, array& out) {
  Dtype t = out.dtype();
  if (t != float32 && t != float64 && t != float16 && t != bfloat16) {
    throw std::invalid_argument(std::string("[Convolution] no CPU kernel for dtype ") + dtype_name(t));
  }
  ConvGeom g = make_geom(inputs[0], inputs[1], out, *this);
  Dtype acc = t == float64 ? float64 : float32;
  array x = row_major_as(inputs[0], acc), w = row_major_as(inputs[1], acc);
  array res = t == acc ? out : array(out.shape(), acc, nullptr, {});
  res.set_data(allocator::malloc(res.nbytes()));
  if (res.size() > 0) {
    if (g.kd == 0) {
      std::memset(res.raw_ptr(), 0, res.nbytes());
    } else if (acc == float32) {
      conv_run<float>(g, static_cast<const float*>(x.raw_ptr()), static_cast<const float*>(w.raw_ptr()),
                      static_cast<float*>(res.raw_ptr()));
    } else {
      conv_run<double>(g, static_cast<const double*>(x.raw_ptr()), static_cast<const double*>(w.raw_ptr()),
                       static_cast<double*>(res.raw_ptr()));
    }
  }
  if (t != acc) cpu::copy_to_new(res, out);
}

}  // namespace uma
