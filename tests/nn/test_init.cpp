// nn initializers: exact for constant and identity; the others by their
// statistics on large draws (mean, standard deviation, bounds), with the
// tolerances stated at each check; fan_in/fan_out as MLX counts them; keys
// make draws reproducible and are the random ops' own; bad shapes and modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "uma/nn/init.h"
#include "uma/uma.h"

using namespace uma;

namespace {

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
  size_t n = 0;
};

Stats stats(array a) {
  auto v = astype(a, float64).to_vector<double>();
  Stats s;
  s.n = v.size();
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / double(v.size()));
  return s;
}

// A sample mean lies within 5 standard errors (sigma / sqrt(n)) of the true
// mean but for a chance of 6e-7; a sample standard deviation within 5
// standard errors (about sigma / sqrt(2n) for a normal, sigma * 0.9 / sqrt(n)
// bounds the uniform's) of sigma.
void expect_moments(const Stats& s, double mean, double sigma, const std::string& what) {
  double n = double(s.n);
  EXPECT_NEAR(s.mean, mean, 5 * sigma / std::sqrt(n)) << what << " mean";
  EXPECT_NEAR(s.std, sigma, 5 * sigma / std::sqrt(n)) << what << " std";
}

}  // namespace

TEST(Init, ConstantAndIdentityAreExact) {
  array c = nn::constant(0.5, bfloat16)({3, 2});
  EXPECT_EQ(c.dtype(), bfloat16);
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(astype(c, float32).to_vector<float>(), std::vector<float>(6, 0.5f));
  array i = nn::identity()(zeros({3, 3}));
  EXPECT_EQ(i.dtype(), float32);
  EXPECT_EQ(i.to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_THROW(nn::identity()({2, 3}), std::invalid_argument);
  EXPECT_THROW(nn::identity()({4}), std::invalid_argument);
}

TEST(Init, NormalAndUniformStatistics) {
  random::seed(7);
  array n = nn::normal(2.0, 0.5)({400, 500});
  EXPECT_EQ(n.dtype(), float32);
  EXPECT_EQ(n.shape(), (Shape{400, 500}));
  expect_moments(stats(n), 2.0, 0.5, "normal(2, 0.5)");
  array u = nn::uniform(-3.0, 1.0, float64)({200000});
  EXPECT_EQ(u.dtype(), float64);
  auto su = stats(u);
  expect_moments(su, -1.0, 4.0 / std::sqrt(12.0), "uniform(-3, 1)");
  EXPECT_GE(su.min, -3.0);
  EXPECT_LT(su.max, 1.0);
  // Bounds are reached: within 1e-3 of each end in 2e5 draws (miss chance e^-50).
  EXPECT_LT(su.min, -3.0 + 1e-3);
  EXPECT_GT(su.max, 1.0 - 1e-3);
  auto s01 = stats(nn::uniform()({100000}));
  expect_moments(s01, 0.5, 1.0 / std::sqrt(12.0), "uniform()");
}

TEST(Init, FansAsMlxCountsThem) {
  EXPECT_EQ(nn::fan_in_fan_out({256, 128}), (std::pair<int64_t, int64_t>{128, 256}));
  // A convolution weight (out, kh, kw, in): the receptive field multiplies both.
  EXPECT_EQ(nn::fan_in_fan_out({64, 3, 5, 16}), (std::pair<int64_t, int64_t>{16 * 15, 64 * 15}));
  try {
    nn::glorot_uniform()({10});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[glorot_uniform]", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("(10)"), std::string::npos) << e.what();
  }
}

TEST(Init, GlorotAndHeStatistics) {
  random::seed(11);
  Shape shape = {300, 700};  // fan_in 700, fan_out 300
  double sg = std::sqrt(2.0 / 1000.0);
  expect_moments(stats(nn::glorot_normal()(shape)), 0.0, sg, "glorot_normal");
  expect_moments(stats(nn::glorot_normal()(shape, 3.0)), 0.0, 3 * sg, "glorot_normal gain 3");
  double lg = 2.0 * std::sqrt(6.0 / 1000.0);
  auto su = stats(nn::glorot_uniform()(shape, 2.0));
  expect_moments(su, 0.0, lg / std::sqrt(3.0), "glorot_uniform gain 2");
  EXPECT_GE(su.min, -lg);
  EXPECT_LE(su.max, lg);
  EXPECT_GT(su.max, 0.999 * lg);
  expect_moments(stats(nn::he_normal()(shape)), 0.0, 1.0 / std::sqrt(700.0), "he_normal fan_in");
  expect_moments(stats(nn::he_normal()(shape, "fan_out", 2.0)), 0.0, 2.0 / std::sqrt(300.0), "he_normal fan_out");
  double lh = std::sqrt(3.0 / 300.0);
  auto sh = stats(nn::he_uniform(float64)(shape, "fan_out"));
  expect_moments(sh, 0.0, lh / std::sqrt(3.0), "he_uniform fan_out");
  EXPECT_GE(sh.min, -lh);
  EXPECT_LE(sh.max, lh);
  EXPECT_THROW(nn::he_uniform()(shape, "fan_avg"), std::invalid_argument);
}

TEST(Init, KeysReproduceAndAreTheRandomOps) {
  array k = random::key(42);
  Shape shape = {8, 16};
  auto same = [](array a, array b) { return astype(a, float32).to_vector<float>() == astype(b, float32).to_vector<float>(); };
  EXPECT_TRUE(same(nn::glorot_normal()(shape, 1.0, k), nn::glorot_normal()(shape, 1.0, k)));
  EXPECT_FALSE(same(nn::glorot_normal()(shape, 1.0, k), nn::glorot_normal()(shape, 1.0, random::key(43))));
  // The draw is random::normal's with the same key, scaled.
  auto g = nn::he_normal()(shape, "fan_in", 1.0, k).to_vector<float>();
  auto r = random::normal(shape, float32, k).to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], r[i] / 4.0f, 1e-6f * (1 + std::abs(r[i])));
  auto u = nn::uniform(-2.0, 2.0)(shape, k).to_vector<float>();
  auto ru = random::uniform(-2.0f, 2.0f, shape, float32, k).to_vector<float>();
  EXPECT_EQ(u, ru);
  // MLX's form: an array's shape.
  array like = zeros({5, 7});
  EXPECT_EQ(nn::glorot_uniform()(like).shape(), like.shape());
}

TEST(Init, SparseZerosTheSameCountPerRow) {
  array s = nn::sparse(0.3, 0.0, 1.0)({50, 40}, random::key(3));
  auto v = s.to_vector<float>();
  std::vector<int> zeros_per_row(50, 0);
  for (size_t i = 0; i < v.size(); ++i) zeros_per_row[i / 40] += v[i] == 0.0f;
  for (int z : zeros_per_row) EXPECT_EQ(z, 12);  // ceil(0.3 * 40)
  EXPECT_THROW(nn::sparse(0.5)({2, 3, 4}), std::invalid_argument);
  EXPECT_THROW(nn::sparse(1.5), std::invalid_argument);
}

TEST(Init, OrthogonalColumnsOrRowsAreOrthonormal) {
  for (Shape shape : {Shape{6, 4}, Shape{4, 6}}) {
    array q = astype(nn::orthogonal(2.0)(shape, random::key(9)), float64);
    // The smaller Gram matrix is gain^2 I.
    array gram = shape[0] >= shape[1] ? matmul(transpose(q), q) : matmul(q, transpose(q));
    int m = std::min(shape[0], shape[1]);
    auto gv = gram.to_vector<double>();
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < m; ++j) EXPECT_NEAR(gv[i * m + j], i == j ? 4.0 : 0.0, 1e-5) << i << "," << j;
    }
  }
  EXPECT_THROW(nn::orthogonal()({3}), std::invalid_argument);
}
