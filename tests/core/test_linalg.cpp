// uma::linalg forward results: the identities of each factorization (Q R = A
// with Q orthonormal and R upper, U diag(S) Vᵀ = A, A inv(A) = I, L Lᵀ = A,
// A v = λ v, L[P] U = A, solve residuals, the Penrose conditions of pinv) in
// float32 and float64, batched and on transposed views; norms against NumPy
// goldens (tests/fixtures/linalg/make_norm_goldens.py); errors; vmap against
// the loop. Gradients are in test_linalg_grad.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/grad_util.h"
#include "core/vmap_util.h"
#include "uma/uma.h"

using namespace uma;
using test::randn;

namespace {

array mT(const array& x) { return swapaxes(x, -1, -2); }

double tol_of(Dtype t) { return t == float32 ? 2e-4 : 1e-10; }

// max |a - b| <= tol * (1 + max |b|)
void expect_near(array a, array b, double tol, const std::string& what = "") {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  auto x = astype(a, float64).to_vector<double>(), y = astype(b, float64).to_vector<double>();
  double scale = 1, err = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    scale = std::max(scale, std::abs(y[i]));
    err = std::max(err, std::abs(x[i] - y[i]));
  }
  EXPECT_LE(err, tol * scale) << what;
}

array eye_like(const array& a) { return broadcast_to(eye(a.shape(-1), a.dtype()), a.shape()); }

// A well-conditioned symmetric positive definite batch: X Xᵀ + n I.
array spd(const Shape& shape, Dtype t) {
  array x = randn(shape);
  return astype(add(matmul(x, mT(x)), multiply(eye(shape.back(), float64), array(double(shape.back())))), t);
}

const std::vector<Dtype> kTypes{float32, float64};

}  // namespace

TEST(Linalg, InvTimesAIsIdentity) {
  for (Dtype t : kTypes) {
    array a = astype(add(randn({3, 4, 4}), multiply(eye(4, float64), array(4.0))), t);
    array x = linalg::inv(a);
    EXPECT_EQ(x.dtype(), t);
    expect_near(matmul(a, x), eye_like(a), 10 * tol_of(t), "a inv(a)");
    // A transposed view goes in as well.
    expect_near(linalg::inv(mT(a)), mT(x), 10 * tol_of(t), "inv(aᵀ) = inv(a)ᵀ");
  }
}

TEST(Linalg, TriInvReadsOneTriangle) {
  for (bool upper : {false, true}) {
    array a = add(randn({2, 5, 5}), multiply(eye(5, float64), array(5.0)));
    array tri = upper ? triu(a) : tril(a);
    array x = linalg::tri_inv(a, upper);  // the other triangle is ignored
    expect_near(matmul(tri, x), eye_like(a), 1e-12, "tri inv");
    expect_near(x, upper ? triu(x) : tril(x), 0, "the inverse is triangular");
  }
}

TEST(Linalg, CholeskyReconstructs) {
  for (Dtype t : kTypes) {
    array a = spd({2, 3, 5, 5}, t);
    array l = linalg::cholesky(a);
    expect_near(l, tril(l), 0, "lower");
    expect_near(matmul(l, mT(l)), a, tol_of(t), "L Lᵀ");
    array u = linalg::cholesky(a, true);
    expect_near(u, triu(u), 0, "upper");
    expect_near(matmul(mT(u), u), a, tol_of(t), "Uᵀ U");
    // Only the lower triangle is read.
    expect_near(linalg::cholesky(tril(a)), l, 0, "reads the lower triangle");
    expect_near(linalg::cholesky_inv(l), linalg::inv(a), 10 * tol_of(t), "cholesky_inv lower");
    expect_near(linalg::cholesky_inv(u, true), linalg::inv(a), 10 * tol_of(t), "cholesky_inv upper");
  }
}

TEST(Linalg, QrIsOrthonormalTimesUpper) {
  for (Dtype t : kTypes) {
    for (Shape sh : {Shape{4, 4}, Shape{2, 6, 3}, Shape{2, 3, 5}}) {
      array a = astype(randn(sh), t);
      auto [q, r] = linalg::qr(a);
      int k = std::min(sh[sh.size() - 2], sh.back());
      EXPECT_EQ(q.shape(-1), k);
      EXPECT_EQ(r.shape(-2), k);
      expect_near(matmul(q, r), a, tol_of(t), "Q R");
      expect_near(matmul(mT(q), q), broadcast_to(eye(k, t), q.ndim() == 3 ? Shape{sh[0], k, k} : Shape{k, k}),
                  tol_of(t), "QᵀQ");
      expect_near(r, triu(r), 0, "R upper");
    }
  }
}

TEST(Linalg, SvdReconstructs) {
  for (Dtype t : kTypes) {
    for (Shape sh : {Shape{4, 4}, Shape{2, 6, 3}, Shape{2, 3, 5}}) {
      array a = astype(randn(sh), t);
      auto usv = linalg::svd(a);
      int m = sh[sh.size() - 2], n = sh.back(), k = std::min(m, n);
      EXPECT_EQ(usv[0].shape(-1), m);
      EXPECT_EQ(usv[2].shape(-1), n);
      Shape z(sh.size(), 0), su = usv[0].shape(), sv = usv[2].shape();
      su.back() = k;
      sv[sv.size() - 2] = k;
      array us = multiply(slice(usv[0], z, su), expand_dims(usv[1], -2));
      expect_near(matmul(us, slice(usv[2], z, sv)), a, tol_of(t), "U S Vt");
      expect_near(matmul(mT(usv[0]), usv[0]), eye_like(matmul(mT(usv[0]), usv[0])), tol_of(t), "UᵀU");
      expect_near(matmul(usv[2], mT(usv[2])), eye_like(matmul(usv[2], mT(usv[2]))), tol_of(t), "V Vᵀ");
      auto s = linalg::svd(a, false);
      ASSERT_EQ(s.size(), 1u);
      expect_near(s[0], usv[1], tol_of(t), "values only");
      auto sv_host = astype(s[0], float64).to_vector<double>();
      for (size_t i = 1; i < sv_host.size(); ++i) {
        if (i % k) EXPECT_GE(sv_host[i - 1], sv_host[i]) << "descending";
      }
    }
  }
}

TEST(Linalg, EighEigenpairs) {
  for (Dtype t : kTypes) {
    array a = astype(randn({3, 5, 5}), t);
    array sym = add(a, mT(a));
    auto [w, v] = linalg::eigh(sym);
    expect_near(matmul(sym, v), multiply(v, expand_dims(w, -2)), 10 * tol_of(t), "A v = λ v");
    expect_near(matmul(mT(v), v), eye_like(sym), tol_of(t), "VᵀV");
    expect_near(linalg::eigvalsh(sym), w, tol_of(t), "eigvalsh");
    // "L" reads the lower triangle, "U" the upper.
    expect_near(linalg::eigvalsh(tril(sym)), w, tol_of(t), "L");
    expect_near(linalg::eigvalsh(triu(sym), "U"), w, tol_of(t), "U");
  }
}

TEST(Linalg, EigOfAGeneralMatrix) {
  // A rotation block: eigenvalues ±i; and a diagonal 3.
  array a = array({0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0}, {3, 3});
  auto [w, v] = linalg::eig(a);
  EXPECT_EQ(w.dtype(), complex64);
  EXPECT_EQ(v.shape(), Shape({3, 3}));
  array ac = astype(a, complex64);
  array av = matmul(ac, v), vw = multiply(v, expand_dims(w, 0));
  test::expect_same(av, vw, 0, 1e-5, "A v = λ v");
  auto re = real(w).to_vector<float>(), im = imag(w).to_vector<float>();
  std::vector<std::pair<float, float>> got;
  for (size_t i = 0; i < 3; ++i) got.push_back({re[i], im[i]});
  std::sort(got.begin(), got.end());
  EXPECT_NEAR(got[0].first, 0, 1e-6);
  EXPECT_NEAR(got[0].second, -1, 1e-6);
  EXPECT_NEAR(got[1].second, 1, 1e-6);
  EXPECT_NEAR(got[2].first, 3, 1e-6);
  // Batched random matrices, values only agree with values and vectors.
  array b = randn({2, 4, 4});
  auto [wb, vb] = linalg::eig(b);
  test::expect_same(matmul(astype(b, complex64), vb), multiply(vb, expand_dims(wb, -2)), 0, 1e-4, "batched");
  test::expect_same(linalg::eigvals(b), wb, 0, 1e-5, "eigvals");
}

TEST(Linalg, LuReconstructs) {
  for (Dtype t : kTypes) {
    for (Shape sh : {Shape{5, 5}, Shape{4, 3}, Shape{3, 5}}) {
      array a = astype(randn(sh), t);
      auto plu = linalg::lu(a);
      EXPECT_EQ(plu[0].dtype(), uint32);
      array l = plu[1], u = plu[2];
      expect_near(matmul(take(l, plu[0], 0), u), a, tol_of(t), "L[P] U");
      expect_near(u, triu(u), 0, "U upper");
      auto [lu, piv] = linalg::lu_factor(a);
      EXPECT_EQ(piv.shape(-1), std::min(sh[0], sh[1]));
      expect_near(add(tril(slice(lu, {0, 0}, {sh[0], std::min(sh[0], sh[1])}), -1), eye(sh[0], std::min(sh[0], sh[1]), 0, t)), l, 0, "LU holds L");
    }
  }
  array b = randn({3, 4, 4});
  auto plu = linalg::lu(b);
  array lp = take_along_axis(plu[1], expand_dims(astype(plu[0], int32), -1), -2);
  expect_near(matmul(lp, plu[2]), b, 1e-12, "batched");
}

TEST(Linalg, SolveIsBackwardStableOnIllConditionedMatrices) {
  // Hilbert matrix of order 10 (condition ~1.6e13): LU with partial pivoting
  // leaves a residual near eps ||A|| ||x||; solving through the inverse
  // leaves one near eps cond(A) ||b||, orders of magnitude larger.
  const int n = 10;
  std::vector<double> h(n * n), bv(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) h[i * n + j] = 1.0 / (i + j + 1);
    bv[i] = std::cos(i + 1.0);
  }
  array a(h, {n, n}), b(bv, {n});
  auto x = linalg::solve(a, b).to_vector<double>();
  double res = 0, xn = 0;
  for (int i = 0; i < n; ++i) {
    double r = -bv[i];
    for (int j = 0; j < n; ++j) r += h[i * n + j] * x[j];
    res = std::max(res, std::abs(r));
    xn = std::max(xn, std::abs(x[i]));
  }
  double an = 0;  // the infinity norm of A
  for (int i = 0; i < n; ++i) {
    double row = 0;
    for (int j = 0; j < n; ++j) row += h[i * n + j];
    an = std::max(an, row);
  }
  // NumPy on this system: 4.2e-6 by LU (gesv), 1.2e-4 through inv; the bound
  // is 3.2e-5.
  EXPECT_LT(res, 0.5 * 2.220446049250313e-16 * an * xn) << "residual " << res << " for |x| " << xn;
  // A singular matrix is an error naming the op.
  array sing = array({1.0, 2.0, 2.0, 4.0}, {2, 2});
  try {
    linalg::solve(sing, array({1.0, 1.0})).eval();
    FAIL() << "a singular matrix was solved";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[linalg::solve] the matrix is singular"), std::string::npos) << e.what();
  }
}

TEST(Linalg, SolveResiduals) {
  for (Dtype t : kTypes) {
    array a = astype(add(randn({2, 4, 4}), multiply(eye(4, float64), array(4.0))), t);
    array b = astype(randn({2, 4, 3}), t);
    expect_near(matmul(a, linalg::solve(a, b)), b, 10 * tol_of(t), "matrix rhs");
    array bv = astype(randn({4}), t);
    array x = linalg::solve(a, bv);  // broadcast vector rhs
    EXPECT_EQ(x.shape(), Shape({2, 4}));
    expect_near(squeeze(matmul(a, expand_dims(x, -1)), -1), broadcast_to(bv, {2, 4}), 10 * tol_of(t), "vector rhs");
    for (bool upper : {false, true}) {
      array tri = upper ? triu(a) : tril(a);
      expect_near(matmul(tri, linalg::solve_triangular(a, b, upper)), b, 10 * tol_of(t), "triangular");
    }
  }
}

TEST(Linalg, PinvPenroseConditions) {
  for (Shape sh : {Shape{5, 3}, Shape{2, 3, 5}, Shape{4, 4}}) {
    array a = randn(sh);
    array p = linalg::pinv(a);
    EXPECT_EQ(p.shape(-1), sh[sh.size() - 2]);
    expect_near(matmul(matmul(a, p), a), a, 1e-10, "A P A = A");
    expect_near(matmul(matmul(p, a), p), p, 1e-10, "P A P = P");
    array ap = matmul(a, p), pa = matmul(p, a);
    expect_near(mT(ap), ap, 1e-10, "(A P)ᵀ = A P");
    expect_near(mT(pa), pa, 1e-10, "(P A)ᵀ = P A");
  }
  // Rank deficient: the zero singular value is dropped.
  array r = array({1.0, 2.0, 2.0, 4.0}, {2, 2});
  array p = linalg::pinv(r);
  expect_near(matmul(matmul(r, p), r), r, 1e-12, "rank 1");
}

TEST(Linalg, Cross) {
  array a = array({1.0, 0.0, 0.0, 0.0, 1.0, 0.0}, {2, 3}), b = array({0.0, 1.0, 0.0, 0.0, 0.0, 1.0}, {2, 3});
  expect_near(linalg::cross(a, b), array({0.0, 0.0, 1.0, 1.0, 0.0, 0.0}, {2, 3}), 0);
  expect_near(linalg::cross(mT(a), mT(b), 0), array({0.0, 1.0, 0.0, 0.0, 1.0, 0.0}, {3, 2}), 0, "axis 0");
  array x = randn({4, 3}), y = randn({4, 3});
  expect_near(sum(multiply(linalg::cross(x, y), x), -1), zeros({4}, float64), 1e-12, "orthogonal");
  array two = array({1.0, 2.0}, {2}), three = array({3.0, 4.0, 5.0}, {3});
  expect_near(linalg::cross(two, three), array({10.0, -5.0, -2.0}, {3}), 0, "2-vector");
}

TEST(Linalg, NormMatchesNumpy) {
  std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/linalg/norm_goldens.json");
  ASSERT_TRUE(f.good());
  auto doc = nlohmann::json::parse(f);
  std::map<std::string, array> inputs;
  for (auto& [k, v] : doc["inputs"].items()) {
    inputs.emplace(k, array(v["data"].get<std::vector<double>>(), v["shape"].get<Shape>()));
  }
  int checked = 0;
  for (auto& c : doc["cases"]) {
    const array& x = inputs.at(c["input"].get<std::string>());
    bool keep = c["keepdims"];
    std::optional<std::vector<int>> axis;
    if (!c["axis"].is_null()) axis = c["axis"].get<std::vector<int>>();
    array out = x;
    std::string desc = c.dump();
    if (c["ord"].is_string()) {
      std::string o = c["ord"];
      if (o == "none") {
        out = linalg::norm(x, axis, keep);
      } else if (o == "inf" || o == "-inf") {
        out = linalg::norm(x, (o == "inf" ? 1 : -1) * std::numeric_limits<double>::infinity(), axis, keep);
      } else {
        out = linalg::norm(x, o, axis, keep);
      }
    } else {
      out = linalg::norm(x, c["ord"].get<double>(), axis, keep);
    }
    array want(c["out"].get<std::vector<double>>(), c["shape"].get<Shape>());
    EXPECT_EQ(out.dtype(), float64) << desc;
    expect_near(out, want, 1e-12, desc);
    ++checked;
  }
  EXPECT_GE(checked, 100);
  // float32 through the same path.
  array v = astype(inputs.at("m34"), float32);
  expect_near(linalg::norm(v, "nuc"), linalg::norm(inputs.at("m34"), "nuc"), 1e-5, "float32 nuc");
  EXPECT_EQ(linalg::norm(v, 2.0).dtype(), float32);
}

TEST(Linalg, Errors) {
  auto msg = [](auto f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  array rect = randn({2, 3});
  EXPECT_EQ(msg([&] { linalg::inv(rect); }), "[linalg::inv] matrices must be square, got shape (2,3)");
  EXPECT_EQ(msg([&] { linalg::inv(astype(eye(2), int32)); }),
            "[linalg::inv] arrays must be float32 or float64, got int32");
  EXPECT_EQ(msg([&] { linalg::cholesky(randn({3})); }),
            "[linalg::cholesky] arrays must have at least 2 dimensions, got shape (3)");
  EXPECT_NE(msg([&] { linalg::eigh(eye(2), "X"); }).find("UPLO"), std::string::npos);
  EXPECT_NE(msg([&] { linalg::solve(eye(3, float64), randn({2})); }).find("[linalg::solve]"), std::string::npos);
  EXPECT_NE(msg([&] { linalg::norm(rect, 3.0, std::vector<int>{0, 1}); }).find("not a matrix norm"),
            std::string::npos);
  EXPECT_NE(msg([&] { linalg::norm(randn({3}), "fro"); }).find("[linalg::norm]"), std::string::npos);
  EXPECT_NE(msg([&] { linalg::norm(randn({2, 2, 2}), 2.0); }).find("1-D or 2-D"), std::string::npos);
  EXPECT_NE(msg([&] { linalg::cross(randn({4}), randn({4})); }).find("[linalg::cross]"), std::string::npos);
  // LAPACK's reports, at evaluation.
  array singular = array({1.0, 2.0, 2.0, 4.0}, {2, 2});
  EXPECT_NE(msg([&] { linalg::inv(singular).eval(); }).find("[linalg::inv] the matrix is singular"),
            std::string::npos);
  array batch = stack({eye(2, float64), singular});
  EXPECT_NE(msg([&] { linalg::inv(batch).eval(); }).find("batch element 1"), std::string::npos);
  EXPECT_NE(msg([&] { linalg::cholesky(negative(eye(2, float64))).eval(); }).find("not positive definite"),
            std::string::npos);
  EXPECT_NE(msg([&] { linalg::tri_inv(zeros({2, 2}, float64)).eval(); }).find("[linalg::tri_inv]"),
            std::string::npos);
}

TEST(Linalg, VmapMatchesLoop) {
  using test::expect_vmap;
  array a = randn({3, 4, 4}), b = randn({4, 3, 4});
  array s = spd({3, 4, 4}, float64);
  auto f1 = [](auto fn) { return test::lift(fn); };
  expect_vmap(f1([](const array& x) { return linalg::inv(x); }), {a}, {0}, {}, 1e-12, 1e-12, "inv");
  expect_vmap(f1([](const array& x) { return linalg::inv(x); }), {b}, {1}, {}, 1e-12, 1e-12, "inv axis 1");
  expect_vmap(f1([](const array& x) { return linalg::tri_inv(x, true); }), {b}, {1}, {}, 1e-12, 1e-12, "tri_inv");
  expect_vmap(f1([](const array& x) { return linalg::cholesky(x); }), {s}, {0}, {}, 1e-12, 1e-12, "cholesky");
  expect_vmap(f1([](const array& x) { return linalg::cholesky(x, true); }), {s}, {0}, {1}, 1e-12, 1e-12,
              "cholesky upper");
  auto multi = [](auto fn) {
    return [fn](const std::vector<array>& xs) { return fn(xs[0]); };
  };
  expect_vmap(multi([](const array& x) { auto [q, r] = linalg::qr(x); return std::vector<array>{q, r}; }), {b}, {1},
              {}, 1e-12, 1e-12, "qr");
  expect_vmap(multi([](const array& x) { return linalg::svd(x); }), {a}, {0}, {}, 1e-12, 1e-12, "svd");
  expect_vmap(multi([](const array& x) { return linalg::svd(x, false); }), {b}, {2}, {}, 1e-12, 1e-12, "svd values");
  expect_vmap(multi([](const array& x) { auto [w, v] = linalg::eigh(x); return std::vector<array>{w, v}; }), {s},
              {0}, {}, 1e-12, 1e-12, "eigh");
  expect_vmap(multi([](const array& x) { return linalg::lu(x); }), {a}, {0}, {}, 1e-12, 1e-12, "lu");
  expect_vmap(multi([](const array& x) { auto [w, v] = linalg::eig(x); return std::vector<array>{w, v}; }), {a}, {0},
              {}, 1e-6, 1e-6, "eig");
  expect_vmap([](const std::vector<array>& xs) { return std::vector<array>{linalg::solve(xs[0], xs[1])}; },
              {a, randn({4, 3})}, {0, -1}, {}, 1e-10, 1e-10, "solve");
  expect_vmap(f1([](const array& x) { return linalg::norm(x, "nuc"); }), {a}, {0}, {}, 1e-12, 1e-12, "norm nuc");
}
