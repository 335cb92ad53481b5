// Gradient rules of the LAPACK family through the transforms, in float64:
// vjp against central finite differences in a random direction (random,
// non-symmetric directions included: Cholesky and Eigh are functions of the
// lower triangle), jvp against vjp, the vjp of the vjp; the ops composed on
// them (solve, solve_triangular, cholesky_inv, norms); and the refusals.
#include <gtest/gtest.h>

#include "core/grad_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::check_vjp_of_vjp;
using test::randn;

namespace {

array mT(const array& x) { return swapaxes(x, -1, -2); }

// Well conditioned: x + n I.
array conditioned(const Shape& sh) { return add(randn(sh), multiply(eye(sh.back(), float64), array(double(sh.back())))); }

array spd(const Shape& sh) {
  array x = randn(sh);
  return add(matmul(x, mT(x)), multiply(eye(sh.back(), float64), array(double(sh.back()))));
}

// The symmetric matrix with well separated eigenvalues 1, 3, 5, ... in a
// random basis.
array separated_sym(int n) {
  auto [q, r] = linalg::qr(randn({n, n}));
  std::vector<double> w;
  for (int i = 0; i < n; ++i) w.push_back(1.0 + 2.0 * i);
  return matmul(multiply(q, expand_dims(array(w, {n}), 0)), mT(q));
}

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const not_implemented& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(LinalgGrad, Inverse) {
  for (Shape sh : {Shape{3, 3}, Shape{2, 4, 4}}) {
    array a = conditioned(sh);
    check_grad([](const array& x) { return linalg::inv(x); }, a);
    check_vjp_of_vjp([](const array& x) { return linalg::inv(x); }, a);
    check_grad([](const array& x) { return linalg::inv(mT(x)); }, a);
  }
}

TEST(LinalgGrad, TriInvUsesOneTriangle) {
  array a = conditioned({2, 4, 4});
  for (bool upper : {false, true}) {
    SCOPED_TRACE(upper);
    array g = check_grad([&](const array& x) { return linalg::tri_inv(x, upper); }, a);
    test::expect_close(upper ? tril(g, -1) : triu(g, 1), std::vector<double>(32, 0.0));
    check_vjp_of_vjp([&](const array& x) { return linalg::tri_inv(x, upper); }, a);
  }
}

TEST(LinalgGrad, SolveAndSolveTriangular) {
  array a = conditioned({2, 4, 4}), b = randn({2, 4, 3}), bv = randn({4});
  check_grad([&](const array& x) { return linalg::solve(x, b); }, a);
  check_grad([&](const array& y) { return linalg::solve(a, y); }, b);
  check_grad([&](const array& y) { return linalg::solve(a, y); }, bv);
  for (bool upper : {false, true}) {
    check_grad([&](const array& x) { return linalg::solve_triangular(x, b, upper); }, a);
    check_grad([&](const array& y) { return linalg::solve_triangular(a, y, upper); }, b);
  }
}

TEST(LinalgGrad, Cholesky) {
  array a = spd({2, 4, 4});
  for (bool upper : {false, true}) {
    SCOPED_TRACE(upper);
    array g = check_grad([&](const array& x) { return linalg::cholesky(x, upper); }, a);
    // Only the triangle read has a gradient.
    test::expect_close(upper ? tril(g, -1) : triu(g, 1), std::vector<double>(32, 0.0));
    check_vjp_of_vjp([&](const array& x) { return linalg::cholesky(x, upper); }, a);
  }
  check_grad([](const array& x) { return linalg::cholesky_inv(linalg::cholesky(x)); }, a);
}

TEST(LinalgGrad, QrTallAndSquare) {
  auto qr_cat = [](const array& x) {
    auto [q, r] = linalg::qr(x);
    return concatenate({q, r}, -2);
  };
  for (Shape sh : {Shape{4, 4}, Shape{2, 5, 3}}) {
    array a = randn(sh);
    check_grad(qr_cat, a);
    check_vjp_of_vjp(qr_cat, a);
  }
  check_grad([](const array& x) { return linalg::qr(x).second; }, randn({5, 3}));
  check_grad([](const array& x) { return linalg::qr(x).first; }, randn({5, 3}));
  EXPECT_NE(refusal([&] { uma::vjp(test::UnaryFn([](const array& x) { return linalg::qr(x).second; }), randn({2, 4}), ones({2, 4}, float64)); }).find("M >= N"),
            std::string::npos);
}

TEST(LinalgGrad, SingularValues) {
  for (Shape sh : {Shape{4, 4}, Shape{2, 5, 3}, Shape{3, 6}}) {
    array a = randn(sh);
    check_grad([](const array& x) { return linalg::svd(x, false)[0]; }, a);
  }
  std::string msg = refusal([] {
    uma::vjp(test::UnaryFn([](const array& x) { return linalg::svd(x)[1]; }), randn({3, 3}), ones({3}, float64));
  });
  EXPECT_NE(msg.find("[SVD] has no vjp rule for U and Vt"), std::string::npos) << msg;
}

TEST(LinalgGrad, Eigh) {
  array a = separated_sym(4);
  auto w_and_v = [](const std::string& uplo) {
    return [uplo](const array& x) {
      auto [w, v] = linalg::eigh(x, uplo);
      return concatenate({expand_dims(w, -2), v}, -2);
    };
  };
  for (std::string uplo : {"L", "U"}) {
    SCOPED_TRACE(uplo);
    check_grad(w_and_v(uplo), a);
    check_grad([&](const array& x) { return linalg::eigvalsh(x, uplo); }, a);
  }
  check_vjp_of_vjp([](const array& x) { return linalg::eigvalsh(x); }, a);
  array batch = stack({separated_sym(3), separated_sym(3)});
  check_grad(w_and_v("L"), batch);
}

TEST(LinalgGrad, Norms) {
  array m = randn({3, 4}), t = randn({2, 3, 4});
  check_grad([](const array& x) { return linalg::norm(x, 2.0); }, m);
  check_grad([](const array& x) { return linalg::norm(x, -2.0); }, m);
  check_grad([](const array& x) { return linalg::norm(x, "nuc"); }, m);
  check_grad([](const array& x) { return linalg::norm(x, "fro", std::vector<int>{0, 2}); }, t);
  check_grad([](const array& x) { return linalg::norm(x, 3.0, -1); }, t);
  check_grad([](const array& x) { return linalg::norm(x, std::vector<int>{1, 2}, true); }, t);
}

TEST(LinalgGrad, RefusedByName) {
  array a = randn({3, 3});
  EXPECT_EQ(refusal([&] { uma::vjp(test::UnaryFn([](const array& x) { return real(linalg::eigvals(x)); }), a, ones({3})); }),
            "[Eig] has no vjp rule yet");
  EXPECT_EQ(refusal([&] { uma::jvp(test::UnaryFn([](const array& x) { return linalg::lu_factor(x).first; }), a, a); }),
            "[LUF] has no jvp rule yet");
}
