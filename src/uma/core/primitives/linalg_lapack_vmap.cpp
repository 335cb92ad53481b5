// vmap rules of the LAPACK family: every primitive factors the matrices of a
// batch independently, so the batch axis moves to the front and the same
// primitive runs on the larger batch.
#include "uma/core/primitives/linalg_lapack.h"
#include "uma/core/primitives/vmap_util.h"

namespace uma {

namespace {

array front(const std::vector<array>& inputs, const std::vector<int>& axes, Stream s) {
  return detail::batch_to_front(inputs[0], axes[0], -1, s);
}

detail::VmapResult batched(std::shared_ptr<Primitive> p, const array& x, std::vector<Dtype> dtypes) {
  auto shapes = p->output_shapes({x});
  auto outs = array::make_arrays(std::move(shapes), std::move(dtypes), std::move(p), {x});
  return {outs, std::vector<int>(outs.size(), 0)};
}

}  // namespace

detail::VmapResult Inverse::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  return {{detail::make_node(std::make_shared<Inverse>(stream(), tri_, upper_), {x}, x.dtype())}, {0}};
}

detail::VmapResult Cholesky::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  return {{detail::make_node(std::make_shared<Cholesky>(stream()), {x}, x.dtype())}, {0}};
}

detail::VmapResult QRF::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  return batched(std::make_shared<QRF>(stream()), x, {x.dtype(), x.dtype()});
}

detail::VmapResult SVD::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  std::vector<Dtype> dt(compute_uv_ ? 3 : 1, x.dtype());
  return batched(std::make_shared<SVD>(stream(), compute_uv_), x, dt);
}

detail::VmapResult Eigh::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  std::vector<Dtype> dt(compute_vectors_ ? 2 : 1, x.dtype());
  return batched(std::make_shared<Eigh>(stream(), compute_vectors_), x, dt);
}

detail::VmapResult Eig::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  std::vector<Dtype> dt(compute_vectors_ ? 2 : 1, complex64);
  return batched(std::make_shared<Eig>(stream(), compute_vectors_), x, dt);
}

detail::VmapResult LUF::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  array x = front(inputs, axes, stream());
  return batched(std::make_shared<LUF>(stream()), x, {x.dtype(), uint32, uint32});
}

// Both operands get the batch at the front (an unbatched one is broadcast).
detail::VmapResult Solve::vmap(const std::vector<array>& inputs, const std::vector<int>& axes) {
  int n = detail::vmap_size(inputs, axes);
  array a = detail::batch_to_front(inputs[0], axes[0], n, stream());
  array b = detail::batch_to_front(inputs[1], axes[1], n, stream());
  return {{detail::make_node(std::make_shared<Solve>(stream()), {a, b}, b.dtype())}, {0}};
}

}  // namespace uma
