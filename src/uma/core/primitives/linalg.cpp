// Names, equivalence, shapes and gradient rules of the matmul family; the
// rules are written in ops (those of the gathered, segmented, block-masked
// products and of Hadamard in linalg_grad.cpp).
#include "uma/core/primitives/linalg.h"

#include <optional>

#include "uma/core/ops/creation.h"
#include "uma/core/ops/elementwise.h"
#include "uma/core/ops/linalg.h"
#include "uma/core/ops/shape.h"

namespace uma {

UMA_LINALG_PRIMITIVES(UMA_PRIMITIVE_NAME)

namespace {

array swap_last(const array& x, Stream s) { return swapaxes(x, -1, -2, s); }

// beta * x without the elementwise family: addmm's K = 0 product is zero, so
// addmm(x, (.., M, 0), (.., 0, N), 1, beta) is exactly beta * x.
array scale(const array& x, float beta, Stream s) {
  if (beta == 1.f) return x;
  Shape za = x.shape(), zb = x.shape();
  za.back() = 0;
  zb[zb.size() - 2] = 0;
  return addmm(x, zeros(za, x.dtype(), s), zeros(zb, x.dtype(), s), 1.f, beta, s);
}

// The other factor, transposed, and conjugated when complex: the vjp is the
// adjoint of the jvp under Re <a, b> = sum Re(conj(a) b), as the
// elementwise rules' c * conj(f'(x)).
array adjoint_factor(const array& x, Stream s) {
  array t = swap_last(x, s);
  return is_complex(x.dtype()) ? conjugate(t, s) : t;
}

}  // namespace

std::vector<array> Matmul::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  const array& cotan = cotangents[0];
  for (int arg : argnums) {
    if (arg == 0) {
      vjps.push_back(matmul(cotan, adjoint_factor(primals[1], stream()), stream()));  // (M,N)(N,K)
    } else {
      vjps.push_back(matmul(adjoint_factor(primals[0], stream()), cotan, stream()));  // (K,M)(M,N)
    }
  }
  return vjps;
}

std::vector<array> Matmul::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  // d(a @ b) = da @ b + a @ db; the second term lands through addmm.
  std::vector<array> out;
  for (size_t i = 0; i < argnums.size(); ++i) {
    bool wrt_a = argnums[i] == 0;
    const array& x = wrt_a ? tangents[i] : primals[0];
    const array& y = wrt_a ? primals[1] : tangents[i];
    if (out.empty()) {
      out.push_back(matmul(x, y, stream()));
    } else {
      out[0] = addmm(out[0], x, y, 1.f, 1.f, stream());
    }
  }
  return out;
}

bool Matmul::is_equivalent(const Primitive& o) const { return same<Matmul>(o); }

std::vector<Shape> Matmul::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s.back() = inputs[1].shape(-1);
  return {s};
}

std::vector<array> AddMM::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                              const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> vjps;
  const array& cotan = cotangents[0];
  array zero(0.0f, cotan.dtype());
  for (int arg : argnums) {
    if (arg == 0) {
      vjps.push_back(addmm(zero, cotan, adjoint_factor(primals[1], stream()), alpha_, 0.f, stream()));
    } else if (arg == 1) {
      vjps.push_back(addmm(zero, adjoint_factor(primals[0], stream()), cotan, alpha_, 0.f, stream()));
    } else {
      vjps.push_back(scale(cotan, beta_, stream()));
    }
  }
  return vjps;
}

// d(alpha a @ b + beta c) = alpha (da @ b + a @ db) + beta dc, each product
// added on through addmm.
std::vector<array> AddMM::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                              const std::vector<int>& argnums) {
  std::optional<array> out;
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (argnums[i] == 2) out = scale(tangents[i], beta_, stream());
  }
  for (size_t i = 0; i < argnums.size(); ++i) {
    if (argnums[i] == 2) continue;
    bool wrt_a = argnums[i] == 0;
    const array& x = wrt_a ? tangents[i] : primals[0];
    const array& y = wrt_a ? primals[1] : tangents[i];
    out = out ? addmm(*out, x, y, alpha_, 1.f, stream())
              : addmm(array(0.0f, x.dtype()), x, y, alpha_, 0.f, stream());
  }
  return {*out};
}

bool AddMM::is_equivalent(const Primitive& o) const {
  return same<AddMM>(o, [&](const AddMM& p) { return p.alpha_ == alpha_ && p.beta_ == beta_; });
}

std::vector<Shape> AddMM::output_shapes(const std::vector<array>& inputs) { return {inputs[2].shape()}; }

// ------------------------------------------------------------ Hadamard, gathered, segmented, masked

int Hadamard::block_order(int64_t n) {
  for (int m : {1, 12, 20, 28}) {
    if (n <= 0 || n % m != 0) continue;
    int64_t p = n / m;
    if ((p & (p - 1)) == 0 && p <= (int64_t(1) << 26)) return m;
  }
  return 0;
}

UMA_OUTPUT_SHAPE_OF_INPUT(Hadamard)
bool Hadamard::is_equivalent(const Primitive& o) const {
  return same<Hadamard>(o, [&](const Hadamard& p) { return p.scale_ == scale_ && p.transposed_ == transposed_; });
}

bool GatherMM::is_equivalent(const Primitive& o) const {
  return same<GatherMM>(
      o, [&](const GatherMM& p) { return p.left_sorted_ == left_sorted_ && p.right_sorted_ == right_sorted_; });
}

// I + (M, N), I the shape of the index arrays.
std::vector<Shape> GatherMM::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[2].shape();
  s.push_back(inputs[0].shape(-2));
  s.push_back(inputs[1].shape(-1));
  return {s};
}

bool SegmentedMM::is_equivalent(const Primitive& o) const { return same<SegmentedMM>(o); }

// S + (M, N), S the segments' shape without its last dim (the pair).
std::vector<Shape> SegmentedMM::output_shapes(const std::vector<array>& inputs) {
  Shape s(inputs[2].shape().begin(), inputs[2].shape().end() - 1);
  s.push_back(inputs[0].shape(0));
  s.push_back(inputs[1].shape(1));
  return {s};
}

bool BlockMaskedMM::is_equivalent(const Primitive& o) const {
  return same<BlockMaskedMM>(o, [&](const BlockMaskedMM& p) { return p.block_size_ == block_size_; });
}

std::vector<Shape> BlockMaskedMM::output_shapes(const std::vector<array>& inputs) {
  Shape s = inputs[0].shape();
  s.back() = inputs[1].shape(-1);
  return {s};
}

}  // namespace uma
