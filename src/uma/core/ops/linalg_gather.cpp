// gather_mm, segmented_mm and block_masked_mm: argument checks, promotion and
// broadcasting (MLX's rules); the kernels are in backend/cpu/matmul_gather.cpp.
#include <stdexcept>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/linalg_impl.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/utils.h"

namespace uma {

namespace {

[[noreturn]] void fail(const char* op, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + op + "] " + msg);
}

// A 1-D a becomes a row (1, K) and a 1-D b a column (K, 1), as in matmul.
void as_matrices(array& a, array& b, const char* op, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    fail(op, "a and b need at least one dimension, got shapes " + shape_str(a.shape()) + " and " +
                 shape_str(b.shape()));
  }
  Shape sa = a.shape(), sb = b.shape();
  if (a.ndim() == 1) a = reshape(a, {1, a.shape(0)}, s);
  if (b.ndim() == 1) b = reshape(b, {b.shape(0), 1}, s);
  if (a.shape(-1) != b.shape(-2)) {
    fail(op, "the last dimension of a " + shape_str(sa) + " must equal the second to last of b " + shape_str(sb));
  }
}

// The product without the dimensions that 1-D operands gained.
array drop_inserted(const array& out, bool a_vec, bool b_vec, StreamOrDevice s) {
  std::vector<int> axes;
  if (a_vec) axes.push_back(int(out.ndim()) - 2);
  if (b_vec) axes.push_back(int(out.ndim()) - 1);
  return axes.empty() ? out : squeeze(out, axes, s);
}

}  // namespace

namespace detail {

array matrix_indices(const char* op, const char* which, const std::optional<array>& idx, const array& x,
                     StreamOrDevice s) {
  if (idx) {
    if (!is_integral(idx->dtype())) {
      fail(op, std::string(which) + " must have an integer dtype, got " + dtype_name(idx->dtype()));
    }
    return *idx;
  }
  Shape batch = batch_of(x);
  int64_t n = 1;
  for (auto d : batch) n *= d;
  return reshape(arange(0.0, double(n), 1.0, uint32, s), batch, s);
}

}  // namespace detail

array gather_mm(array a, array b, std::optional<array> lhs_indices, std::optional<array> rhs_indices,
                bool sorted_indices, StreamOrDevice s) {
  if (!lhs_indices && !rhs_indices) return matmul(a, b, s);
  const char* op = "gather_mm";
  bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
  as_matrices(a, b, op, s);
  Dtype t = detail::real_product_type(a.dtype(), b.dtype(), op);
  array lhs = detail::matrix_indices(op, "lhs_indices", lhs_indices, a, s);
  array rhs = detail::matrix_indices(op, "rhs_indices", rhs_indices, b, s);
  Shape batch;
  try {
    batch = broadcast_shapes(lhs.shape(), rhs.shape(), op);
  } catch (const std::invalid_argument&) {
    fail(op, "lhs_indices " + shape_str(lhs.shape()) + " and rhs_indices " + shape_str(rhs.shape()) +
                 " do not broadcast together");
  }
  // As MLX: a sort claim counts only for the one index array given.
  auto prim = std::make_shared<GatherMM>(to_stream(s), sorted_indices && !rhs_indices, sorted_indices && !lhs_indices);
  array out(detail::with_matrix(batch, a.shape(-2), b.shape(-1)), t, std::move(prim),
            {astype(a, t, s), astype(b, t, s), broadcast_to(lhs, batch, s), broadcast_to(rhs, batch, s)});
  return drop_inserted(out, a_vec, b_vec, s);
}

array segmented_mm(array a, array b, array segments, StreamOrDevice s) {
  const char* op = "segmented_mm";
  if (a.ndim() != 2 || b.ndim() != 2) {
    fail(op, "a and b must be matrices (batched products are not supported), got shapes " + shape_str(a.shape()) +
                 " and " + shape_str(b.shape()));
  }
  if (a.shape(1) != b.shape(0)) {
    fail(op, "the last dimension of a " + shape_str(a.shape()) + " must equal the first of b " + shape_str(b.shape()));
  }
  if (segments.ndim() < 1 || segments.shape(-1) != 2) {
    fail(op, "segments must have shape (..., 2) of (start, end) pairs, got " + shape_str(segments.shape()));
  }
  Dtype t = detail::real_product_type(a.dtype(), b.dtype(), op);
  if (!is_integral(segments.dtype())) {
    fail(op, std::string("segments must have an integer dtype, got ") + dtype_name(segments.dtype()));
  }
  Shape out_shape(segments.shape().begin(), segments.shape().end() - 1);
  out_shape = detail::with_matrix(out_shape, a.shape(0), b.shape(1));
  return array(out_shape, t, std::make_shared<SegmentedMM>(to_stream(s)), {astype(a, t, s), astype(b, t, s), segments});
}

array block_masked_mm(array a, array b, int block_size, std::optional<array> mask_out,
                      std::optional<array> mask_lhs, std::optional<array> mask_rhs, StreamOrDevice s) {
  if (!mask_out && !mask_lhs && !mask_rhs) return matmul(a, b, s);
  const char* op = "block_masked_mm";
  if (block_size != 32 && block_size != 64) fail(op, "block_size must be 32 or 64, got " + std::to_string(block_size));
  bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
  as_matrices(a, b, op, s);
  Dtype t = detail::real_product_type(a.dtype(), b.dtype(), op);
  Shape batch = broadcast_shapes(detail::batch_of(a), detail::batch_of(b), op);
  const int32_t M = a.shape(-2), N = b.shape(-1), K = a.shape(-1);
  std::vector<array> in{broadcast_to(astype(a, t, s), detail::with_matrix(batch, M, K), s),
                        broadcast_to(astype(b, t, s), detail::with_matrix(batch, K, N), s)};
  auto blocks = [&](int32_t n) { return int32_t((int64_t(n) + block_size - 1) / block_size); };
  const int32_t tm = blocks(M), tn = blocks(N), tk = blocks(K);

  // A mask on the block grid (batch..., rows, cols) in dtype mt; `insert`
  // adds the dims a 1-D operand gained.
  auto grid = [&](array m, const char* which, int32_t rows, int32_t cols, Dtype mt, std::vector<int> insert) {
    if (is_complex(m.dtype())) fail(op, std::string(which) + " must be boolean or real, got " + dtype_name(m.dtype()));
    Shape given = m.shape();
    if (!insert.empty()) m = expand_dims(m, insert, s);
    Shape want = detail::with_matrix(batch, rows, cols);
    bool fits = true;
    try {
      fits = broadcast_shapes(m.shape(), want, op) == want;
    } catch (const std::invalid_argument&) {
      fits = false;
    }
    if (!fits) {
      fail(op, std::string(which) + " of shape " + shape_str(given) + " does not broadcast to its block grid " +
                   shape_str(want) + " (blocks of " + std::to_string(block_size) + " for M=" + std::to_string(M) +
                   ", N=" + std::to_string(N) + ", K=" + std::to_string(K) + ")");
    }
    return broadcast_to(astype(m, mt, s), want, s);
  };
  if (mask_out) {
    std::vector<int> insert;
    if (a_vec) insert.push_back(-2);
    if (b_vec) insert.push_back(-1);
    in.push_back(grid(*mask_out, "mask_out", tm, tn, mask_out->dtype() == bool_ ? bool_ : t, insert));
  }
  if (mask_lhs || mask_rhs) {
    array lhs = mask_lhs ? *mask_lhs : ones({1}, bool_, s);
    array rhs = mask_rhs ? *mask_rhs : ones({1}, bool_, s);
    Dtype mt = lhs.dtype() == bool_ && rhs.dtype() == bool_ ? bool_ : t;
    in.push_back(grid(lhs, "mask_lhs", tm, tk, mt, a_vec ? std::vector<int>{-2} : std::vector<int>{}));
    in.push_back(grid(rhs, "mask_rhs", tk, tn, mt, b_vec ? std::vector<int>{-1} : std::vector<int>{}));
  }
  array out(detail::with_matrix(batch, M, N), t, std::make_shared<BlockMaskedMM>(to_stream(s), block_size),
            std::move(in));
  return drop_inserted(out, a_vec, b_vec, s);
}

}  // namespace uma
