// Gradient rules of the manipulation and indexing primitives, called
// directly (the transforms land later). The ops are linear in their data, so
// jvp(t) must equal the op applied to t, and vjp must be jvp's adjoint:
// <cot, jvp(t)> == sum_i <vjp_i(cot), t_i> for random t and cot.
#include <gtest/gtest.h>

#include <random>

#include "core/manipulation_util.h"
#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using test::iota;

namespace {

std::mt19937 rng(5);

array random_like(const array& a) {
  std::normal_distribution<double> n;
  std::vector<double> v(a.size());
  for (auto& x : v) x = n(rng);
  return array(v, a.shape());
}

double dot(array a, array b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  EXPECT_EQ(x.size(), y.size());
  double s = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) s += x[i] * y[i];
  return s;
}

// Checks the adjoint identity for `out` (unevaluated, float64 data inputs)
// over the inputs in argnums; returns jvp(t) and the tangents used.
std::pair<array, std::vector<array>> check_adjoint(const array& out, const std::vector<int>& argnums) {
  std::vector<array> primals = out.inputs();
  Primitive& prim = out.primitive();
  std::vector<array> ts;
  for (int i : argnums) ts.push_back(random_like(primals[i]));
  array cot = random_like(out);
  array jv = prim.jvp(primals, ts, argnums).at(0);
  auto vj = prim.vjp(primals, {cot}, argnums, {out});
  EXPECT_EQ(jv.shape(), out.shape()) << prim.name();
  EXPECT_EQ(vj.size(), argnums.size()) << prim.name();
  double rhs = 0;
  for (size_t k = 0; k < vj.size(); ++k) {
    EXPECT_EQ(vj[k].shape(), primals[argnums[k]].shape()) << prim.name() << " input " << argnums[k];
    rhs += dot(vj[k], ts[k]);
  }
  double lhs = dot(cot, jv);
  EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::abs(lhs))) << prim.name();
  return {jv, ts};
}

void expect_same(array a, array b) { test::expect_close(a, b.to_vector<double>(), 1e-12, 1e-12); }

}  // namespace

TEST(ManipulationGrads, JoinPadAndUpdates) {
  array a = random_like(zeros({2, 3})), b = random_like(zeros({2, 2}));
  auto [jv, ts] = check_adjoint(concatenate({a, b}, 1), {0, 1});
  expect_same(jv, concatenate({ts[0], ts[1]}, 1));
  std::tie(jv, ts) = check_adjoint(concatenate({a, b}, 1), {1});
  expect_same(jv, concatenate({zeros({2, 3}, float64), ts[0]}, 1));

  array p = pad(a, {{1, 0}, {2, 1}}, array(0.5));
  std::tie(jv, ts) = check_adjoint(p, {0, 1});  // pad value too
  std::tie(jv, ts) = check_adjoint(p, {0});
  expect_same(jv, pad(ts[0], {{1, 0}, {2, 1}}));
  // By hand: the pad value's gradient is the sum over the border.
  auto g = p.primitive().vjp(p.inputs(), {ones({3, 6}, float64)}, {1}, {p});
  EXPECT_EQ(g[0].item<double>(), 18.0 - 6.0);

  array src = random_like(zeros({4, 5}));
  array su = slice_update(src, random_like(zeros({2, 2})), {3, 4}, {-4, -6}, {-2, -3});  // negative steps
  std::tie(jv, ts) = check_adjoint(su, {0, 1});
  expect_same(jv, slice_update(ts[0], ts[1], {3, 4}, {-4, -6}, {-2, -3}));
  g = su.primitive().vjp(su.inputs(), {iota({4, 5}, float64)}, {0, 1}, {su});
  test::expect_close(g[1], {19, 16, 9, 6});  // rows 3, 1 x cols 4, 1
  EXPECT_EQ(g[0].to_vector<double>()[19], 0.0);
  EXPECT_EQ(g[0].to_vector<double>()[18], 18.0);

  array start = array({1, -1});
  std::tie(jv, ts) = check_adjoint(slice(src, start, {0, 1}, {2, 3}), {0});
  expect_same(jv, slice(ts[0], start, {0, 1}, {2, 3}));
  std::tie(jv, ts) = check_adjoint(slice_update(src, random_like(zeros({1, 2})), start, {0, 1}), {0, 1});
  expect_same(jv, slice_update(ts[0], ts[1], start, {0, 1}));
  array ds = slice(src, start, {0, 1}, {2, 3});
  EXPECT_THROW(ds.primitive().vjp(ds.inputs(), {ones({2, 3}, float64)}, {1}, {ds}), std::invalid_argument);
}

TEST(ManipulationGrads, Diagonal) {
  array a = random_like(zeros({3, 4, 5}));
  for (auto [off, ax1, ax2] : std::vector<std::tuple<int, int, int>>{{0, 0, 1}, {1, 2, 0}, {-2, 1, 2}, {7, 0, 1}}) {
    auto [jv, ts] = check_adjoint(diagonal(a, off, ax1, ax2), {0});
    expect_same(jv, diagonal(ts[0], off, ax1, ax2));
  }
  array m = zeros({2, 3}, float64);
  array d = diagonal(m, 1);
  auto g = d.primitive().vjp(d.inputs(), {array({5.0, 6.0})}, {0}, {d});
  test::expect_close(g[0], {0, 5, 0, 0, 0, 6});
}

TEST(IndexingGrads, GatherScatterAlongAxis) {
  array a = random_like(zeros({4, 3}));
  // Out-of-range indices included: the adjoints pair clamp with clamp and
  // drop with zero-fill, so the identity holds exactly for them too.
  array i0 = array({0, 3, 3, -1}), i1 = array({2, 0, 0, 1});  // i1 = 2 with a window of 2: clamped
  auto [jv, ts] = check_adjoint(gather(a, {i0, i1}, {0, 1}, {1, 2}), {0});
  expect_same(jv, gather(ts[0], {i0, i1}, {0, 1}, {1, 2}));
  // Duplicate indices accumulate their gradients.
  array gat = gather(a, array({1, 1, 1}), 0, {1, 3});
  auto g = gat.primitive().vjp(gat.inputs(), {ones({3, 1, 3}, float64)}, {0}, {gat});
  test::expect_close(g[0], {0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0});

  array upd = random_like(zeros({3, 1, 3}));
  using ScatterFn = array (*)(const array&, const array&, const array&, int, StreamOrDevice);
  for (ScatterFn op : {static_cast<ScatterFn>(scatter), static_cast<ScatterFn>(scatter_add)}) {
    std::tie(jv, ts) = check_adjoint(op(a, array({2, 0, 1}), upd, 0, {}), {0, 2});
    std::tie(jv, ts) = check_adjoint(op(a, array({2, 9, -1}), upd, 0, {}), {0, 2});  // 9 dropped
    std::tie(jv, ts) = check_adjoint(op(a, array({2, 0, 1}), upd, 0, {}), {0});
    expect_same(jv, op(ts[0], array({2, 0, 1}), zeros_like(upd), 0, {}));
  }
  // A dropped update gets no gradient.
  array sd = scatter(a, array({9, 1, 0}), upd, 0);
  g = sd.primitive().vjp(sd.inputs(), {ones({4, 3}, float64)}, {2}, {sd});
  test::expect_close(g[0], {0, 0, 0, 1, 1, 1, 1, 1, 1});
  array sm = scatter_max(a, array({0}), zeros({1, 1, 3}, float64), 0);
  EXPECT_THROW(sm.primitive().vjp(sm.inputs(), {a}, {0}, {sm}), not_implemented);

  array idx = array({2, 0, 2, 1, 1, 0}, {2, 3});
  std::tie(jv, ts) = check_adjoint(take_along_axis(random_like(zeros({2, 4})), idx, 1), {0});
  std::tie(jv, ts) = check_adjoint(take_along_axis(random_like(zeros({2, 4})), array({5, -9, 1}, {1, 3}), 1), {0});
  std::tie(jv, ts) = check_adjoint(put_along_axis(a, array({1, 3, 2, -4}, {4, 1}), random_like(zeros({4, 1})), 1),
                                   {0, 2});
  std::tie(jv, ts) = check_adjoint(put_along_axis(a, array({1, 0, 2, 2}, {4, 1}), random_like(zeros({4, 1})), 1), {0, 2});
  std::tie(jv, ts) = check_adjoint(scatter_add_axis(a, array({1, 1, 2}, {1, 3}), random_like(zeros({1, 3})), 0),
                                   {0, 2});
  array ga = gather(a, i0, 0, {1, 3});
  EXPECT_THROW(ga.primitive().vjp(ga.inputs(), {ones({4, 1, 3}, float64)}, {1}, {ga}), std::invalid_argument);
}
