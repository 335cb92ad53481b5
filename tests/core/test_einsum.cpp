// einsum against explicit loops.
#include <gtest/gtest.h>

#include "core/matmul_util.h"

using namespace uma;
using namespace uma::test;

TEST(Einsum, MatmulBatchTranspose) {
  array a = random_array({3, 4}, float32, 1), b = random_array({4, 5}, float32, 2);
  auto r = ref_matmul(a.to_vector<double>(), a.shape(), b.to_vector<double>(), b.shape());
  expect_matmul_close(einsum("ij,jk->ik", {a, b}).to_vector<double>(), r, float32, 4);
  expect_matmul_close(einsum("ij,jk", {a, b}).to_vector<double>(), r, float32, 4);  // implicit
  // Transposed output: "ij,jk->ki".
  array t = einsum("ij,jk->ki", {a, b});
  EXPECT_EQ(t.shape(), (Shape{5, 3}));
  expect_matmul_close(transpose(t).to_vector<double>(), r, float32, 4);
  EXPECT_EQ(einsum("ij->ji", {a}).to_vector<float>(), transpose(a).to_vector<float>());

  array x = random_array({2, 3, 4}, float64, 3), y = random_array({2, 4, 6}, float64, 4);
  auto rb = ref_matmul(x.to_vector<double>(), x.shape(), y.to_vector<double>(), y.shape());
  array bm = einsum("bij,bjk->bik", {x, y});
  EXPECT_EQ(bm.shape(), (Shape{2, 3, 6}));
  expect_matmul_close(bm.to_vector<double>(), rb, float64, 4);
}

TEST(Einsum, TraceDiagonalSum) {
  array a = random_array({5, 5}, float64, 5);
  auto v = a.to_vector<double>();
  double tr = 0;
  for (int i = 0; i < 5; ++i) tr += v[i * 6];
  EXPECT_NEAR(einsum("ii->", {a}).item<double>(), tr, 1e-12);
  EXPECT_NEAR(einsum("ii", {a}).item<double>(), tr, 1e-12);
  auto d = einsum("ii->i", {a}).to_vector<double>();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(d[i], v[i * 6]);
  auto rows = einsum("ij->i", {a}).to_vector<double>();
  for (int i = 0; i < 5; ++i) {
    double s = 0;
    for (int j = 0; j < 5; ++j) s += v[i * 5 + j];
    EXPECT_NEAR(rows[i], s, 1e-12);
  }
  double all = 0;
  for (double x : v) all += x;
  EXPECT_NEAR(einsum("ij->", {a}).item<double>(), all, 1e-12);
  // Batched trace with a repeated label across an operand pair.
  array b = random_array({3, 4, 4}, float64, 6);
  auto bv = b.to_vector<double>();
  auto bt = einsum("bii->b", {b}).to_vector<double>();
  for (int n = 0; n < 3; ++n) {
    double s = 0;
    for (int i = 0; i < 4; ++i) s += bv[n * 16 + i * 5];
    EXPECT_NEAR(bt[n], s, 1e-12);
  }
}

TEST(Einsum, OuterDotElementwise) {
  array u = random_array({4}, float64, 7), w = random_array({6}, float64, 8);
  auto uv = u.to_vector<double>(), wv = w.to_vector<double>();
  auto o = einsum("i,j->ij", {u, w}).to_vector<double>();
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(o[i * 6 + j], uv[i] * wv[j], 1e-15);
  }
  array u2 = random_array({4}, float64, 9);
  auto u2v = u2.to_vector<double>();
  double dot = 0;
  for (int i = 0; i < 4; ++i) dot += uv[i] * u2v[i];
  EXPECT_NEAR(einsum("i,i", {u, u2}).item<double>(), dot, 1e-12);
  auto h = einsum("i,i->i", {u, u2}).to_vector<double>();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(h[i], uv[i] * u2v[i], 1e-15);
}

TEST(Einsum, EllipsisAndThreeOperands) {
  array x = random_array({2, 3, 4, 5}, float64, 10), w = random_array({5, 6}, float64, 11);
  auto r = ref_matmul(x.to_vector<double>(), x.shape(), w.to_vector<double>(), w.shape());
  array y = einsum("...ij,jk->...ik", {x, w});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4, 6}));
  expect_matmul_close(y.to_vector<double>(), r, float64, 5);
  EXPECT_EQ(einsum("...ij,jk", {x, w}).shape(), (Shape{2, 3, 4, 6}));
  // "..." broadcasting a size-1 dim.
  array p = random_array({1, 4, 5}, float64, 12), q = random_array({3, 5, 2}, float64, 13);
  auto rpq = ref_matmul(p.to_vector<double>(), p.shape(), q.to_vector<double>(), q.shape());
  expect_matmul_close(einsum("...ij,...jk->...ik", {p, q}).to_vector<double>(), rpq, float64, 5);

  // Chain of three: A B C.
  array a = random_array({3, 4}, float64, 14), b = random_array({4, 5}, float64, 15), c = random_array({5, 2}, float64, 16);
  auto ab = ref_matmul(a.to_vector<double>(), a.shape(), b.to_vector<double>(), b.shape());
  auto abc = ref_matmul(ab, {3, 5}, c.to_vector<double>(), c.shape());
  expect_matmul_close(einsum("ij,jk,kl->il", {a, b, c}).to_vector<double>(), abc, float64, 20);
  // bfloat16 keeps its dtype.
  EXPECT_EQ(einsum("ij,jk->ik", {astype(a, bfloat16), astype(b, bfloat16)}).dtype(), bfloat16);
}

TEST(Einsum, Errors) {
  array a = random_array({3, 4}, float32, 20), b = random_array({5, 6}, float32, 21);
  EXPECT_THROW(einsum("ij,jk->ik", {a, b}), std::invalid_argument);      // j: 4 vs 5
  EXPECT_THROW(einsum("ij,jk->ik", {a}), std::invalid_argument);         // operand count
  EXPECT_THROW(einsum("ijk->i", {a}), std::invalid_argument);            // rank
  EXPECT_THROW(einsum("ij->iz", {a}), std::invalid_argument);            // unknown output label
  EXPECT_THROW(einsum("i1->i", {a}), std::invalid_argument);             // bad character
  EXPECT_THROW(einsum("ii->i", {a}), std::invalid_argument);             // diagonal of 3x4
  EXPECT_THROW(einsum("ij->ii", {a}), std::invalid_argument);            // repeated output
  EXPECT_THROW(einsum("ij", {astype(a, int32)}), std::invalid_argument);  // integers
}
