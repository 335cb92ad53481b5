// vmap rules of the matmul family: batched operands put the batch axis in
// front (a matrix dimension never holds it), where the op's broadcasting of
// batch dimensions pairs it with the unbatched operand's.
#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/shape.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

std::pair<std::vector<array>, std::vector<int>> Matmul::vmap(const std::vector<array>& inputs,
                                                             const std::vector<int>& axes) {
  array a = axes[0] >= 0 ? detail::batch_to_front(inputs[0], axes[0], -1, stream()) : inputs[0];
  array b = axes[1] >= 0 ? detail::batch_to_front(inputs[1], axes[1], -1, stream()) : inputs[1];
  return {{matmul(a, b, stream())}, {0}};
}

// c only broadcasts to a @ b, so when c alone is batched, a gets the batch.
std::pair<std::vector<array>, std::vector<int>> AddMM::vmap(const std::vector<array>& inputs,
                                                            const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  bool ab = axes[0] >= 0 || axes[1] >= 0;
  array a = axes[0] >= 0 || !ab ? detail::batch_to_front(inputs[0], axes[0], n, stream()) : inputs[0];
  array b = axes[1] >= 0 ? detail::batch_to_front(inputs[1], axes[1], -1, stream()) : inputs[1];
  array c = axes[2] >= 0 ? detail::batch_to_front(inputs[2], axes[2], -1, stream()) : inputs[2];
  return {{addmm(c, a, b, alpha_, beta_, stream())}, {0}};
}

// The transform runs along the last axis: a batch axis there moves in front.
std::pair<std::vector<array>, std::vector<int>> Hadamard::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  array x = inputs[0];
  int ax = axes[0];
  if (ax == int(x.ndim()) - 1) {
    x = moveaxis(x, ax, 0, stream());
    ax = 0;
  }
  auto p = std::make_shared<Hadamard>(stream(), scale_, transposed_);
  return {{detail::make_node(p, {x}, x.dtype())}, {ax}};
}

// Batched operands put the batch in front and fold it into their flattened
// batch dims; the indices (n, I...) are offset into them.
std::pair<std::vector<array>, std::vector<int>> GatherMM::vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes) {
  const Stream s = stream();
  int n = detail::vmap_size(inputs, axes);
  std::vector<array> in{inputs[0], inputs[1], detail::batch_to_front(inputs[2], axes[2], n, s),
                        detail::batch_to_front(inputs[3], axes[3], n, s)};
  for (size_t k = 0; k < 2; ++k) {
    if (axes[k] < 0) continue;
    in[k] = detail::batch_to_front(inputs[k], axes[k], -1, s);
    in[k + 2] = detail::offset_batch_indices(in[k + 2], detail::matrices_per_element(in[k]), s);
  }
  Dtype t = in[0].dtype();
  return {{detail::make_node(std::make_shared<GatherMM>(s), std::move(in), t)}, {0}};
}

// Batched operands go side by side along K: a' = [a_0 | a_1 | ...] (M, nK),
// b' = [b_0; b_1; ...] (nK, N), and element j's segments shift by j K.
// Bounds outside [0, K] are sent outside [0, nK], so they stay errors.
std::pair<std::vector<array>, std::vector<int>> SegmentedMM::vmap(const std::vector<array>& inputs,
                                                                  const std::vector<int>& axes) {
  const Stream s = stream();
  int n = detail::vmap_size(inputs, axes);
  array seg = detail::batch_to_front(inputs[2], axes[2], n, s);  // (n, S..., 2)
  if (axes[0] < 0 && axes[1] < 0) return {{segmented_mm(inputs[0], inputs[1], seg, s)}, {0}};
  array a = detail::batch_to_front(inputs[0], axes[0], n, s);  // (n, M, K)
  array b = detail::batch_to_front(inputs[1], axes[1], n, s);  // (n, K, N)
  const int32_t M = a.shape(1), K = a.shape(2), N = b.shape(2);
  a = reshape(transpose(a, {1, 0, 2}, s), {M, n * K}, s);
  b = reshape(b, {n * K, N}, s);
  Shape col(seg.ndim(), 1);
  col[0] = n;
  array wide = astype(seg, int64, s);
  array shift = reshape(arange(0.0, double(n) * K, double(K), int64, s), col, s);
  array bad = logical_or(less(wide, array(int64_t(0)), s), greater(wide, array(int64_t(K)), s), s);
  wide = where(bad, array(int64_t(n) * K + 1), add(wide, shift, s), s);
  return {{segmented_mm(a, b, wide, s)}, {0}};
}

// Every input gets the batch in front (the operand a at full size, so the
// batch dims broadcast to it when only a mask is batched); the op then
// broadcasts the batch dims as usual.
std::pair<std::vector<array>, std::vector<int>> BlockMaskedMM::vmap(const std::vector<array>& inputs,
                                                                    const std::vector<int>& axes) {
  const Stream s = stream();
  int n = detail::vmap_size(inputs, axes);
  std::vector<array> in;
  for (size_t i = 0; i < inputs.size(); ++i) in.push_back(detail::batch_to_front(inputs[i], axes[i], i == 0 ? n : -1, s));
  auto mask = [&](size_t i) { return std::optional<array>(in[i]); };
  std::optional<array> out_mask = in.size() != 4 ? mask(2) : std::nullopt;
  std::optional<array> lhs = in.size() > 3 ? mask(in.size() - 2) : std::nullopt;
  std::optional<array> rhs = in.size() > 3 ? mask(in.size() - 1) : std::nullopt;
  return {{block_masked_mm(in[0], in[1], block_size_, out_mask, lhs, rhs, s)}, {0}};
}

}  // namespace uma
