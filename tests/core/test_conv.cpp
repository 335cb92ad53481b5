// Convolutions: every op against a direct float64 loop (conv_general's
// definition, and the scatter definition of the transposed convolutions)
// over 1-D, 2-D and 3-D shapes with strides, padding, both dilations, groups,
// flips, non-contiguous inputs and half dtypes; the vjp against finite
// differences and the jvp against the vjp; vmap against the loop; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/grad_util.h"
#include "core/vmap_util.h"
#include "uma/core/primitive.h"
#include "uma/core/utils.h"
#include "uma/uma.h"

using namespace uma;
using test::check_grad;
using test::randn;

namespace {

struct Params {
  std::vector<int> stride, lo, hi, kdil, idil;
  int groups = 1;
  bool flip = false;
};

// Shapes padded to three spatial dims (size 1 in front).
struct Dims {
  int64_t v[3] = {1, 1, 1};
};
Dims spatial(const Shape& s) {
  Dims d;
  int nd = int(s.size()) - 2;
  for (int i = 0; i < nd; ++i) d.v[3 - nd + i] = s[i + 1];
  return d;
}
std::vector<int> pad3(const std::vector<int>& v, int fill) {
  std::vector<int> r(3, fill);
  for (size_t i = 0; i < v.size(); ++i) r[3 - v.size() + i] = v[i];
  return r;
}

// conv_general by its definition, in float64.
array conv_ref(const array& xa, const array& wa, const Params& p) {
  auto x = astype(xa, float64).to_vector<double>(), w = astype(wa, float64).to_vector<double>();
  int nd = int(xa.ndim()) - 2;
  Dims I = spatial(xa.shape()), K = spatial(wa.shape());
  auto st = pad3(p.stride, 1), lo = pad3(p.lo, 0), hi = pad3(p.hi, 0), kd = pad3(p.kdil, 1), id = pad3(p.idil, 1);
  int64_t N = xa.shape(0), C = xa.shape(-1), CO = wa.shape(0), G = p.groups, cg = C / G, og = CO / G;
  int64_t O[3];
  for (int d = 0; d < 3; ++d) {
    int64_t padded = (I.v[d] - 1) * id[d] + 1 + lo[d] + hi[d];
    O[d] = (padded - ((K.v[d] - 1) * kd[d] + 1)) / st[d] + 1;
  }
  std::vector<double> out(size_t(N * O[0] * O[1] * O[2] * CO), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t a = 0; a < O[0]; ++a)
      for (int64_t b = 0; b < O[1]; ++b)
        for (int64_t c = 0; c < O[2]; ++c)
          for (int64_t co = 0; co < CO; ++co) {
            double acc = 0;
            int64_t o[3] = {a, b, c};
            for (int64_t k0 = 0; k0 < K.v[0]; ++k0)
              for (int64_t k1 = 0; k1 < K.v[1]; ++k1)
                for (int64_t k2 = 0; k2 < K.v[2]; ++k2) {
                  int64_t k[3] = {k0, k1, k2}, i[3];
                  bool ok = true;
                  for (int d = 0; d < 3; ++d) {
                    int64_t pos = o[d] * st[d] + k[d] * kd[d] - lo[d];
                    ok &= pos >= 0 && pos % id[d] == 0 && pos / id[d] < I.v[d];
                    i[d] = pos / id[d];
                  }
                  if (!ok) continue;
                  int64_t kw[3];
                  for (int d = 0; d < 3; ++d) kw[d] = p.flip ? K.v[d] - 1 - k[d] : k[d];
                  for (int64_t ci = 0; ci < cg; ++ci) {
                    int64_t xi = (((n * I.v[0] + i[0]) * I.v[1] + i[1]) * I.v[2] + i[2]) * C + (co / og) * cg + ci;
                    int64_t wi = (((co * K.v[0] + kw[0]) * K.v[1] + kw[1]) * K.v[2] + kw[2]) * cg + ci;
                    acc += x[size_t(xi)] * w[size_t(wi)];
                  }
                }
            out[size_t((((n * O[0] + a) * O[1] + b) * O[2] + c) * CO + co)] = acc;
          }
  Shape os{int32_t(N)};
  for (int d = 3 - nd; d < 3; ++d) os.push_back(int32_t(O[d]));
  os.push_back(int32_t(CO));
  return array(out, os);
}

// The transposed convolution by its scatter definition:
// y[i * s - p + k * dil] += x[i] * w[k], channels within groups.
array conv_transpose_ref(const array& xa, const array& wa, std::vector<int> s, std::vector<int> p,
                         std::vector<int> dil, std::vector<int> op, int G) {
  auto x = astype(xa, float64).to_vector<double>(), w = astype(wa, float64).to_vector<double>();
  int nd = int(xa.ndim()) - 2;
  Dims I = spatial(xa.shape()), K = spatial(wa.shape());
  s = pad3(s, 1), p = pad3(p, 0), dil = pad3(dil, 1), op = pad3(op, 0);
  int64_t N = xa.shape(0), C = xa.shape(-1), CO = wa.shape(0), cg = C / G, og = CO / G, O[3];
  for (int d = 0; d < 3; ++d) O[d] = (I.v[d] - 1) * s[d] - 2 * p[d] + dil[d] * (K.v[d] - 1) + 1 + op[d];
  std::vector<double> out(size_t(N * O[0] * O[1] * O[2] * CO), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t a = 0; a < I.v[0]; ++a)
      for (int64_t b = 0; b < I.v[1]; ++b)
        for (int64_t c = 0; c < I.v[2]; ++c)
          for (int64_t k0 = 0; k0 < K.v[0]; ++k0)
            for (int64_t k1 = 0; k1 < K.v[1]; ++k1)
              for (int64_t k2 = 0; k2 < K.v[2]; ++k2) {
                int64_t i[3] = {a, b, c}, k[3] = {k0, k1, k2}, o[3];
                bool ok = true;
                for (int d = 0; d < 3; ++d) {
                  o[d] = i[d] * s[d] - p[d] + k[d] * dil[d];
                  ok &= o[d] >= 0 && o[d] < O[d];
                }
                if (!ok) continue;
                for (int64_t co = 0; co < CO; ++co) {
                  double acc = 0;
                  for (int64_t ci = 0; ci < cg; ++ci) {
                    acc += x[size_t((((n * I.v[0] + a) * I.v[1] + b) * I.v[2] + c) * C + (co / og) * cg + ci)] *
                           w[size_t((((co * K.v[0] + k0) * K.v[1] + k1) * K.v[2] + k2) * cg + ci)];
                  }
                  out[size_t((((n * O[0] + o[0]) * O[1] + o[1]) * O[2] + o[2]) * CO + co)] += acc;
                }
              }
  Shape os{int32_t(N)};
  for (int d = 3 - nd; d < 3; ++d) os.push_back(int32_t(O[d]));
  os.push_back(int32_t(CO));
  return array(out, os);
}

void expect_close(const array& got, const array& want, double tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  auto g = astype(got, float64).to_vector<double>(), e = astype(want, float64).to_vector<double>();
  double scale = 1;
  for (double v : e) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], e[i], tol * scale) << what << " at " << i;
  }
}

array general(const array& x, const array& w, const Params& p) {
  return conv_general(x, w, p.stride, p.lo, p.hi, p.kdil, p.idil, p.groups, p.flip);
}

struct Case {
  Shape x, w;
  Params p;
};

// Shapes and parameters over 1-3 spatial dims; every parameter departs from
// its default somewhere, negative padding included.
std::vector<Case> cases() {
  return {
      {{2, 9, 3}, {4, 3, 3}, {{1}, {0}, {0}, {1}, {1}}},
      {{2, 11, 4}, {6, 3, 2}, {{2}, {1}, {2}, {2}, {1}, 2}},
      {{1, 7, 2}, {3, 2, 2}, {{1}, {2}, {1}, {1}, {3}, 1, true}},
      {{3, 10, 3}, {2, 4, 3}, {{3}, {-1}, {2}, {1}, {2}}},
      {{2, 6, 7, 3}, {4, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}},
      {{2, 9, 8, 4}, {6, 3, 2, 2}, {{2, 3}, {1, 0}, {0, 2}, {1, 2}, {1, 1}, 2}},
      {{1, 5, 6, 2}, {2, 2, 3, 2}, {{1, 2}, {1, 2}, {0, 1}, {2, 1}, {2, 3}, 1, true}},
      {{2, 6, 6, 6}, {6, 3, 3, 1}, {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 6}},
      {{2, 6, 5, 12}, {8, 2, 3, 6}, {{1, 2}, {0, 1}, {1, 1}, {2, 1}, {1, 1}, 2}},
      {{3, 8, 8, 64}, {16, 1, 1, 64}, {{1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}}},
      {{1, 5, 4, 6, 2}, {3, 2, 3, 2, 2}, {{1, 2, 1}, {0, 1, 1}, {1, 0, 1}, {2, 1, 1}, {1, 1, 2}}},
      {{2, 4, 5, 3, 4}, {4, 2, 2, 2, 2}, {{2, 1, 1}, {1, 0, 1}, {1, 1, 0}, {1, 1, 2}, {1, 2, 1}, 2, true}},
  };
}

}  // namespace

TEST(Conv, GeneralAgainstLoop) {
  for (auto& c : cases()) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.w));
    array x = randn(c.x), w = randn(c.w);
    array want = conv_ref(x, w, c.p);
    expect_close(general(x, w, c.p), want, 1e-12, "float64");
    expect_close(general(astype(x, float32), astype(w, float32), c.p), want, 1e-5, "float32");
    expect_close(general(astype(x, float16), astype(w, float16), c.p), want, 2e-2, "float16");
    expect_close(general(astype(x, bfloat16), astype(w, bfloat16), c.p), want, 5e-2, "bfloat16");
    EXPECT_EQ(general(astype(x, bfloat16), astype(w, bfloat16), c.p).dtype(), bfloat16);
  }
}

TEST(Conv, NamedOps) {
  array x1 = randn({2, 12, 4}), w1 = randn({6, 3, 2});
  expect_close(conv1d(x1, w1, 2, 1, 2, 2), conv_ref(x1, w1, {{2}, {1}, {1}, {2}, {1}, 2}), 1e-12, "conv1d");
  array x2 = randn({2, 7, 9, 3}), w2 = randn({5, 3, 2, 3});
  expect_close(conv2d(x2, w2, {2, 1}, {1, 2}, {1, 3}), conv_ref(x2, w2, {{2, 1}, {1, 2}, {1, 2}, {1, 3}, {1, 1}}),
               1e-12, "conv2d");
  array x3 = randn({1, 5, 6, 4, 2}), w3 = randn({3, 2, 3, 2, 2});
  expect_close(conv3d(x3, w3, {1, 2, 1}, {1, 0, 1}, {2, 1, 1}),
               conv_ref(x3, w3, {{1, 2, 1}, {1, 0, 1}, {1, 0, 1}, {2, 1, 1}, {1, 1, 1}}), 1e-12, "conv3d");
  // Mixed dtypes promote; float32 inputs stay float32.
  EXPECT_EQ(conv1d(astype(x1, float32), astype(w1, float16), 1, 0, 1, 2).dtype(), float32);
}

TEST(Conv, Transposed) {
  array x1 = randn({2, 7, 4}), w1 = randn({6, 3, 2});
  expect_close(conv_transpose1d(x1, w1, 2, 1, 2, 1, 2), conv_transpose_ref(x1, w1, {2}, {1}, {2}, {1}, 2), 1e-12,
               "conv_transpose1d");
  expect_close(conv_transpose1d(x1, astype(w1, float64), 3, 0, 1, 0, 2),
               conv_transpose_ref(x1, w1, {3}, {0}, {1}, {0}, 2), 1e-12, "conv_transpose1d stride 3");
  array x2 = randn({2, 4, 5, 3}), w2 = randn({4, 3, 2, 3});
  expect_close(conv_transpose2d(x2, w2, {2, 3}, {1, 0}, {1, 2}, {1, 2}),
               conv_transpose_ref(x2, w2, {2, 3}, {1, 0}, {1, 2}, {1, 2}, 1), 1e-12, "conv_transpose2d");
  array x3 = randn({1, 3, 4, 2, 2}), w3 = randn({3, 2, 2, 3, 2});
  expect_close(conv_transpose3d(x3, w3, {2, 1, 2}, {0, 1, 1}, {1, 2, 1}, {1, 0, 0}),
               conv_transpose_ref(x3, w3, {2, 1, 2}, {0, 1, 1}, {1, 2, 1}, {1, 0, 0}, 1), 1e-12,
               "conv_transpose3d");
  expect_close(conv_transpose2d(astype(x2, float32), astype(w2, float32), {2, 2}, {1, 1}),
               conv_transpose_ref(x2, w2, {2, 2}, {1, 1}, {1, 1}, {0, 0}, 1), 1e-5, "conv_transpose2d float32");
}

TEST(Conv, NonContiguousInputs) {
  // A transposed input, a strided slice and a broadcast weight.
  array base = randn({2, 8, 5, 3});
  array x = transpose(base, {0, 2, 1, 3});  // (2, 5, 8, 3)
  array w = broadcast_to(randn({1, 3, 3, 3}), {4, 3, 3, 3});
  Params p{{1, 2}, {1, 1}, {1, 0}, {1, 1}, {1, 1}};
  expect_close(general(astype(x, float32), w, p), conv_ref(x, w, p), 1e-5, "transposed input");
  array xs = slice(randn({3, 13, 11, 6}), {0, 1, 0, 0}, {3, 13, 11, 6}, {2, 3, 2, 2});  // (2, 4, 6, 3)
  array ws = slice(randn({5, 3, 3, 6}), {0, 0, 0, 0}, {5, 3, 3, 6}, {1, -1, 1, 2});
  expect_close(general(xs, ws, p), conv_ref(xs, ws, p), 1e-12, "sliced input and weight");
}

TEST(Conv, TiledRowsAndDepthwise) {
  // Enough rows for several im2col tiles.
  array x = astype(randn({1, 34, 34, 256}), float32), w = astype(randn({8, 3, 3, 256}), float32);
  Params p{{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  expect_close(general(x, w, p), conv_ref(x, w, p), 1e-5, "tiled");
  // Depthwise with a channel multiplier (the direct path).
  array xd = astype(randn({2, 9, 7, 4}), float32), wd = astype(randn({8, 3, 3, 1}), float32);
  Params pd{{2, 1}, {1, 1}, {1, 1}, {1, 2}, {1, 1}, 4};
  expect_close(general(xd, wd, pd), conv_ref(xd, wd, pd), 1e-5, "depthwise");
}

TEST(Conv, Errors) {
  array x = ones({2, 8, 8, 4}), w = ones({6, 3, 3, 4});
  auto expect_msg = [](auto&& f, const std::string& prefix) {
    try {
      f();
      ADD_FAILURE() << "no throw, expected " << prefix;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
    }
  };
  expect_msg([&] { conv2d(ones({8, 8, 4}), w); }, "[conv2d]");
  expect_msg([&] { conv2d(x, ones({6, 3, 4})); }, "[conv2d]");
  expect_msg([&] { conv2d(x, ones({6, 3, 3, 3})); }, "[conv2d]");          // channels
  expect_msg([&] { conv2d(x, ones({6, 3, 3, 2}), {1, 1}, {0, 0}, {1, 1}, 3); }, "[conv2d]");  // groups
  expect_msg([&] { conv2d(x, ones({5, 3, 3, 2}), {1, 1}, {0, 0}, {1, 1}, 2); }, "[conv2d]");  // out channels
  expect_msg([&] { conv2d(x, ones({6, 9, 3, 4})); }, "[conv]");            // kernel larger than input
  expect_msg([&] { conv2d(x, w, {0, 1}); }, "[conv2d]");
  expect_msg([&] { conv2d(astype(x, int32), w); }, "[conv2d]");
  expect_msg([&] { conv1d(x, w); }, "[conv1d]");
  expect_msg([&] { conv3d(x, w); }, "[conv3d]");
  expect_msg([&] { conv_general(ones({2, 4}), ones({2, 4})); }, "[conv]");
  expect_msg([&] { conv_general(x, w, {1, 1, 1}); }, "[conv2d]");
  expect_msg([&] { conv_transpose2d(x, ones({6, 3, 3, 3})); }, "[conv_transpose2d]");
}

// ---------------------------------------------------------------- gradients

TEST(ConvGrad, InputAndWeightAgainstFiniteDifferences) {
  for (auto& c : cases()) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.w));
    array x = randn(c.x), w = randn(c.w);
    check_grad([&](const array& a) { return general(a, w, c.p); }, x, 1e-6, 1e-5, 1e-9);
    check_grad([&](const array& b) { return general(x, b, c.p); }, w, 1e-6, 1e-5, 1e-9);
  }
}

TEST(ConvGrad, TransposedAndNamedOps) {
  array x = randn({2, 5, 4, 4}), w = randn({6, 3, 2, 2});
  check_grad([&](const array& a) { return conv_transpose2d(a, w, {2, 1}, {1, 0}, {1, 2}, {1, 0}, 2); }, x, 1e-6, 1e-5,
             1e-9);
  check_grad([&](const array& b) { return conv_transpose2d(x, b, {2, 1}, {1, 0}, {1, 2}, {1, 0}, 2); }, w, 1e-6, 1e-5,
             1e-9);
  array x1 = randn({2, 9, 3}), w1 = randn({4, 3, 3});
  check_grad([&](const array& a) { return conv1d(transpose(a, {0, 1, 2}), w1, 2, 1); }, x1, 1e-6, 1e-5, 1e-9);
}

TEST(ConvGrad, BothInputsAndSecondOrder) {
  array x = randn({2, 6, 5, 4}), w = randn({4, 3, 2, 2});
  Params p{{2, 1}, {1, 0}, {0, 1}, {1, 2}, {1, 1}, 2};
  // jvp in both directions at once against the two vjps.
  array dx = randn(x.shape()), dw = randn(w.shape());
  auto f = [&](const std::vector<array>& in) { return std::vector<array>{general(in[0], in[1], p)}; };
  auto [outs, tans] = jvp(f, {x, w}, {dx, dw});
  array c = randn(outs[0].shape());
  auto [vo, cts] = vjp(f, {x, w}, {c});
  double lhs = test::inner_product(c, tans[0]);
  double rhs = test::inner_product(cts[0], dx) + test::inner_product(cts[1], dw);
  EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::abs(rhs)));
  // The vjp map is itself made of convolutions: its rules hold too.
  test::check_vjp_of_vjp([&](const array& a) { return general(a, w, p); }, x, 1e-9);
  test::check_vjp_of_vjp([&](const array& b) { return general(x, b, p); }, w, 1e-9);
}

// ---------------------------------------------------------------- vmap

TEST(ConvVmap, AgainstLoop) {
  Params p{{2, 1}, {1, 0}, {0, 1}, {1, 2}, {1, 1}, 2};
  auto f = test::lift(test::Fn2([&](const array& a, const array& b) { return general(a, b, p); }));
  array xb = astype(randn({3, 2, 6, 5, 4}), float32), wb = astype(randn({3, 4, 3, 2, 2}), float32);
  array x = astype(randn({2, 6, 5, 4}), float32), w = astype(randn({4, 3, 2, 2}), float32);
  test::expect_vmap(f, {xb, w}, {0, -1}, {}, 1e-5, 1e-5, "x batched");
  test::expect_vmap(f, {moveaxis(xb, 0, 4), w}, {4, -1}, {}, 1e-5, 1e-5, "x batched last");
  test::expect_vmap(f, {x, wb}, {-1, 0}, {}, 1e-5, 1e-5, "w batched");
  test::expect_vmap(f, {xb, moveaxis(wb, 0, 2)}, {0, 2}, {1}, 1e-5, 1e-5, "both batched");
  Params pt{{1}, {2}, {2}, {1}, {2}, 1, true};
  auto ft = test::lift(test::Fn2([&](const array& a, const array& b) { return general(a, b, pt); }));
  test::expect_vmap(ft, {astype(randn({2, 3, 7, 2}), float32), astype(randn({2, 3, 3, 2}), float32)}, {0, 0}, {},
                    1e-5, 1e-5, "1-D flipped, input dilation");
}

TEST(ConvVmap, OfGrad) {
  array xb = randn({3, 2, 7, 3}), w = randn({4, 3, 3});
  auto g = [&](const array& a) { return grad([&](const array& t) { return sum(conv1d(t, w, 2, 1)); })(a); };
  test::expect_vmap(test::lift(test::Fn1(g)), {xb}, {0}, {}, 1e-12, 1e-12, "vmap of grad");
}
