// CPU kernels of the gathered, segmented and block-masked products: each
// product is a GEMM of the matmul kernels (matmul.h) on the matrices its
// indices, segments or masks pick; float32, float64, float16 and bfloat16
// (the half types accumulate in float32).
#include <cstring>
#include <optional>

#include "uma/backend/cpu/indexing_utils.h"
#include "uma/backend/cpu/matmul.h"
#include "uma/backend/cpu/scratch.h"
#include "uma/backend/cpu/simd_convert.h"
#include "uma/backend/cpu/thread_pool.h"
#include "uma/core/primitives/linalg.h"

namespace uma {

using cpu::GemmTask;
using cpu::matrix_offset;

namespace {

const char* bytes(const array& x) { return static_cast<const char*>(x.raw_ptr()); }

}  // namespace

// One task per index pair, except that a run of pairs with one rhs index
// whose a matrices lie evenly spaced (rows at one stride: sorted indices
// over a contiguous a, the mixture-of-experts layout) is one product of all
// their rows.
void GatherMM::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const array &a = inputs[0], &b = inputs[1];
  const int64_t M = a.shape(-2), K = a.shape(-1), N = b.shape(-1);
  auto lhs = cpu::matrix_indices(inputs[2], cpu::matrix_count(a), "gather_mm", "lhs_indices", "a");
  auto rhs = cpu::matrix_indices(inputs[3], cpu::matrix_count(b), "gather_mm", "rhs_indices", "b");
  const int64_t isz = int64_t(out.itemsize()), n = int64_t(lhs.size());
  const int64_t a_rs = a.strides(-2), a_cs = a.strides(-1), b_rs = b.strides(-2), b_cs = b.strides(-1);
  char* c = static_cast<char*>(out.raw_ptr());
  std::vector<GemmTask> tasks;
  for (int64_t i = 0; i < n;) {
    const int64_t ao = matrix_offset(a, lhs[size_t(i)]);
    int64_t j = i + 1, rs = a_rs;
    if (j < n && rhs[size_t(j)] == rhs[size_t(i)]) {
      // Matrix after matrix at `step` elements is one matrix of row stride
      // step / M when the rows inside each matrix have that stride too.
      const int64_t step = matrix_offset(a, lhs[size_t(j)]) - ao;
      if (step > 0 && (M == 1 || step == M * a_rs)) {
        while (j < n && rhs[size_t(j)] == rhs[size_t(i)] && matrix_offset(a, lhs[size_t(j)]) == ao + (j - i) * step) ++j;
        if (M == 1) rs = step;
      }
    }
    tasks.push_back({{bytes(a) + ao * isz, rs, a_cs},
                     {bytes(b) + matrix_offset(b, rhs[size_t(i)]) * isz, b_rs, b_cs},
                     c + i * M * N * isz, (j - i) * M, K});
    i = j;
  }
  cpu::gemm_tasks(out.dtype(), tasks, N, N);
}

void SegmentedMM::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const array &a = inputs[0], &b = inputs[1];
  const int64_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  std::vector<int64_t> seg = cpu::read_start_indices(inputs[2]);
  for (size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] < 0 || seg[i] > K) {
      throw std::invalid_argument("[segmented_mm] segments holds " + std::to_string(seg[i]) + " (flat position " +
                                  std::to_string(i) + "), outside [0, " + std::to_string(K) + "] for the K = " +
                                  std::to_string(K) + " columns of a");
    }
  }
  const int64_t isz = int64_t(out.itemsize());
  char* c = static_cast<char*>(out.raw_ptr());
  std::vector<GemmTask> tasks(seg.size() / 2);
  for (size_t s = 0; s < tasks.size(); ++s) {
    const int64_t k0 = seg[2 * s], k1 = seg[2 * s + 1];
    tasks[s] = {{bytes(a) + k0 * a.strides(1) * isz, a.strides(0), a.strides(1)},
                {bytes(b) + k0 * b.strides(0) * isz, b.strides(0), b.strides(1)},
                c + int64_t(s) * M * N * isz, M, std::max<int64_t>(k1 - k0, 0)};
  }
  cpu::gemm_tasks(out.dtype(), tasks, N, N);
}

namespace {

// dst (rows, cols), row-major with leading dimension ld, = src (element
// (r, c) at src[r * s_rs + c * s_cs]; src == dst, s_rs == ld, s_cs == 1 in
// place) with the blocks of batch element i of `mask` applied: a false bool
// zeroes its block, a value multiplies it (1 leaves it as it is).
template <typename T>
void apply_block_mask(const T* src, int64_t s_rs, int64_t s_cs, T* dst, int64_t ld, int64_t rows, int64_t cols,
                      const array& mask, int64_t i, int64_t bs) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const char* mp = bytes(mask) + matrix_offset(mask, i) * int64_t(mask.itemsize());
  const int64_t m_rs = mask.strides(-2), m_cs = mask.strides(-1);
  const bool is_bool = mask.dtype() == bool_;
  const int64_t tc = (cols + bs - 1) / bs;
  std::vector<C> scale(static_cast<size_t>(tc));
  for (int64_t r = 0; r < rows; ++r) {
    if (r % bs == 0) {
      for (int64_t bj = 0; bj < tc; ++bj) {
        int64_t off = (r / bs) * m_rs + bj * m_cs;
        scale[size_t(bj)] = is_bool ? C(reinterpret_cast<const bool*>(mp)[off] ? 1 : 0)
                                    : C(reinterpret_cast<const T*>(mp)[off]);
      }
    }
    const T* s = src + r * s_rs;
    T* d = dst + r * ld;
    for (int64_t bj = 0; bj < tc; ++bj) {
      const C v = scale[size_t(bj)];
      const int64_t c1 = std::min(cols, (bj + 1) * bs);
      if (is_bool && v == C(0)) {
        for (int64_t cc = bj * bs; cc < c1; ++cc) d[cc] = T(0);
      } else if (v == C(1)) {
        if (s != d || s_cs != 1) {
          for (int64_t cc = bj * bs; cc < c1; ++cc) d[cc] = s[cc * s_cs];
        }
      } else {
        for (int64_t cc = bj * bs; cc < c1; ++cc) d[cc] = T(C(s[cc * s_cs]) * v);
      }
    }
  }
}

}  // namespace

// Operand masks: each batch element's a and b are copied masked, then
// multiplied; the output mask is applied to the products in place.
void BlockMaskedMM::eval_cpu(const std::vector<array>& inputs, array& out) {
  out.set_data(allocator::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const array &a = inputs[0], &b = inputs[1];
  const int64_t M = a.shape(-2), K = a.shape(-1), N = b.shape(-1), bs = block_size_;
  if (K == 0) {
    std::memset(out.raw_ptr(), 0, out.nbytes());
    return;
  }
  const int64_t nbatch = int64_t(out.size()) / (M * N);
  const bool has_out = inputs.size() != 4, has_operand = inputs.size() > 3;
  cpu::dispatch_float(out.dtype(), "block_masked_mm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ap = reinterpret_cast<const T*>(a.raw_ptr());
    const T* bp = reinterpret_cast<const T*>(b.raw_ptr());
    T* c = reinterpret_cast<T*>(out.raw_ptr());
    std::optional<cpu::Scratch<T>> am, bm;
    if (has_operand) {
      am.emplace(size_t(nbatch * M * K));
      bm.emplace(size_t(nbatch * K * N));
      const array &ml = inputs[inputs.size() - 2], &mr = inputs[inputs.size() - 1];
      cpu::parallel_for(size_t(nbatch), 1, [&](size_t b0, size_t b1) {
        for (int64_t i = int64_t(b0); i < int64_t(b1); ++i) {
          apply_block_mask(ap + matrix_offset(a, i), a.strides(-2), a.strides(-1), am->data() + i * M * K, K, M, K,
                           ml, i, bs);
          apply_block_mask(bp + matrix_offset(b, i), b.strides(-2), b.strides(-1), bm->data() + i * K * N, N, K, N,
                           mr, i, bs);
        }
      });
    }
    std::vector<GemmTask> tasks(static_cast<size_t>(nbatch));
    for (int64_t i = 0; i < nbatch; ++i) {
      cpu::MatRef ar = has_operand ? cpu::MatRef{am->data() + i * M * K, K, 1}
                                   : cpu::MatRef{ap + matrix_offset(a, i), a.strides(-2), a.strides(-1)};
      cpu::MatRef br = has_operand ? cpu::MatRef{bm->data() + i * K * N, N, 1}
                                   : cpu::MatRef{bp + matrix_offset(b, i), b.strides(-2), b.strides(-1)};
      tasks[size_t(i)] = {ar, br, c + i * M * N, M, K};
    }
    cpu::gemm_tasks(out.dtype(), tasks, N, N);
    if (has_out) {
      cpu::parallel_for(size_t(nbatch), 1, [&](size_t b0, size_t b1) {
        for (int64_t i = int64_t(b0); i < int64_t(b1); ++i) {
          apply_block_mask(c + i * M * N, N, int64_t(1), c + i * M * N, N, M, N, inputs[2], i, bs);
        }
      });
    }
  });
}

}  // namespace uma
