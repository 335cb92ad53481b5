// vjp and jvp rules of Hadamard and of the gathered, segmented and
// block-masked products, written in ops so that they differentiate again.
// Each product is linear in each operand (and in each float mask), so a jvp
// is the same product with one input replaced by its tangent, summed over
// the inputs; indices, segments and boolean masks are not differentiable.
#include <functional>
#include <optional>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/indexing.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/manipulation.h"
#include "uma/core/ops/reduction.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/linalg.h"

namespace uma {

namespace {

array swap_last(const array& x, Stream s) { return swapaxes(x, -1, -2, s); }

[[noreturn]] void not_differentiable(const char* prim, const std::string& what) {
  throw std::invalid_argument(std::string("[") + prim + "] is not differentiable with respect to " + what +
                              "; wrap it in stop_gradient");
}

// The jvp of a primitive linear in each input it is differentiated in: the
// sum over those inputs of f (the op) on the inputs with that one replaced
// by its tangent. Inputs from `first_fixed` on (indices, segments) throw.
array jvp_by_substitution(const std::vector<array>& primals, const std::vector<array>& tangents,
                          const std::vector<int>& argnums, size_t first_fixed, const char* prim, const char* fixed,
                          const std::function<array(const std::vector<array>&)>& f, Stream s) {
  std::optional<array> total;
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (size_t(argnums[i]) >= first_fixed) not_differentiable(prim, fixed);
    std::vector<array> in = primals;
    in[size_t(argnums[i])] = tangents[i];
    array term = f(in);
    total = total ? add(*total, term, s) : term;
  }
  return *total;
}

}  // namespace

// ------------------------------------------------------------ Hadamard
// y = scale * H x is linear: the jvp applies the same map, the vjp its
// transpose (H_20 and H_28 are not symmetric; MLX applies H there too).

namespace {
array hadamard_node(const array& x, float scale, bool transposed, Dtype dtype, Stream s) {
  array in = x.dtype() == dtype ? x : astype(x, dtype, s);
  return array(in.shape(), dtype, std::make_shared<Hadamard>(s, scale, transposed), {in});
}
}  // namespace

std::vector<array> Hadamard::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>&, const std::vector<array>&) {
  return {hadamard_node(cotangents[0], scale_, !transposed_, primals[0].dtype(), stream())};
}

std::vector<array> Hadamard::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>&) {
  return {hadamard_node(tangents[0], scale_, transposed_, primals[0].dtype(), stream())};
}

// ------------------------------------------------------------ GatherMM
// out[i] = a[lhs[i]] @ b[rhs[i]] for the n positions i of the indices.
//   da[j] = sum over i with lhs[i] = j of cot[i] @ b[rhs[i]]^T: a gathered
//           product the other way round, scatter-added over lhs.
//   db[e] = sum over i with rhs[i] = e of a[lhs[i]]^T @ cot[i]: the pairs
//           sorted by rhs make each e one run of rows, so db is one
//           segmented product of the stacked a^T and cot (no (K, N) matrix
//           per pair).

std::vector<array> GatherMM::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums, const std::vector<array>&) {
  const Stream s = stream();
  const array &a = primals[0], &b = primals[1], &cot = cotangents[0];
  const int32_t M = a.shape(-2), K = a.shape(-1), N = b.shape(-1);
  const int32_t a_mats = int32_t(a.size() / std::max<size_t>(size_t(M) * K, 1));
  const int32_t b_mats = int32_t(b.size() / std::max<size_t>(size_t(K) * N, 1));
  const int32_t n = int32_t(primals[2].size());
  array lhs = reshape(primals[2], {n}, s), rhs = reshape(primals[3], {n}, s);
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg == 0) {
      if (n == 0) {
        out.push_back(zeros_like(a, s));
        continue;
      }
      array pairs = gather_mm(cot, swap_last(b, s), std::nullopt, primals[3], false, s);  // (I..., M, K)
      array da = scatter_add(zeros({a_mats, M, K}, a.dtype(), s), lhs, reshape(pairs, {n, 1, M, K}, s), 0, s);
      out.push_back(reshape(da, a.shape(), s));
    } else if (arg == 1) {
      if (n == 0) {
        out.push_back(zeros_like(b, s));
        continue;
      }
      array order = argsort(rhs, 0, s);
      array rs = take(rhs, order, 0, s);
      array xa = take(reshape(a, {a_mats, M, K}, s), take(lhs, order, 0, s), 0, s);  // (n, M, K)
      array xc = take(reshape(cot, {n, M, N}, s), order, 0, s);                      // (n, M, N)
      array count = scatter_add(zeros({b_mats}, int64, s), rs, ones({n, 1}, int64, s), 0, s);
      array rows = multiply(count, array(int64_t(M)), s);
      array end = cumsum(rows, 0, false, true, s);
      array segments = stack({subtract(end, rows, s), end}, -1, s);  // (b_mats, 2)
      array db = segmented_mm(swap_last(reshape(xa, {n * M, K}, s), s), reshape(xc, {n * M, N}, s), segments, s);
      out.push_back(reshape(db, b.shape(), s));
    } else {
      not_differentiable("GatherMM", "its indices");
    }
  }
  return out;
}

std::vector<array> GatherMM::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                 const std::vector<int>& argnums) {
  auto f = [&](const std::vector<array>& in) { return gather_mm(in[0], in[1], in[2], in[3], false, stream()); };
  return {jvp_by_substitution(primals, tangents, argnums, 2, "GatherMM", "its indices", f, stream())};
}

// ------------------------------------------------------------ SegmentedMM
// out[s] = a D_s @ b with D_s the diagonal 0/1 mask of segment s on K, so
// da = sum_s (cot[s] @ b^T) D_s and db = sum_s D_s (a^T @ cot[s]). This costs
// S full products where the forward costs about one; MLX has no rule.

std::vector<array> SegmentedMM::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const Stream s = stream();
  const array &a = primals[0], &b = primals[1];
  const int32_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  const int32_t S = int32_t(primals[2].size() / 2);
  array seg = astype(reshape(primals[2], {S, 2}, s), int64, s);
  array k = reshape(arange(0.0, double(K), 1.0, int64, s), {1, K}, s);
  array start = slice(seg, {0, 0}, {S, 1}, s), end = slice(seg, {0, 1}, {S, 2}, s);
  array inside = astype(logical_and(greater_equal(k, start, s), less(k, end, s), s), a.dtype(), s);  // (S, K)
  array cot = reshape(cotangents[0], {S, M, N}, s);
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg == 0) {
      array g = matmul(cot, swap_last(b, s), s);  // (S, M, K)
      out.push_back(sum(multiply(g, reshape(inside, {S, 1, K}, s), s), 0, false, s));
    } else if (arg == 1) {
      array g = matmul(swap_last(a, s), cot, s);  // (S, K, N)
      out.push_back(sum(multiply(g, reshape(inside, {S, K, 1}, s), s), 0, false, s));
    } else {
      not_differentiable("SegmentedMM", "its segments");
    }
  }
  return out;
}

std::vector<array> SegmentedMM::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  auto f = [&](const std::vector<array>& in) { return segmented_mm(in[0], in[1], in[2], stream()); };
  return {jvp_by_substitution(primals, tangents, argnums, 2, "SegmentedMM", "its segments", f, stream())};
}

// ------------------------------------------------------------ BlockMaskedMM
// out = ((a * L) @ (b * R)) * O with the masks spread over their blocks:
//   da = ((cot * O) @ (b * R)^T) * L      a block-masked product again
//   db = ((a * L)^T @ (cot * O)) * R      likewise
//   dO = block sums of cot * ((a * L) @ (b * R))
//   dL = block sums of a * ((cot * O) @ (b * R)^T), dR alike.

namespace {

// The masks of a BlockMaskedMM node by position: inputs {a, b, out},
// {a, b, lhs, rhs} or {a, b, out, lhs, rhs}.
struct MaskSlots {
  int out = -1, lhs = -1, rhs = -1;
  explicit MaskSlots(size_t n_inputs) {
    if (n_inputs != 4) out = 2;
    if (n_inputs > 3) {
      lhs = int(n_inputs) - 2;
      rhs = int(n_inputs) - 1;
    }
  }
  std::optional<array> get(const std::vector<array>& xs, int i) const {
    return i < 0 ? std::nullopt : std::optional<array>(xs[size_t(i)]);
  }
};

std::optional<array> swapped(const std::optional<array>& m, Stream s) {
  return m ? std::optional<array>(swap_last(*m, s)) : std::nullopt;
}

// Sums of x (.., R, C) over each block of the grid: (.., ceil(R/bs), ceil(C/bs)).
array block_sums(const array& x, int bs, Stream s) {
  const int32_t R = x.shape(-2), C = x.shape(-1);
  const int32_t tr = (R + bs - 1) / bs, tc = (C + bs - 1) / bs;
  array p = x;
  if (tr * bs != R || tc * bs != C) {
    p = pad(x, {int(x.ndim()) - 2, int(x.ndim()) - 1}, Shape{0, 0}, Shape{tr * bs - R, tc * bs - C},
            array(0.0, x.dtype()), "constant", s);
  }
  Shape blocks(x.shape().begin(), x.shape().end() - 2);
  for (int32_t d : {tr, int32_t(bs), tc, int32_t(bs)}) blocks.push_back(d);
  return sum(reshape(p, blocks, s), {-3, -1}, false, s);
}

void check_float_mask(const std::vector<array>& primals, int i, const char* which) {
  if (primals[size_t(i)].dtype() == bool_) not_differentiable("BlockMaskedMM", std::string("the boolean ") + which);
}

}  // namespace

std::vector<array> BlockMaskedMM::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                      const std::vector<int>& argnums, const std::vector<array>&) {
  const Stream s = stream();
  const int bs = block_size_;
  const array &a = primals[0], &b = primals[1], &cot = cotangents[0];
  MaskSlots slot(primals.size());
  auto O = slot.get(primals, slot.out), L = slot.get(primals, slot.lhs), R = slot.get(primals, slot.rhs);
  std::vector<array> out;
  for (int arg : argnums) {
    if (arg == 0) {
      out.push_back(block_masked_mm(cot, swap_last(b, s), bs, L, O, swapped(R, s), s));
    } else if (arg == 1) {
      out.push_back(block_masked_mm(swap_last(a, s), cot, bs, R, swapped(L, s), O, s));
    } else if (arg == slot.out) {
      check_float_mask(primals, arg, "mask_out");
      out.push_back(block_sums(multiply(cot, block_masked_mm(a, b, bs, std::nullopt, L, R, s), s), bs, s));
    } else if (arg == slot.lhs) {
      check_float_mask(primals, arg, "mask_lhs");
      array g = block_masked_mm(cot, swap_last(b, s), bs, std::nullopt, O, swapped(R, s), s);
      out.push_back(block_sums(multiply(a, g, s), bs, s));
    } else {
      check_float_mask(primals, arg, "mask_rhs");
      array g = block_masked_mm(swap_last(a, s), cot, bs, std::nullopt, swapped(L, s), O, s);
      out.push_back(block_sums(multiply(b, g, s), bs, s));
    }
  }
  return out;
}

std::vector<array> BlockMaskedMM::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                      const std::vector<int>& argnums) {
  MaskSlots slot(primals.size());
  for (int arg : argnums) {
    if (arg > 1) check_float_mask(primals, arg, arg == slot.out ? "mask_out" : arg == slot.lhs ? "mask_lhs" : "mask_rhs");
  }
  auto f = [&](const std::vector<array>& in) {
    return block_masked_mm(in[0], in[1], block_size_, slot.get(in, slot.out), slot.get(in, slot.lhs),
                           slot.get(in, slot.rhs), stream());
  };
  return {jvp_by_substitution(primals, tangents, argnums, primals.size(), "BlockMaskedMM", "", f, stream())};
}

}  // namespace uma
