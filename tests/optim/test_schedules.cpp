// Schedules against their closed forms (float64) and clip_grad_norm against
// the global L2 norm computed on the host.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "optim_util.h"

using namespace uma;
using namespace uma::optim;
using namespace uma::optim::test;

namespace {

void expect_rate(const Schedule& s, int64_t step, double want) {
  EXPECT_NEAR(s(step), want, 1e-7 + 2e-6 * std::abs(want)) << "step " << step;
}

}  // namespace

TEST(OptimSchedules, ClosedForms) {
  auto c = constant(3e-4f);
  for (int64_t k : {0, 1, 1000}) expect_rate(c, k, 3e-4);

  auto e = exponential_decay(0.1f, 0.9f);
  for (int64_t k : {0, 1, 5, 37}) expect_rate(e, k, 0.1 * std::pow(0.9, double(k)));

  auto sd = step_decay(0.1f, 0.5f, 10);
  for (int64_t k : {0, 9, 10, 19, 20, 55}) expect_rate(sd, k, 0.1 * std::pow(0.5, double(k / 10)));

  auto cd = cosine_decay(0.1f, 1000, 0.01f);
  for (int64_t k : {0, 1, 250, 500, 999, 1000, 5000}) {
    double s = double(std::min<int64_t>(k, 1000));
    expect_rate(cd, k, 0.01 + 0.5 * (1 + std::cos(std::numbers::pi * s / 1000)) * (0.1 - 0.01));
  }

  auto lin = linear_schedule(0.0f, 0.1f, 100);
  for (int64_t k : {0, 1, 50, 99, 100, 1000}) expect_rate(lin, k, 0.1 * double(std::min<int64_t>(k, 100)) / 100);
  auto down = linear_schedule(1.0f, 0.5f, 4);
  expect_rate(down, 2, 0.75);
  expect_rate(down, 9, 0.5);
}

TEST(OptimSchedules, JoinForWarmup) {
  auto warm = linear_schedule(0.0f, 0.1f, 10);
  auto decay = cosine_decay(0.1f, 200);
  auto s = join_schedules({warm, decay}, {10});
  expect_rate(s, 0, 0.0);
  expect_rate(s, 5, 0.05);
  expect_rate(s, 10, 0.1);  // decay(0)
  expect_rate(s, 110, 0.05 * (1 + std::cos(std::numbers::pi * 100 / 200)));
  expect_rate(s, 500, 0.0);

  auto three = join_schedules({constant(1.0f), constant(2.0f), exponential_decay(3.0f, 0.5f)}, {5, 8});
  expect_rate(three, 4, 1.0);
  expect_rate(three, 5, 2.0);
  expect_rate(three, 8, 3.0);
  expect_rate(three, 10, 0.75);  // 3 * 0.5^(10 - 8)
}

TEST(OptimSchedules, BadArguments) {
  EXPECT_THROW(step_decay(0.1f, 0.9f, 0), std::invalid_argument);
  EXPECT_THROW(cosine_decay(0.1f, 0), std::invalid_argument);
  EXPECT_THROW(linear_schedule(0.0f, 1.0f, -3), std::invalid_argument);
  EXPECT_THROW(join_schedules({}, {}), std::invalid_argument);
  try {
    join_schedules({constant(1.0f), constant(2.0f)}, {1, 2});
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "[join_schedules] got 2 boundaries for 2 schedules, expected 1");
  }
}

TEST(OptimClip, GlobalNorm) {
  Params g{{"a", array({3.0f, 4.0f})}, {"b", array({12.0f}, {1, 1})}};
  auto [clipped, norm] = clip_grad_norm(g, 6.5f);
  EXPECT_NEAR(norm.item<float>(), 13.0f, 1e-6);
  double scale = 6.5 / (13.0 + 1e-6);
  auto a = clipped.at("a").to_vector<float>();
  EXPECT_NEAR(a[0], 3 * scale, 1e-6);
  EXPECT_NEAR(a[1], 4 * scale, 1e-6);
  EXPECT_EQ(clipped.at("b").shape(), (Shape{1, 1}));
  EXPECT_NEAR(clipped.at("b").to_vector<float>()[0], 12 * scale, 1e-6);

  // Under the limit the gradients pass unchanged (the factor is exactly 1).
  auto [same, n2] = clip_grad_norm(g, 100.0f);
  EXPECT_TRUE(bit_equal(same.at("a"), g.at("a")));
  EXPECT_TRUE(bit_equal(same.at("b"), g.at("b")));

  // Random gradients: the norm is the host's float64 one.
  Params r{{"x", random_array({7, 5}, 9)}, {"y", random_array({11}, 10)}};
  double sq = 0;
  for (auto& [k, v] : r)
    for (float x : v.to_vector<float>()) sq += double(x) * x;
  auto [rc, rn] = clip_grad_norm(r, 1.0f);
  EXPECT_NEAR(rn.item<float>(), std::sqrt(sq), 1e-5 * std::sqrt(sq));
  double csq = 0;
  for (auto& [k, v] : rc)
    for (float x : v.to_vector<float>()) csq += double(x) * x;
  EXPECT_NEAR(std::sqrt(csq), 1.0, 1e-5);

  EXPECT_THROW(clip_grad_norm(g, -1.0f), std::invalid_argument);
  auto [none, zero] = clip_grad_norm({}, 1.0f);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(zero.item<float>(), 0.0f);
}
