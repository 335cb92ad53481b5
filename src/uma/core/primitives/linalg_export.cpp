// Serialization of the matmul and LAPACK families, with the checks their ops
// make: matrices of at least 2 dimensions, equal batch dimensions, one
// dtype (float32/float64 for LAPACK), square where the factorization needs it.
#include <algorithm>

#include "uma/core/primitives/linalg.h"
#include "uma/core/primitives/linalg_lapack.h"
#include "uma/core/primitives/serialize.h"

namespace uma {

namespace {

// Input i is a stack of (..., M, N) matrices.
void check_matrix(const PrimitiveReader& r, int i, bool square) {
  const TypedShape& a = r.in(i);
  r.check(a.shape.size() >= 2, "needs matrices (2 or more dimensions)");
  if (square) r.check(a.shape[a.shape.size() - 1] == a.shape[a.shape.size() - 2], "needs square matrices");
}

bool same_batch(const Shape& a, const Shape& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end() - 2, b.begin());
}

// A LAPACK primitive of one float32/float64 input.
void check_lapack(const PrimitiveReader& r, bool square) {
  r.inputs(1);
  check_matrix(r, 0, square);
  r.check(r.in(0).dtype == float32 || r.in(0).dtype == float64, "needs float32 or float64 matrices");
}

// Output dtypes in order.
void check_out_dtypes(const PrimitiveReader& r, const std::vector<Dtype>& ts) {
  r.outputs(int(ts.size()));
  for (size_t i = 0; i < ts.size(); ++i) r.check(r.out(int(i)).dtype == ts[i], "an output has the wrong dtype");
}

// a (..., M, K) @ b (..., K, N) of one dtype, [+ c (..., M, N)], to that dtype.
void check_product(const PrimitiveReader& r, bool with_c) {
  r.inputs(with_c ? 3 : 2);
  r.outputs(1);
  check_matrix(r, 0, false);
  check_matrix(r, 1, false);
  const Shape &a = r.in(0).shape, &b = r.in(1).shape;
  r.check(same_batch(a, b) && a.back() == b[b.size() - 2], "the operands' shapes do not multiply");
  Shape out = a;
  out.back() = b.back();
  r.check(!with_c || r.in(2).shape == out, "c is not shaped like the product");
  for (int i = 1; i < (with_c ? 3 : 2); ++i) r.check(r.in(i).dtype == r.in(0).dtype, "the operands' dtypes differ");
  r.out_dtype(r.in(0).dtype);
}

}  // namespace

void Matmul::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> Matmul::deserialize(Stream s, PrimitiveReader& r) {
  check_product(r, false);
  return std::make_shared<Matmul>(s);
}

void AddMM::serialize(PrimitiveWriter& w) const { w.fields(*this, &AddMM::alpha_, &AddMM::beta_); }
std::shared_ptr<Primitive> AddMM::deserialize(Stream s, PrimitiveReader& r) {
  auto alpha = r.get<float>();
  auto beta = r.get<float>();
  check_product(r, true);
  return std::make_shared<AddMM>(s, alpha, beta);
}

void Inverse::serialize(PrimitiveWriter& w) const { w.fields(*this, &Inverse::tri_, &Inverse::upper_); }
std::shared_ptr<Primitive> Inverse::deserialize(Stream s, PrimitiveReader& r) {
  auto tri = r.get<bool>();
  auto upper = r.get<bool>();
  check_lapack(r, true);
  check_out_dtypes(r, {r.in(0).dtype});
  return std::make_shared<Inverse>(s, tri, upper);
}

void Cholesky::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> Cholesky::deserialize(Stream s, PrimitiveReader& r) {
  check_lapack(r, true);
  check_out_dtypes(r, {r.in(0).dtype});
  return std::make_shared<Cholesky>(s);
}

void Solve::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> Solve::deserialize(Stream s, PrimitiveReader& r) {
  r.inputs(2);
  check_matrix(r, 0, true);
  check_matrix(r, 1, false);
  const Shape &a = r.in(0).shape, &b = r.in(1).shape;
  r.check(same_batch(a, b) && a.back() == b[b.size() - 2], "a and b do not match");
  r.check(r.in(0).dtype == r.in(1).dtype && (r.in(0).dtype == float32 || r.in(0).dtype == float64),
          "needs float32 or float64 operands of one dtype");
  check_out_dtypes(r, {r.in(0).dtype});
  return std::make_shared<Solve>(s);
}

void QRF::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> QRF::deserialize(Stream s, PrimitiveReader& r) {
  check_lapack(r, false);
  check_out_dtypes(r, {r.in(0).dtype, r.in(0).dtype});
  return std::make_shared<QRF>(s);
}

void SVD::serialize(PrimitiveWriter& w) const { w.put(compute_uv_); }
std::shared_ptr<Primitive> SVD::deserialize(Stream s, PrimitiveReader& r) {
  auto uv = r.get<bool>();
  check_lapack(r, false);
  Dtype t = r.in(0).dtype;
  check_out_dtypes(r, uv ? std::vector<Dtype>{t, t, t} : std::vector<Dtype>{t});
  return std::make_shared<SVD>(s, uv);
}

void Eigh::serialize(PrimitiveWriter& w) const { w.put(compute_vectors_); }
std::shared_ptr<Primitive> Eigh::deserialize(Stream s, PrimitiveReader& r) {
  auto vectors = r.get<bool>();
  check_lapack(r, true);
  Dtype t = r.in(0).dtype;
  check_out_dtypes(r, vectors ? std::vector<Dtype>{t, t} : std::vector<Dtype>{t});
  return std::make_shared<Eigh>(s, vectors);
}

void Eig::serialize(PrimitiveWriter& w) const { w.put(compute_vectors_); }
std::shared_ptr<Primitive> Eig::deserialize(Stream s, PrimitiveReader& r) {
  auto vectors = r.get<bool>();
  check_lapack(r, true);
  check_out_dtypes(r, vectors ? std::vector<Dtype>{complex64, complex64} : std::vector<Dtype>{complex64});
  return std::make_shared<Eig>(s, vectors);
}

void LUF::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> LUF::deserialize(Stream s, PrimitiveReader& r) {
  check_lapack(r, false);
  check_out_dtypes(r, {r.in(0).dtype, uint32, uint32});
  return std::make_shared<LUF>(s);
}

}  // namespace uma

namespace uma {

namespace {

void check_float_operands(const PrimitiveReader& r, int n) {
  for (int i = 0; i < n; ++i) {
    r.check(is_floating_point(r.in(i).dtype) && r.in(i).dtype == r.in(0).dtype, "needs operands of one float dtype");
  }
  r.outputs(1);
  r.out_dtype(r.in(0).dtype);
}

int64_t blocks(int64_t n, int64_t b) { return (n + b - 1) / b; }

}  // namespace

void Hadamard::serialize(PrimitiveWriter& w) const { w.fields(*this, &Hadamard::scale_, &Hadamard::transposed_); }
std::shared_ptr<Primitive> Hadamard::deserialize(Stream s, PrimitiveReader& r) {
  auto scale = r.get<float>();
  auto transposed = r.get<bool>();
  r.inputs(1);
  r.check(r.ndim(0) >= 1 && block_order(r.in(0).shape.back()) != 0, "needs a last axis of a supported size");
  check_float_operands(r, 1);
  return std::make_shared<Hadamard>(s, scale, transposed);
}

void GatherMM::serialize(PrimitiveWriter& w) const {
  w.fields(*this, &GatherMM::left_sorted_, &GatherMM::right_sorted_);
}
std::shared_ptr<Primitive> GatherMM::deserialize(Stream s, PrimitiveReader& r) {
  auto left = r.get<bool>();
  auto right = r.get<bool>();
  r.inputs(4);
  check_matrix(r, 0, false);
  check_matrix(r, 1, false);
  const Shape &a = r.in(0).shape, &b = r.in(1).shape;
  r.check(a.back() == b[b.size() - 2], "the operands' shapes do not multiply");
  r.check(is_integral(r.in(2).dtype) && is_integral(r.in(3).dtype), "needs integer index arrays");
  r.check(r.in(2).shape == r.in(3).shape, "the index arrays' shapes differ");
  check_float_operands(r, 2);
  return std::make_shared<GatherMM>(s, left, right);
}

void SegmentedMM::serialize(PrimitiveWriter&) const {}
std::shared_ptr<Primitive> SegmentedMM::deserialize(Stream s, PrimitiveReader& r) {
  r.inputs(3);
  r.check(r.ndim(0) == 2 && r.ndim(1) == 2 && r.in(0).shape[1] == r.in(1).shape[0],
          "needs matrices a (M, K) and b (K, N)");
  r.check(r.ndim(2) >= 1 && r.in(2).shape.back() == 2 && is_integral(r.in(2).dtype),
          "needs integer segments (..., 2)");
  check_float_operands(r, 2);
  return std::make_shared<SegmentedMM>(s);
}

void BlockMaskedMM::serialize(PrimitiveWriter& w) const { w.fields(*this, &BlockMaskedMM::block_size_); }
std::shared_ptr<Primitive> BlockMaskedMM::deserialize(Stream s, PrimitiveReader& r) {
  auto bs = r.get<int>();
  r.check(bs == 32 || bs == 64, "needs a block size of 32 or 64");
  r.inputs(3, 5);
  check_matrix(r, 0, false);
  check_matrix(r, 1, false);
  const Shape &a = r.in(0).shape, &b = r.in(1).shape;
  r.check(same_batch(a, b) && a.back() == b[b.size() - 2], "the operands' shapes do not multiply");
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  const int n = int(r.node().inputs.size());
  // {out}, {lhs, rhs} or {out, lhs, rhs}: each a grid of blocks over a's batch.
  std::vector<std::pair<int64_t, int64_t>> grids;
  if (n != 4) grids.push_back({blocks(M, bs), blocks(N, bs)});
  if (n >= 4) {
    grids.push_back({blocks(M, bs), blocks(K, bs)});
    grids.push_back({blocks(K, bs), blocks(N, bs)});
  }
  for (int i = 2; i < n; ++i) {
    const Shape& m = r.in(i).shape;
    Shape want(a.begin(), a.end() - 2);
    want.push_back(int(grids[size_t(i - 2)].first));
    want.push_back(int(grids[size_t(i - 2)].second));
    r.check(m == want, "a mask is not shaped as the grid of blocks");
    r.check(r.in(i).dtype == bool_ || r.in(i).dtype == r.in(0).dtype, "a mask must be bool or the operands' dtype");
  }
  r.check(is_floating_point(r.in(0).dtype) && r.in(1).dtype == r.in(0).dtype, "needs operands of one float dtype");
  r.outputs(1);
  r.out_dtype(r.in(0).dtype);
  return std::make_shared<BlockMaskedMM>(s, bs);
}

}  // namespace uma
