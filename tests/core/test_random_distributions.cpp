// Distribution checks with fixed keys: every bound below sits at >= 5
// standard errors, so a correct sampler passes for any key (and, with the
// keys fixed, always).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "uma/core/device.h"
#include "uma/uma.h"

using namespace uma;

namespace {

struct Stats {
  double mean, var;
};
Stats stats(const std::vector<double>& v) {
  double m = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double s2 = 0;
  for (double x : v) s2 += (x - m) * (x - m);
  return {m, s2 / double(v.size() - 1)};
}

// Pearson chi-square of observed counts against expected probabilities.
double chi_square(const std::vector<double>& counts, const std::vector<double>& probs) {
  double n = std::accumulate(counts.begin(), counts.end(), 0.0), chi = 0;
  for (size_t i = 0; i < counts.size(); ++i) chi += std::pow(counts[i] - n * probs[i], 2) / (n * probs[i]);
  return chi;
}

constexpr int N = 200000;
const double kSe = 1.0 / std::sqrt(double(N));  // standard error per unit of sigma

template <typename F>
void expect_invalid(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected " << fragment;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Uniform, MatchesMlxValues) {
  auto to_float = [](uint32_t n) { return float(n) / float(UINT32_MAX); };
  array k0 = random::key(0);
  EXPECT_EQ(random::uniform({}, k0).item<float>(), to_float(1797259609u));
  EXPECT_EQ(random::uniform({}, random::key(1)).item<float>(), to_float(507451445u));
  EXPECT_EQ(random::uniform({3, 1}, k0).to_vector<float>(),
            (std::vector<float>{to_float(4146024105u), to_float(1351547692u), to_float(2718843009u)}));
}

TEST(Uniform, RangesMomentsAndDtypes) {
  array k = random::key(128291);
  for (Dtype dt : {float32, float16, bfloat16, float64}) {
    SCOPED_TRACE(dtype_name(dt));
    array u = random::uniform({N}, dt, k);
    EXPECT_EQ(u.dtype(), dt);
    auto v = u.to_vector<double>();
    EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
    EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
    Stats s = stats(v);
    EXPECT_NEAR(s.mean, 0.5, 5 * std::sqrt(1.0 / 12) * kSe + (dt == bfloat16 ? 4e-3 : 0));
    EXPECT_NEAR(s.var, 1.0 / 12, 0.002);
  }
  auto v = random::uniform(-1.0f, 5.0f, {N}, float32, k).to_vector<double>();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -1.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 5.0);
  EXPECT_NEAR(stats(v).mean, 2.0, 5 * 6 * std::sqrt(1.0 / 12) * kSe);
  // Per-element bounds broadcast to the shape.
  array b = random::uniform(reshape(array({0.0f, 10.0f, 100.0f}), {3, 1}), reshape(array({1.0f, 11.0f, 101.0f}), {3, 1}),
                            {3, 1000}, float32, k);
  auto bv = b.to_vector<double>();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 1000; ++c) {
      double x = bv[r * 1000 + c], lo = r == 0 ? 0 : r == 1 ? 10 : 100;
      ASSERT_TRUE(x >= lo && x < lo + 1) << x;
    }
  EXPECT_EQ(random::uniform(zeros({3, 1}), ones({1, 3}), {3, 3}, float32, k).shape(), (Shape{3, 3}));
  expect_invalid([&] { random::uniform(zeros({3, 3}), array(1.0f), {1, 3}, float32, k); }, "[uniform]");
  expect_invalid([&] { random::uniform({2}, int32, k); }, "[uniform] needs a real floating dtype");
  expect_invalid([&] { random::uniform({-2}, float32, k); }, "negative dimension");
  expect_invalid([&] { random::uniform({2}, float32, array({1, 2})); }, "key");
  EXPECT_EQ(random::uniform({0, 3}, float32, k).shape(), (Shape{0, 3}));
}

TEST(Normal, MomentsLocScaleAndDtypes) {
  array k = random::key(5);
  Stats s = stats(random::normal({N}, k).to_vector<double>());
  EXPECT_NEAR(s.mean, 0, 5 * kSe);
  EXPECT_NEAR(s.var, 1, 5 * std::sqrt(2.0) * kSe);
  Stats t = stats(random::normal({N}, float32, 3.0f, 2.0f, k).to_vector<double>());
  EXPECT_NEAR(t.mean, 3, 5 * 2 * kSe);
  EXPECT_NEAR(t.var, 4, 5 * 4 * std::sqrt(2.0) * kSe);
  for (Dtype dt : {float16, bfloat16, float64}) {
    array z = random::normal({N}, dt, k);
    EXPECT_EQ(z.dtype(), dt);
    auto v = z.to_vector<double>();
    for (double x : v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_NEAR(stats(v).mean, 0, 5 * kSe + (dt == bfloat16 ? 0.01 : 0));
    EXPECT_NEAR(stats(v).var, 1, 0.02);
  }
  // Same key, same draws; different keys, different draws.
  EXPECT_EQ(random::normal({8}, k).to_vector<float>(), random::normal({8}, k).to_vector<float>());
  EXPECT_NE(random::normal({8}, k).to_vector<float>(), random::normal({8}, random::key(6)).to_vector<float>());
  // complex64: each part has variance 1/2.
  array c = random::normal({N}, complex64, k);
  EXPECT_EQ(c.dtype(), complex64);
  EXPECT_EQ(c.shape(), (Shape{N}));
  auto cv = c.to_vector<complex64_t>();
  std::vector<double> re, im;
  for (auto z : cv) {
    re.push_back(z.real());
    im.push_back(z.imag());
  }
  EXPECT_NEAR(stats(re).var, 0.5, 0.01);
  EXPECT_NEAR(stats(im).var, 0.5, 0.01);
  expect_invalid([&] { random::normal({2}, int32, k); }, "[normal]");
}

TEST(Randint, BoundsAndChiSquare) {
  array k = random::key(11);
  array r = random::randint(-5, 5, {N}, int32, k);
  EXPECT_EQ(r.dtype(), int32);
  std::vector<double> counts(10, 0);
  for (int x : r.to_vector<int>()) {
    ASSERT_TRUE(x >= -5 && x < 5) << x;
    counts[x + 5] += 1;
  }
  // df = 9: P(chi2 > 50) ~ 1e-7.
  EXPECT_LT(chi_square(counts, std::vector<double>(10, 0.1)), 50.0);
  for (Dtype dt : {int8, uint8, int64, uint32}) {
    auto v = random::randint(array(0), array(3), {1000}, dt, k);
    EXPECT_EQ(v.dtype(), dt);
    auto vv = v.to_vector<int64_t>();
    EXPECT_EQ(*std::min_element(vv.begin(), vv.end()), 0);
    EXPECT_EQ(*std::max_element(vv.begin(), vv.end()), 2);
  }
  expect_invalid([&] { random::randint(0, 3, {2}, float32, k); }, "[randint]");
}

TEST(Bernoulli, FrequencyEdgesAndBroadcast) {
  array k = random::key(3);
  auto b = random::bernoulli(0.3, {N}, k);
  EXPECT_EQ(b.dtype(), bool_);
  auto v = b.to_vector<double>();
  EXPECT_NEAR(stats(v).mean, 0.3, 5 * std::sqrt(0.21) * kSe);
  auto zero = random::bernoulli(array(0.0f), {1000}, k).to_vector<int>();
  auto one = random::bernoulli(array(1.0f), {1000}, k).to_vector<int>();
  EXPECT_EQ(std::accumulate(zero.begin(), zero.end(), 0), 0);
  EXPECT_EQ(std::accumulate(one.begin(), one.end(), 0), 1000);
  auto rows = random::bernoulli(reshape(array({0.1f, 0.9f}), {2, 1}), {2, 20000}, k).to_vector<double>();
  double r0 = std::accumulate(rows.begin(), rows.begin() + 20000, 0.0) / 20000;
  double r1 = std::accumulate(rows.begin() + 20000, rows.end(), 0.0) / 20000;
  EXPECT_NEAR(r0, 0.1, 0.011);
  EXPECT_NEAR(r1, 0.9, 0.011);
  EXPECT_EQ(random::bernoulli(array({0.5f, 0.5f, 0.5f}), k).shape(), (Shape{3}));
  expect_invalid([&] { random::bernoulli(array(1), {2}, k); }, "[bernoulli] p must be floating");
  expect_invalid([&] { random::bernoulli(array({0.5f, 0.5f}), {3}, k); }, "[bernoulli]");
}

TEST(TruncatedNormal, BoundsAndMean) {
  array k = random::key(21);
  auto v = random::truncated_normal(array(-1.0f), array(2.0f), {N}, float32, k).to_vector<double>();
  for (double x : v) ASSERT_TRUE(x >= -1.0 && x <= 2.0) << x;
  // Mean of N(0,1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
  auto phi = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * M_PI); };
  auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double mean = (phi(-1) - phi(2)) / (Phi(2) - Phi(-1));
  EXPECT_NEAR(stats(v).mean, mean, 5 * kSe);
  array per = random::truncated_normal(array({0.0f, -3.0f}), array({0.5f, -2.0f}), float32, k);
  EXPECT_EQ(per.shape(), (Shape{2}));
  auto p = per.to_vector<float>();
  EXPECT_TRUE(p[0] >= 0 && p[0] <= 0.5f);
  EXPECT_TRUE(p[1] >= -3 && p[1] <= -2);
  expect_invalid([&] { random::truncated_normal(array(0), array(1), {2}, int32, k); }, "[truncated_normal]");
}

TEST(Gumbel, Moments) {
  Stats s = stats(random::gumbel({N}, float32, random::key(8)).to_vector<double>());
  EXPECT_NEAR(s.mean, 0.5772156649, 5 * std::sqrt(M_PI * M_PI / 6) * kSe);
  EXPECT_NEAR(s.var, M_PI * M_PI / 6, 0.05);
}

TEST(Laplace, Moments) {
  Stats s = stats(random::laplace({N}, float32, 1.0f, 2.0f, random::key(9)).to_vector<double>());
  EXPECT_NEAR(s.mean, 1.0, 5 * std::sqrt(8.0) * kSe);
  EXPECT_NEAR(s.var, 8.0, 0.3);
  expect_invalid([&] { random::laplace({2}, int32); }, "[laplace]");
}

TEST(Categorical, ChiSquareShapesAndErrors) {
  array k = random::key(13);
  std::vector<double> probs{0.1, 0.2, 0.3, 0.4};
  array logits = log(array({0.1f, 0.2f, 0.3f, 0.4f}));
  array draws = random::categorical(logits, 0, N, k);
  EXPECT_EQ(draws.shape(), (Shape{N}));
  EXPECT_EQ(draws.dtype(), uint32);
  std::vector<double> counts(4, 0);
  for (auto d : draws.to_vector<int>()) counts.at(d) += 1;
  EXPECT_LT(chi_square(counts, probs), 35.0);  // df = 3: P(chi2 > 35) ~ 1e-7

  array batch = reshape(array({0.0f, -INFINITY, 5.0f, -INFINITY, -INFINITY, 0.0f, -INFINITY, 0.0f}), {2, 4});
  auto one = random::categorical(batch, -1, k);
  EXPECT_EQ(one.shape(), (Shape{2}));
  auto many = random::categorical(batch, -1, 1000, k);
  EXPECT_EQ(many.shape(), (Shape{2, 1000}));
  auto m = many.to_vector<int>();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(m[i] == 0 || m[i] == 2);  // -inf logits are never drawn
    ASSERT_TRUE(m[1000 + i] == 1 || m[1000 + i] == 3);
  }
  EXPECT_EQ(random::categorical(batch, 1, Shape{5, 2}, k).shape(), (Shape{5, 2}));
  EXPECT_EQ(random::categorical(transpose(batch), 0, k).shape(), (Shape{2}));
  expect_invalid([&] { random::categorical(batch, 2, k); }, "[categorical]");
  expect_invalid([&] { random::categorical(batch, 1, Shape{3}, k); }, "[categorical]");
}

TEST(Permutation, IsAPermutation) {
  array k = random::key(17);
  auto p = random::permutation(50, k).to_vector<int>();
  std::vector<int> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> iota(50);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(p, iota);
  EXPECT_NE(p, random::permutation(50, random::key(18)).to_vector<int>());
  // Along an axis: columns move together.
  array x = reshape(arange(12), {3, 4});
  auto y = random::permutation(x, 1, k).to_vector<int>();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_EQ(y[r * 4 + c] - r * 4, y[c]);
  EXPECT_EQ(random::permutation(0, k).size(), 0u);
  expect_invalid([&] { random::permutation(-1, k); }, "[permutation]");
}

TEST(Random, SplitKeysAreIndependent) {
  auto [a, b] = random::split(random::key(99));
  auto u = random::uniform({N}, a).to_vector<double>(), v = random::uniform({N}, b).to_vector<double>();
  double mu = stats(u).mean, mv = stats(v).mean, cov = 0;
  for (int i = 0; i < N; ++i) cov += (u[i] - mu) * (v[i] - mv);
  double r = cov / (N * std::sqrt(stats(u).var * stats(v).var));
  EXPECT_LT(std::abs(r), 5 * kSe);
}

TEST(Random, ResultsIndependentOfThreadCount) {
  int before = cpu_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_cpu_threads(threads);
    array k = random::key(2024);
    auto n = random::normal({300001}, k).to_vector<float>();
    auto c = random::categorical(reshape(arange(8, float32), {2, 4}), -1, 5000, k).to_vector<float>();
    n.insert(n.end(), c.begin(), c.end());
    runs.push_back(n);
  }
  set_cpu_threads(before);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(Random, DefaultKeyIsReproducibleAfterSeed) {
  random::seed(123);
  auto a = random::normal({16}).to_vector<float>();
  auto b = random::uniform({16}).to_vector<float>();
  random::seed(123);
  EXPECT_EQ(random::normal({16}).to_vector<float>(), a);
  EXPECT_EQ(random::uniform({16}).to_vector<float>(), b);
}
