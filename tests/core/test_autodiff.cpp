// The autodiff transforms themselves (vjp, jvp, grad, value_and_grad, custom
// rules, checkpoint, depends), on graphs of matmuls and manipulation ops whose
// gradients have closed forms computed here with plain loops. The per-family
// rules are tested in test_grad_*.cpp.
#include <gtest/gtest.h>

#include <random>

#include "core/util.h"
#include "uma/uma.h"

using namespace uma;
using test::expect_close;

namespace {

std::mt19937 rng(11);

std::vector<double> random_values(size_t n) {
  std::normal_distribution<double> d;
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

array random_array(Shape shape) {
  size_t n = 1;
  for (int s : shape) n *= size_t(s);
  return array(random_values(n), shape);
}

// Row-major (m, k) x (k, n) in doubles.
std::vector<double> mm(const std::vector<double>& a, const std::vector<double>& b, int m, int k, int n) {
  std::vector<double> c(size_t(m) * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p)
      for (int j = 0; j < n; ++j) c[size_t(i) * n + j] += a[size_t(i) * k + p] * b[size_t(p) * n + j];
  return c;
}

std::vector<double> tr(const std::vector<double>& a, int m, int n) {
  std::vector<double> t(a.size());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) t[size_t(j) * m + i] = a[size_t(i) * n + j];
  return t;
}

// u^T A B v, a scalar (1, 1) built from matmuls only.
array bilinear(const array& u, const array& a, const array& b, const array& v) {
  return matmul(matmul(u, a), matmul(b, v));
}

}  // namespace

TEST(Autodiff, VjpOfMatmulIsTheTransposedProducts) {
  array a = random_array({3, 4}), b = random_array({4, 5}), c = random_array({3, 5});
  auto [outs, grads] = vjp([](const std::vector<array>& x) { return std::vector<array>{matmul(x[0], x[1])}; },
                           {a, b}, {c});
  auto av = a.to_vector<double>(), bv = b.to_vector<double>(), cv = c.to_vector<double>();
  expect_close(outs[0], mm(av, bv, 3, 4, 5), 1e-12, 1e-12);
  expect_close(grads[0], mm(cv, tr(bv, 4, 5), 3, 5, 4), 1e-12, 1e-12);
  expect_close(grads[1], mm(tr(av, 3, 4), cv, 4, 3, 5), 1e-12, 1e-12);
}

TEST(Autodiff, JvpOfMatmulIsTheProductRule) {
  array a = random_array({3, 4}), b = random_array({4, 2}), da = random_array({3, 4}), db = random_array({4, 2});
  auto [outs, tans] = jvp([](const std::vector<array>& x) { return std::vector<array>{matmul(x[0], x[1])}; },
                          {a, b}, {da, db});
  auto e1 = mm(da.to_vector<double>(), b.to_vector<double>(), 3, 4, 2);
  auto e2 = mm(a.to_vector<double>(), db.to_vector<double>(), 3, 4, 2);
  for (size_t i = 0; i < e1.size(); ++i) e1[i] += e2[i];
  expect_close(tans[0], e1, 1e-12, 1e-12);
  expect_close(outs[0], mm(a.to_vector<double>(), b.to_vector<double>(), 3, 4, 2), 1e-12, 1e-12);
}

TEST(Autodiff, ValueAndGradOfABilinearForm) {
  array u = random_array({1, 3}), a = random_array({3, 4}), b = random_array({4, 2}), v = random_array({2, 1});
  auto f = [](const std::vector<array>& x) { return bilinear(x[0], x[1], x[2], x[3]); };
  auto [value, grads] = value_and_grad(f, std::vector<int>{1, -2})({u, a, b, v});
  ASSERT_EQ(grads.size(), 2u);
  auto uv = u.to_vector<double>(), av = a.to_vector<double>(), bv = b.to_vector<double>(), vv = v.to_vector<double>();
  auto bvv = mm(bv, vv, 4, 2, 1);  // (4, 1)
  auto ua = mm(uv, av, 1, 3, 4);   // (1, 4)
  expect_close(value, mm(ua, bvv, 1, 4, 1), 1e-12, 1e-12);
  expect_close(grads[0], mm(tr(uv, 1, 3), tr(bvv, 4, 1), 3, 1, 4), 1e-12, 1e-12);  // u (Bv)^T
  expect_close(grads[1], mm(tr(ua, 1, 4), tr(vv, 2, 1), 4, 1, 2), 1e-12, 1e-12);  // (uA)^T v^T
  // grad returns the same gradients.
  auto g = grad(f, 2)({u, a, b, v});
  expect_close(g[0], grads[1].to_vector<double>(), 0, 0);
}

TEST(Autodiff, AnInputUsedTwiceAccumulatesBothPaths) {
  // f(X) = u X X v: df/dX = u^T (Xv)^T + (uX)^T v^T.
  array u = random_array({1, 3}), x = random_array({3, 3}), v = random_array({3, 1});
  auto [value, g] = value_and_grad([&](const array& xx) { return matmul(matmul(u, xx), matmul(xx, v)); })(x);
  auto uv = u.to_vector<double>(), xv = x.to_vector<double>(), vv = v.to_vector<double>();
  auto xv_ = mm(xv, vv, 3, 3, 1), ux = mm(uv, xv, 1, 3, 3);
  auto e1 = mm(tr(uv, 1, 3), tr(xv_, 3, 1), 3, 1, 3), e2 = mm(tr(ux, 1, 3), tr(vv, 3, 1), 3, 1, 3);
  for (size_t i = 0; i < e1.size(); ++i) e1[i] += e2[i];
  expect_close(g, e1, 1e-12, 1e-12);
}

TEST(Autodiff, TheSameArrayPassedTwiceIsTwoPrimals) {
  array x = random_array({2, 2}), c = random_array({2, 2});
  auto [outs, grads] = vjp([](const std::vector<array>& p) { return std::vector<array>{matmul(p[0], p[1])}; }, {x, x},
                           {c});
  auto xv = x.to_vector<double>(), cv = c.to_vector<double>();
  expect_close(grads[0], mm(cv, tr(xv, 2, 2), 2, 2, 2), 1e-12, 1e-12);
  expect_close(grads[1], mm(tr(xv, 2, 2), cv, 2, 2, 2), 1e-12, 1e-12);
}

TEST(Autodiff, UnusedInputsGetZerosAndIdentityPassesTheCotangent) {
  array x = random_array({2, 3}), y = random_array({3}), c = random_array({2, 3});
  auto [outs, grads] = vjp([](const std::vector<array>& p) { return std::vector<array>{p[0]}; }, {x, y}, {c});
  expect_close(grads[0], c.to_vector<double>(), 0, 0);
  expect_close(grads[1], {0, 0, 0}, 0, 0);
  EXPECT_EQ(grads[1].dtype(), float64);
}

TEST(Autodiff, GradientsFlowThroughManipulationOps) {
  // concatenate, pad and slice_update have rules: f = w^T pad(concat(a, b)).
  array a = random_array({1, 2}), b = random_array({1, 3}), w = random_array({7, 1});
  auto f = [&](const std::vector<array>& p) {
    array c = concatenate({p[0], p[1]}, 1);  // (1, 5)
    array q = pad(c, std::vector<int>{1}, Shape{1}, Shape{1});  // (1, 7)
    return matmul(q, w);                     // (1, 1)
  };
  auto grads = grad(f, std::vector<int>{0, 1})({a, b});
  auto wv = w.to_vector<double>();
  expect_close(grads[0], {wv[1], wv[2]}, 1e-12, 1e-12);
  expect_close(grads[1], {wv[3], wv[4], wv[5]}, 1e-12, 1e-12);
}

TEST(Autodiff, ArgumentErrorsNameTheProblem) {
  auto f = [](const std::vector<array>& p) { return matmul(p[0], p[0]); };
  array x = random_array({1, 1});
  EXPECT_THROW(value_and_grad(f, std::vector<int>{})({x}), std::invalid_argument);
  EXPECT_THROW(value_and_grad(f, 3)({x}), std::invalid_argument);
  EXPECT_THROW(value_and_grad(f, std::vector<int>{0, 0})({x}), std::invalid_argument);
  auto non_scalar = [](const std::vector<array>& p) { return matmul(p[0], p[0]); };
  try {
    value_and_grad(non_scalar)({random_array({2, 2})});
    FAIL() << "a non-scalar loss was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("scalar"), std::string::npos) << e.what();
  }
  auto two = [](const std::vector<array>& p) { return std::vector<array>{p[0], p[0]}; };
  EXPECT_THROW(vjp(two, {x}, {x}), std::invalid_argument);
  EXPECT_THROW(jvp(two, {x}, {random_array({2})}), std::invalid_argument);
}

TEST(Autodiff, ParameterTreesGetGradientsByName) {
  array u = random_array({1, 3}), a = random_array({3, 4}), b = random_array({4, 2}), v = random_array({2, 1});
  TreeLossFn loss = [](const ParamTree& p, const std::vector<array>& in) {
    return bilinear(in[0], p.at("l1.weight"), p.at("l2.weight"), in[1]);
  };
  auto [value, g] = value_and_grad(loss)({{"l1.weight", a}, {"l2.weight", b}}, {u, v});
  auto expected = grad([](const std::vector<array>& x) { return bilinear(x[0], x[1], x[2], x[3]); },
                       std::vector<int>{1, 2})({u, a, b, v});
  ASSERT_EQ(g.size(), 2u);
  expect_close(g.at("l1.weight"), expected[0].to_vector<double>(), 0, 0);
  expect_close(g.at("l2.weight"), expected[1].to_vector<double>(), 0, 0);
  expect_close(value, bilinear(u, a, b, v).to_vector<double>(), 0, 0);
}

TEST(Autodiff, CustomVjpReplacesTracing) {
  array w = random_array({3, 2}), x = random_array({2, 3}), c = random_array({2, 2});
  auto f = [&](const std::vector<array>& p) { return std::vector<array>{matmul(p[0], w)}; };
  int calls = 0;
  auto g = custom_vjp(f, [&](const std::vector<array>&, const std::vector<array>& cots, const std::vector<array>&) {
    ++calls;
    return std::vector<array>{matmul(cots[0], ones({2, 3}, float64))};  // deliberately not the true rule
  });
  auto [outs, grads] = vjp(g, {x}, {c});
  EXPECT_EQ(calls, 1);
  expect_close(outs[0], mm(x.to_vector<double>(), w.to_vector<double>(), 2, 3, 2), 1e-12, 1e-12);
  expect_close(grads[0], mm(c.to_vector<double>(), std::vector<double>(6, 1.0), 2, 2, 3), 1e-12, 1e-12);
  // Without a jvp rule, jvp traces the function.
  array t = random_array({2, 3});
  auto [o2, tans] = jvp(g, {x}, {t});
  expect_close(tans[0], mm(t.to_vector<double>(), w.to_vector<double>(), 2, 3, 2), 1e-12, 1e-12);
}

TEST(Autodiff, CheckpointGivesTheSameGradients) {
  array u = random_array({1, 3}), a = random_array({3, 4}), b = random_array({4, 2}), v = random_array({2, 1});
  auto inner = [](const std::vector<array>& p) { return std::vector<array>{matmul(p[0], p[1])}; };
  auto ck = checkpoint(inner);
  auto f = [&](const std::vector<array>& p) { return matmul(matmul(u, ck({p[0], p[1]})[0]), v); };
  auto plain = [&](const std::vector<array>& p) { return matmul(matmul(u, matmul(p[0], p[1])), v); };
  auto g1 = grad(f, std::vector<int>{0, 1})({a, b});
  auto g2 = grad(plain, std::vector<int>{0, 1})({a, b});
  expect_close(g1[0], g2[0].to_vector<double>(), 1e-12, 1e-12);
  expect_close(g1[1], g2[1].to_vector<double>(), 1e-12, 1e-12);
}

TEST(Autodiff, DependsPassesValuesAndGradientsButNotToDependencies) {
  array x = random_array({2, 2}), d = random_array({3}), c = random_array({2, 2});
  auto [outs, grads] =
      vjp([](const std::vector<array>& p) { return depends({p[0]}, {p[1]}); }, {x, d}, {c});
  expect_close(outs[0], x.to_vector<double>(), 0, 0);
  expect_close(grads[0], c.to_vector<double>(), 0, 0);
  expect_close(grads[1], {0, 0, 0}, 0, 0);
}

TEST(Autodiff, EvaluatingInsideTheFunctionKeepsTheGraph) {
  array a = random_array({2, 3}), b = random_array({3, 2}), c = random_array({2, 2});
  auto [outs, grads] = vjp(
      [](const std::vector<array>& p) {
        array y = matmul(p[0], p[1]);
        eval(y);  // e.g. a loss printed along the way
        return std::vector<array>{y};
      },
      {a, b}, {c});
  expect_close(grads[0], mm(c.to_vector<double>(), tr(b.to_vector<double>(), 3, 2), 2, 2, 3), 1e-12, 1e-12);
}
