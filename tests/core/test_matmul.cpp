// matmul / addmm / outer / inner / tensordot against float64 references, for
// every float dtype, odd and empty shapes, broadcasting and strided operands.
#include <gtest/gtest.h>

#include "core/matmul_util.h"
#include "uma/core/primitives/linalg.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

const Dtype kFloatTypes[] = {float32, float64, bfloat16, float16};

// Checks matmul(a, b) against the float64 product of a's and b's values.
void check(array a, array b, const char* what) {
  SCOPED_TRACE(std::string(what) + " " + dtype_name(a.dtype()) + " a" + shape_str(a.shape()) + " b" +
               shape_str(b.shape()));
  Shape want_shape;
  auto ref = ref_matmul(a.to_vector<double>(), a.shape(), b.to_vector<double>(), b.shape(), &want_shape);
  array c = matmul(a, b);
  EXPECT_EQ(c.shape(), want_shape);
  EXPECT_EQ(c.dtype(), a.dtype());
  expect_matmul_close(c.to_vector<double>(), ref, c.dtype(), a.shape(-1));
}

}  // namespace

TEST(Matmul, OddSizesEveryDtype) {
  const int sizes[] = {1, 7, 33, 65, 257};
  uint64_t seed = 1;
  for (Dtype t : kFloatTypes) {
    for (int M : sizes) {
      for (int N : sizes) {
        for (int K : {1, 7, 33, 65, 257}) {
          if (M * N * K > 65 * 65 * 257 || (M == 257 && N == 257)) continue;
          check(random_array({M, K}, t, seed), random_array({K, N}, t, seed + 1), "odd");
          seed += 2;
        }
      }
    }
  }
}

TEST(Matmul, OneDimensionalOperands) {
  for (Dtype t : kFloatTypes) {
    array v = random_array({33}, t, 3), w = random_array({33}, t, 4);
    array m = random_array({33, 5}, t, 5), n = random_array({5, 33}, t, 6);
    check(v, w, "vec.vec");  // 0-d result
    EXPECT_EQ(matmul(v, w).ndim(), 0u);
    check(v, m, "vec.mat");
    check(n, v, "mat.vec");
    check(random_array({2, 3, 33}, t, 7), v, "batch.vec");
    check(v, random_array({4, 33, 6}, t, 8), "vec.batch");
  }
}

TEST(Matmul, BatchBroadcasting) {
  for (Dtype t : kFloatTypes) {
    check(random_array({2, 1, 9, 17}, t, 10), random_array({3, 17, 5}, t, 11), "(2,1,M,K)@(3,K,N)");
    check(random_array({4, 9, 17}, t, 12), random_array({17, 5}, t, 13), "(B,M,K)@(K,N)");
    check(random_array({9, 17}, t, 14), random_array({4, 17, 5}, t, 15), "(M,K)@(B,K,N)");
    check(random_array({2, 3, 1, 40}, t, 16), random_array({40, 70}, t, 17), "decode-like (B,T,1,K)@(K,N)");
    check(random_array({1, 3, 9, 17}, t, 18), random_array({2, 1, 17, 5}, t, 19), "both broadcast");
  }
}

TEST(Matmul, StridedOperands) {
  for (Dtype t : kFloatTypes) {
    array a = random_array({33, 20}, t, 20), b = random_array({33, 40}, t, 21);
    check(transpose(a), b, "a.T @ b");                              // column-major a
    check(a, transpose(random_array({48, 20}, t, 22)), "a @ W.T");  // linear layer
    check(transpose(a), transpose(random_array({40, 33}, t, 23)), "a.T @ b.T");
    array s = slice(random_array({40, 70}, t, 24), {1, 3}, {34, 70}, {1, 2});  // (33, 34), stride 2
    check(transpose(a), s, "strided columns");
    array sr = slice(random_array({66, 40}, t, 25), {0, 0}, {66, 40}, {2, 1});  // every other row
    check(transpose(a), sr, "strided rows");
    check(broadcast_to(random_array({1, 20}, t, 26), {33, 20}), transpose(random_array({9, 20}, t, 27)),
          "broadcast rows");
    array bt = transpose(random_array({3, 20, 33}, t, 28), {0, 2, 1});  // batched a.T
    check(bt, random_array({3, 20, 8}, t, 29), "batched transposed");
  }
}

TEST(Matmul, EmptyDims) {
  for (Dtype t : kFloatTypes) {
    array z = matmul(random_array({4, 0}, t, 30), random_array({0, 5}, t, 31));
    EXPECT_EQ(z.shape(), (Shape{4, 5}));
    EXPECT_EQ(z.to_vector<double>(), std::vector<double>(20, 0.0));
    EXPECT_EQ(matmul(random_array({0, 3}, t, 32), random_array({3, 5}, t, 33)).shape(), (Shape{0, 5}));
    EXPECT_EQ(matmul(random_array({2, 0, 3}, t, 34), random_array({3, 5}, t, 35)).size(), 0u);
    EXPECT_EQ(matmul(random_array({4, 3}, t, 36), random_array({3, 0}, t, 37)).shape(), (Shape{4, 0}));
  }
}

TEST(Matmul, PromotionAndErrors) {
  array a = random_array({3, 4}, float32, 40), b = random_array({4, 2}, bfloat16, 41);
  EXPECT_EQ(matmul(a, b).dtype(), float32);
  EXPECT_EQ(matmul(b, random_array({2, 3}, float16, 42)).dtype(), float32);
  EXPECT_EQ(matmul(a, random_array({4, 2}, float64, 43)).dtype(), float64);
  EXPECT_THROW(matmul(a, random_array({3, 2}, float32, 44)), std::invalid_argument);
  EXPECT_THROW(matmul(array(1.0f), a), std::invalid_argument);
  EXPECT_THROW(matmul(random_array({2, 3, 4}, float32, 45), random_array({3, 4, 2}, float32, 46)),
               std::invalid_argument);  // batch 2 vs 3
  array ints = astype(random_array({3, 4}, float32, 47), int32);
  try {
    matmul(ints, astype(b, int32));
    FAIL() << "integer matmul must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[matmul]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos);
  }
  try {
    matmul(a, random_array({5, 2}, float32, 48));
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(3,4)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(5,2)"), std::string::npos) << e.what();
  }
}

TEST(Matmul, Complex64) {
  std::vector<complex64_t> av = {{1, 2}, {3, -1}, {0, 1}, {2, 2}}, bv = {{1, 0}, {0, 1}, {2, -1}, {1, 1}};
  array a(av, {2, 2}), b(bv, {2, 2});
  auto c = matmul(a, b).to_vector<complex64_t>();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      complex64_t want = av[i * 2] * bv[j] + av[i * 2 + 1] * bv[2 + j];
      EXPECT_NEAR(std::abs(c[i * 2 + j] - want), 0.f, 1e-5f);
    }
  }
}

TEST(Matmul, Addmm) {
  for (Dtype t : kFloatTypes) {
    array a = random_array({2, 7, 33}, t, 50), b = random_array({33, 9}, t, 51);
    array c = random_array({9}, t, 52);  // broadcasts over (2, 7, 9)
    auto prod = ref_matmul(a.to_vector<double>(), a.shape(), b.to_vector<double>(), b.shape());
    auto cv = c.to_vector<double>();
    std::vector<double> want(prod.size());
    for (size_t i = 0; i < want.size(); ++i) want[i] = 0.5 * prod[i] + 2.0 * cv[i % 9];
    array out = addmm(c, a, b, 0.5f, 2.0f);
    EXPECT_EQ(out.shape(), (Shape{2, 7, 9}));
    expect_matmul_close(out.to_vector<double>(), want, t, 33);

    // beta = 0 ignores c; 1-D a; K = 0 leaves beta * c.
    expect_matmul_close(addmm(c, a, b, 1.f, 0.f).to_vector<double>(), prod, t, 33);
    array v = random_array({33}, t, 53);
    auto pv = ref_matmul(v.to_vector<double>(), v.shape(), b.to_vector<double>(), b.shape());
    for (size_t i = 0; i < pv.size(); ++i) pv[i] += cv[i];
    array ov = addmm(c, v, b);
    EXPECT_EQ(ov.shape(), (Shape{9}));
    expect_matmul_close(ov.to_vector<double>(), pv, t, 33);
    array e = addmm(c, random_array({3, 0}, t, 54), random_array({0, 9}, t, 55), 1.f, 3.f);
    std::vector<double> want_e(27);
    for (size_t i = 0; i < 27; ++i) want_e[i] = 3.0 * cv[i % 9];
    expect_matmul_close(e.to_vector<double>(), want_e, t, 1);
  }
  EXPECT_THROW(addmm(random_array({4}, float32, 56), random_array({3, 2}, float32, 57),
                     random_array({2, 5}, float32, 58)),
               std::invalid_argument);
}

TEST(Matmul, OuterInnerTensordot) {
  for (Dtype t : kFloatTypes) {
    array u = random_array({5}, t, 60), v = random_array({2, 3}, t, 61);
    auto uv = u.to_vector<double>(), vv = v.to_vector<double>();
    std::vector<double> want;
    for (double x : uv) {
      for (double y : vv) want.push_back(x * y);
    }
    array o = outer(u, v);
    EXPECT_EQ(o.shape(), (Shape{5, 6}));
    expect_matmul_close(o.to_vector<double>(), want, t, 1);

    array a = random_array({2, 3, 8}, t, 62), b = random_array({4, 8}, t, 63);
    array in = inner(a, b);
    EXPECT_EQ(in.shape(), (Shape{2, 3, 4}));
    auto ref = ref_matmul(a.to_vector<double>(), {6, 8}, transpose(b).to_vector<double>(), {8, 4});
    expect_matmul_close(in.to_vector<double>(), ref, t, 8);
    array s = inner(array(2.0f), v);
    EXPECT_EQ(s.shape(), v.shape());
    for (auto& x : vv) x *= 2;
    expect_matmul_close(astype(s, t).to_vector<double>(), vv, t, 1);

    // tensordot over two axes, in both spellings.
    array x = random_array({3, 4, 5}, t, 64), y = random_array({4, 5, 6}, t, 65);
    auto rt = ref_matmul(x.to_vector<double>(), {3, 20}, y.to_vector<double>(), {20, 6});
    expect_matmul_close(tensordot(x, y, 2).to_vector<double>(), rt, t, 20);
    array y2 = transpose(y, {1, 0, 2});  // (5, 4, 6): contract x's (1, 2) with y2's (1, 0)
    expect_matmul_close(tensordot(x, y2, {1, 2}, {1, 0}).to_vector<double>(), rt, t, 20);
    expect_matmul_close(tensordot(x, y2, std::pair{std::vector{-2, -1}, std::vector{1, 0}}).to_vector<double>(),
                        rt, t, 20);
    EXPECT_EQ(tensordot(x, y, 0).shape(), (Shape{3, 4, 5, 4, 5, 6}));
  }
  EXPECT_THROW(tensordot(random_array({3, 4}, float32, 66), random_array({5, 6}, float32, 67), 1),
               std::invalid_argument);
  EXPECT_THROW(tensordot(random_array({3, 4}, float32, 66), random_array({4, 6}, float32, 67), 3),
               std::invalid_argument);
  EXPECT_THROW(inner(random_array({3, 4}, float32, 68), random_array({3, 5}, float32, 69)), std::invalid_argument);
}

TEST(Matmul, GradientRules) {
  // vjp/jvp of Matmul through the primitive, checked against explicit products.
  array a = random_array({3, 4}, float64, 70), b = random_array({4, 5}, float64, 71);
  array ct = random_array({3, 5}, float64, 72);
  array out = matmul(a, b);
  auto g = out.primitive().vjp({a, b}, {ct}, {0, 1}, {out});
  expect_matmul_close(g[0].to_vector<double>(),
                      ref_matmul(ct.to_vector<double>(), {3, 5}, transpose(b).to_vector<double>(), {5, 4}), float64, 5);
  expect_matmul_close(g[1].to_vector<double>(),
                      ref_matmul(transpose(a).to_vector<double>(), {4, 3}, ct.to_vector<double>(), {3, 5}), float64, 3);
  array ta = random_array({3, 4}, float64, 73), tb = random_array({4, 5}, float64, 74);
  auto j = out.primitive().jvp({a, b}, {ta, tb}, {0, 1});
  auto r1 = ref_matmul(ta.to_vector<double>(), {3, 4}, b.to_vector<double>(), {4, 5});
  auto r2 = ref_matmul(a.to_vector<double>(), {3, 4}, tb.to_vector<double>(), {4, 5});
  for (size_t i = 0; i < r1.size(); ++i) r1[i] += r2[i];
  expect_matmul_close(j[0].to_vector<double>(), r1, float64, 8);

  array c = random_array({3, 5}, float64, 75);
  array am = addmm(c, a, b, 2.f, 3.f);
  auto ga = am.primitive().vjp(am.inputs(), {ct}, {0, 2}, {am});
  auto want_a = ref_matmul(ct.to_vector<double>(), {3, 5}, transpose(b).to_vector<double>(), {5, 4});
  for (auto& x : want_a) x *= 2;
  expect_matmul_close(ga[0].to_vector<double>(), want_a, float64, 5);
  auto want_c = ct.to_vector<double>();
  for (auto& x : want_c) x *= 3;
  expect_matmul_close(ga[1].to_vector<double>(), want_c, float64, 1);
}

// complex64 gradients of matmul and addmm: under Re <a, b> = sum Re(conj(a)
// b) the vjp is the adjoint of the jvp (Re <c, J t> = Re <J* c, t> for
// every input), and both match central differences of the real loss
// Re <c, f(z + h t)>.
TEST(Matmul, Complex64VjpIsTheAdjointOfTheJvp) {
  auto cnormal = [](Shape s, uint64_t seed) {
    auto r = random::normal(s, float32, 0.f, 1.f, random::key(seed)).to_vector<float>();
    auto i = random::normal(s, float32, 0.f, 1.f, random::key(seed + 100)).to_vector<float>();
    std::vector<complex64_t> v(r.size());
    for (size_t k = 0; k < v.size(); ++k) v[k] = complex64_t(r[k], i[k]);
    return array(v, s);
  };
  auto re_dot = [](array a, array b) {
    auto x = a.to_vector<complex64_t>(), y = b.to_vector<complex64_t>();
    double s = 0;
    for (size_t k = 0; k < x.size(); ++k) s += double(x[k].real()) * y[k].real() + double(x[k].imag()) * y[k].imag();
    return s;
  };
  const std::vector<array> in = {cnormal({3, 4}, 1), cnormal({4, 5}, 2), cnormal({3, 5}, 3)};
  const std::vector<std::pair<const char*, ArrayFn>> fns = {
      {"matmul", [](const std::vector<array>& v) { return std::vector<array>{matmul(v[0], v[1])}; }},
      {"addmm", [](const std::vector<array>& v) { return std::vector<array>{addmm(v[2], v[0], v[1], 0.5f, 2.f)}; }},
  };
  for (auto& [name, f] : fns) {
    const int n = std::string(name) == "matmul" ? 2 : 3;
    std::vector<array> primals(in.begin(), in.begin() + n);
    array c = cnormal({3, 5}, 7);
    auto [outs, grads] = vjp(f, primals, {c});
    for (int i = 0; i < n; ++i) {
      SCOPED_TRACE(std::string(name) + " input " + std::to_string(i));
      array t = cnormal(primals[size_t(i)].shape(), uint64_t(20 + i));
      std::vector<array> tangents;
      for (int j = 0; j < n; ++j) tangents.push_back(j == i ? t : zeros_like(primals[size_t(j)]));
      auto jv = jvp(f, primals, tangents).second[0];
      const double lhs = re_dot(c, jv), rhs = re_dot(grads[size_t(i)], t);
      EXPECT_NEAR(lhs, rhs, 1e-4 * (1 + std::abs(lhs)));
      // Central differences (f is linear in each input: exact up to rounding).
      const float h = 0.5f;
      auto shifted = [&](float sgn) {
        std::vector<array> p = primals;
        p[size_t(i)] = add(p[size_t(i)], multiply(array(complex64_t(sgn * h, 0.f)), t));
        return f(p)[0];
      };
      const double fd = re_dot(c, subtract(shifted(1.f), shifted(-1.f))) / (2 * h);
      EXPECT_NEAR(rhs, fd, 1e-4 * (1 + std::abs(fd)));
    }
  }
}
