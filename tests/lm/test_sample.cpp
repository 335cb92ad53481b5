// Samplers and logits processors against definitions written here in double
// (mlx-lm's sample_utils semantics). Distributions: Pearson chi-square at
// alpha = 0.001 on N draws of a fixed logit vector, with a power check (the
// same counts against a wrong distribution must fail). Filters: tokens they
// remove are never drawn. Processors: exact values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>

#include "uma/lm/sample.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::lm;

namespace {

constexpr double kNegInf = -INFINITY;
constexpr int kDraws = 20000;

// Eight distinct logits, not in sorted order. Probabilities at temp 1:
// 0.104 0.019 0.381 0.063 0.155 0.010 0.231 0.038.
const std::vector<double> kLogits = {0.7, -1.0, 2.0, 0.2, 1.1, -1.6, 1.5, -0.3};

using Vec = std::vector<double>;

Vec log_softmax(const Vec& x) {
  double m = *std::max_element(x.begin(), x.end()), s = 0;
  for (double v : x) s += std::exp(v - m);
  Vec out;
  for (double v : x) out.push_back(v - m - std::log(s));
  return out;
}

// The float32 log-probabilities the sampler sees, and the same values in
// double for the reference.
std::vector<float> logprobs_f32(const Vec& logits) {
  std::vector<float> out;
  for (double v : log_softmax(logits)) out.push_back(float(v));
  return out;
}
Vec widen(const std::vector<float>& x) { return Vec(x.begin(), x.end()); }

// --- Reference filters (removed entries become -inf), from the definitions.

// Keeps the k largest.
Vec ref_top_k(Vec lp, int k) {
  Vec sorted = lp;
  std::sort(sorted.rbegin(), sorted.rend());
  for (double& v : lp) {
    if (v < sorted[k - 1]) v = kNegInf;
  }
  return lp;
}

// Keeps token i when the mass of all tokens with prob <= p_i exceeds 1 - p
// (the smallest most-likely set reaching p). Probabilities are exp(lp), not
// renormalized, as mlx-lm. Fails the test if a token sits within 1e-3 of the
// cut, where float32 rounding could decide.
Vec ref_top_p(Vec lp, double p) {
  Vec out = lp;
  for (size_t i = 0; i < lp.size(); ++i) {
    if (lp[i] == kNegInf) continue;
    double mass = 0;
    for (double v : lp) {
      if (v <= lp[i]) mass += std::exp(v);
    }
    EXPECT_GT(std::abs(mass - (1 - p)), 1e-3) << "token " << i << " sits on the top_p cut";
    if (!(mass > 1 - p)) out[i] = kNegInf;
  }
  return out;
}

// Keeps p_i >= min_p * p_max, and always the `keep` most likely.
Vec ref_min_p(Vec lp, double min_p, int keep) {
  double top = *std::max_element(lp.begin(), lp.end());
  Vec sorted = lp;
  std::sort(sorted.rbegin(), sorted.rend());
  for (double& v : lp) {
    if (std::exp(v) < min_p * std::exp(top) && v < sorted[keep - 1]) v = kNegInf;
  }
  return lp;
}

// Softmax at temperature `temp` (removed tokens get 0).
Vec ref_probs(const Vec& lp, double temp) {
  double m = *std::max_element(lp.begin(), lp.end()), s = 0;
  Vec p;
  for (double v : lp) p.push_back(v == kNegInf ? 0.0 : std::exp((v - m) / temp));
  for (double v : p) s += v;
  for (double& v : p) v /= s;
  return p;
}

// Removes every token above `threshold` but the least likely of them;
// special tokens stay.
Vec ref_xtc(Vec lp, double threshold, const std::set<int>& special) {
  Vec p = ref_probs(lp, 1.0);
  double least = INFINITY;
  for (double v : p) {
    if (v > threshold) least = std::min(least, v);
  }
  for (size_t i = 0; i < lp.size(); ++i) {
    if (p[i] > least && !special.count(int(i))) lp[i] = kNegInf;
  }
  return lp;
}

// The sampler's distribution: mlx-lm applies top_p, min_p, xtc, top_k in
// this order, then softmax(logprobs / temp).
Vec ref_sampler(const Vec& lp, const SamplerOptions& o, double temp) {
  Vec x = lp;
  if (o.top_p > 0 && o.top_p < 1) x = ref_top_p(x, o.top_p);
  if (o.min_p > 0) x = ref_min_p(x, o.min_p, o.min_tokens_to_keep);
  if (o.xtc_probability == 1) {
    x = ref_xtc(x, o.xtc_threshold,
                std::set<int>(o.xtc_special_tokens.begin(), o.xtc_special_tokens.end()));
  }
  if (o.top_k > 0) x = ref_top_k(x, o.top_k);
  return ref_probs(x, temp);
}

// --- Drawing and testing.

std::vector<int> draw(const Sampler& s, const std::vector<float>& lp, int n) {
  int V = int(lp.size());
  array ids = s(broadcast_to(array(lp, {1, V}), {n, V}));
  EXPECT_EQ(ids.shape(), (Shape{n}));
  return astype(ids, int32).to_vector<int>();
}

std::vector<double> histogram(const std::vector<int>& ids, int V) {
  std::vector<double> counts(V, 0.0);
  for (int t : ids) {
    EXPECT_TRUE(t >= 0 && t < V) << t;
    if (t >= 0 && t < V) counts[t] += 1;
  }
  return counts;
}

// Upper 0.001 quantiles of chi-square with df = 1..9 (standard tables, e.g.
// NIST/SEMATECH e-Handbook 1.3.6.7.4).
double chi2_critical_001(int df) {
  static const double table[] = {10.828, 13.816, 16.266, 18.467, 20.515,
                                 22.458, 24.322, 26.124, 27.877};
  EXPECT_TRUE(df >= 1 && df <= 9) << df;
  return table[std::clamp(df, 1, 9) - 1];
}

struct Fit {
  double chi2 = 0;
  int df = -1;
};

// Pearson chi-square over the tokens with expected mass; tokens without it
// count only as "must never be drawn", checked by the caller.
Fit pearson(const std::vector<double>& counts, const Vec& probs) {
  double n = 0;
  for (double c : counts) n += c;
  Fit f;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (probs[i] == 0) continue;
    f.chi2 += (counts[i] - n * probs[i]) * (counts[i] - n * probs[i]) / (n * probs[i]);
    f.df += 1;
  }
  return f;
}

// Draws kDraws tokens with `o` and checks them against the reference at the
// same temperature (must pass) and at 1.3x the temperature (must fail).
void expect_fits(const SamplerOptions& o, const Vec& logits = kLogits) {
  auto lp = logprobs_f32(logits);
  Vec want = ref_sampler(widen(lp), o, o.temp);
  auto counts = histogram(draw(make_sampler(o), lp, kDraws), int(lp.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "filtered token " << i << " was drawn";
    }
  }
  Fit fit = pearson(counts, want);
  EXPECT_LT(fit.chi2, chi2_critical_001(fit.df)) << "df " << fit.df;
  Fit wrong = pearson(counts, ref_sampler(widen(lp), o, 1.3 * o.temp));
  EXPECT_EQ(wrong.df, fit.df);
  EXPECT_GT(wrong.chi2, chi2_critical_001(wrong.df))
      << "the test cannot tell temp " << o.temp << " from " << 1.3 * o.temp;
}

int kept(const Vec& probs) {
  return int(std::count_if(probs.begin(), probs.end(), [](double p) { return p > 0; }));
}

// The message of the std::invalid_argument that f() throws, "" if none.
template <typename F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
#define EXPECT_INVALID(call, fragment)                          \
  do {                                                          \
    std::string msg_ = invalid_argument_message([&] { call; }); \
    EXPECT_NE(msg_.find(fragment), std::string::npos)           \
        << "'" << msg_ << "' should name " << (fragment);       \
  } while (0)

SamplerOptions seeded(float temp, uint64_t seed = 1) {
  SamplerOptions o;
  o.temp = temp;
  o.seed = seed;
  return o;
}

}  // namespace

TEST(SamplerDistribution, Temperature) {
  for (float temp : {1.0f, 0.6f, 1.7f}) {
    SCOPED_TRACE(temp);
    expect_fits(seeded(temp, 11));
  }
}

TEST(SamplerDistribution, TopK) {
  for (int k : {1, 3, 6}) {
    SCOPED_TRACE(k);
    auto o = seeded(1.0f, 12);
    o.top_k = k;
    EXPECT_EQ(kept(ref_sampler(widen(logprobs_f32(kLogits)), o, 1.0)), k);
    if (k > 1) expect_fits(o);
  }
  // k = 1 is argmax whatever the temperature.
  auto o = seeded(2.0f, 12);
  o.top_k = 1;
  auto ids = draw(make_sampler(o), logprobs_f32(kLogits), 1000);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 1000);
}

TEST(SamplerDistribution, TopP) {
  // Cumulative masses (most likely first): 0.381 0.612 0.766 0.870 0.933 ...
  for (auto [p, n] :
       std::vector<std::pair<float, int>>{{0.5f, 2}, {0.7f, 3}, {0.8f, 4}, {0.9f, 5}}) {
    SCOPED_TRACE(p);
    auto o = seeded(0.9f, 13);
    o.top_p = p;
    EXPECT_EQ(kept(ref_sampler(widen(logprobs_f32(kLogits)), o, 1.0)), n);
    expect_fits(o);
  }
}

TEST(SamplerDistribution, MinP) {
  // min_p * p_max = 0.095 keeps p >= 0.095: four tokens.
  auto o = seeded(1.0f, 14);
  o.min_p = 0.25f;
  EXPECT_EQ(kept(ref_sampler(widen(logprobs_f32(kLogits)), o, 1.0)), 4);
  expect_fits(o);
  // A strict min_p keeps only the top token, unless min_tokens_to_keep says more.
  o.min_p = 0.9f;
  o.min_tokens_to_keep = 3;
  EXPECT_EQ(kept(ref_sampler(widen(logprobs_f32(kLogits)), o, 1.0)), 3);
  expect_fits(o);
}

TEST(SamplerDistribution, CombinedFiltersApplyInMlxOrder) {
  // The order matters: top_k before top_p would shrink the mass top_p sees
  // (keeping 3, not 4, tokens here); xtc before top_k renormalizes over all.
  auto o = seeded(0.8f, 15);
  o.top_k = 5;
  o.top_p = 0.8f;
  o.min_p = 0.05f;
  EXPECT_EQ(kept(ref_sampler(widen(logprobs_f32(kLogits)), o, 1.0)), 4);
  expect_fits(o);

  auto x = seeded(1.0f, 16);
  x.top_k = 3;
  x.xtc_probability = 1.0f;
  x.xtc_threshold = 0.2f;
  Vec want = ref_sampler(widen(logprobs_f32(kLogits)), x, 1.0);
  EXPECT_EQ(want[2], 0.0);  // the top token goes; then the next three stay
  EXPECT_GT(want[0] * want[4] * want[6], 0.0);
  expect_fits(x);
}

TEST(SamplerXtc, RemovesAllAboveTheThresholdButTheLeastLikely) {
  // Row 0: kLogits (p > 0.12: tokens 2, 6, 4). Row 1: one token above 0.12.
  Vec row1 = {3.0, 0.1, 0.0, -0.2, 0.3, 0.2, -0.1, 0.05};
  std::vector<float> lp = logprobs_f32(kLogits), lp1 = logprobs_f32(row1);
  lp.insert(lp.end(), lp1.begin(), lp1.end());
  for (const std::vector<int>& special : std::vector<std::vector<int>>{{}, {6}, {2, 6}}) {
    SCOPED_TRACE(testing::PrintToString(special));
    auto out = apply_xtc(array(lp, {2, 8}), 0.12f, special).to_vector<float>();
    Vec want0 = ref_xtc(widen(logprobs_f32(kLogits)), 0.12, {special.begin(), special.end()});
    for (int i = 0; i < 8; ++i) {
      bool removed = special.empty() ? (i == 2 || i == 6) : (special.size() == 1 ? i == 2 : false);
      EXPECT_EQ(out[i] == kNegInf, removed) << "row 0 token " << i;
      EXPECT_EQ(want0[i] == kNegInf, removed) << "reference, token " << i;
      if (!removed) {
        EXPECT_EQ(out[i], lp[i]);
      }
      EXPECT_EQ(out[8 + i], lp[8 + i]) << "row 1 has one token above the threshold: nothing goes";
    }
  }
  // Through the sampler with probability 1: the removed tokens never come.
  auto o = seeded(1.0f, 17);
  o.xtc_probability = 1.0f;
  o.xtc_threshold = 0.12f;
  expect_fits(o);
  o.xtc_special_tokens = {6};
  expect_fits(o);
}

TEST(SamplerXtc, AppliesWithItsProbability) {
  // p = (0.538, 0.440, 6 x ~0.004): above 0.1 are tokens 0 and 1, so XTC
  // removes token 0. A call's rows share one coin; without removal, 32 rows
  // all miss token 0 with probability 0.462^32 < 1e-10.
  Vec logits = {3.0, 2.8, -2.0, -2.0, -2.0, -2.0, -2.0, -2.0};
  auto lp = logprobs_f32(logits);
  const int calls = 400, rows = 32;
  for (float p : {0.0f, 0.3f, 1.0f}) {
    SCOPED_TRACE(p);
    auto o = seeded(1.0f, 18);
    o.xtc_probability = p;
    o.xtc_threshold = 0.1f;
    Sampler s = make_sampler(o);
    int removed = 0;
    for (int c = 0; c < calls; ++c) {
      auto ids = draw(s, lp, rows);
      removed += std::count(ids.begin(), ids.end(), 0) == 0;
    }
    // Binomial(400, p): within 5 standard deviations (0 when p is 0 or 1).
    double sd = std::sqrt(calls * p * (1 - p));
    EXPECT_NEAR(removed, calls * p, 5 * sd + 0.5);
  }
}

TEST(SamplerSeed, SameSeedSameDrawsOtherSeedOtherDraws) {
  auto lp = logprobs_f32(kLogits);
  auto run = [&](uint64_t seed) {
    Sampler s = make_sampler(seeded(1.0f, seed));
    std::vector<std::vector<int>> out;
    for (int i = 0; i < 4; ++i) out.push_back(draw(s, lp, 64));
    return out;
  };
  auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Each call takes a fresh key: consecutive draws differ.
  EXPECT_NE(a[0], a[1]);
}

TEST(SamplerSeed, ZeroTemperatureIsArgmaxPerRow) {
  std::vector<float> x = {0.1f,  0.5f,  -1.0f, 0.4f,   // argmax 1
                          -3.0f, -2.0f, -1.0f, -0.5f,  // argmax 3
                          2.0f,  1.0f,  1.5f,  0.0f};  // argmax 0
  SamplerOptions o;
  o.top_k = 2;  // ignored when greedy, as mlx-lm
  o.min_p = 0.5f;
  auto ids = astype(make_sampler(o)(array(x, {3, 4})), int32).to_vector<int>();
  EXPECT_EQ(ids, (std::vector<int>{1, 3, 0}));
}

TEST(SamplerOptionsCheck, InvalidOptionsNameTheOption) {
  auto bad = [](auto set, const std::string& name) {
    SamplerOptions o = seeded(1.0f);
    set(o);
    EXPECT_INVALID(make_sampler(o), name);
  };
  bad([](SamplerOptions& o) { o.temp = -0.5f; }, "temp");
  bad([](SamplerOptions& o) { o.temp = NAN; }, "temp");
  bad([](SamplerOptions& o) { o.top_p = 1.5f; }, "top_p");
  bad([](SamplerOptions& o) { o.top_p = -0.1f; }, "top_p");
  bad([](SamplerOptions& o) { o.top_k = -1; }, "top_k");
  bad([](SamplerOptions& o) { o.min_p = 1.5f; }, "min_p");
  bad([](SamplerOptions& o) { o.min_tokens_to_keep = 0; }, "min_tokens_to_keep");
  bad([](SamplerOptions& o) { o.xtc_probability = 2.0f; }, "xtc_probability");
  bad([](SamplerOptions& o) { o.xtc_threshold = 0.6f; }, "xtc_threshold");
  LogitsOptions l;
  l.repetition_penalty = -1.0f;
  EXPECT_INVALID(make_logits_processors(l), "repetition_penalty");
  l = {};
  l.repetition_penalty = 1.2f;
  l.repetition_context_size = 0;
  EXPECT_INVALID(make_logits_processors(l), "repetition_context_size");
  l = {};
  l.presence_penalty = 0.5f;
  l.penalty_context_size = -3;
  EXPECT_INVALID(make_logits_processors(l), "penalty_context_size");
}

// --- Logits processors: exact values.

namespace {
const std::vector<float> kRow = {1.5f, -2.0f, 0.75f, -0.5f, 3.0f, -1.25f, 0.0f, 2.5f};

// Applies the processors in order to a (2, 8) batch whose second row is the
// first negated.
std::vector<float> process(const LogitsOptions& o, const std::vector<int>& history) {
  std::vector<float> x = kRow;
  for (float v : kRow) x.push_back(-v);
  array logits(x, {2, 8});
  for (auto& p : make_logits_processors(o)) logits = p(history, logits);
  EXPECT_EQ(logits.shape(), (Shape{2, 8}));
  return logits.to_vector<float>();
}

// The same in plain C++: f(token, logit, row) for every entry.
template <typename F>
std::vector<float> expected(F&& f) {
  std::vector<float> out;
  for (int r = 0; r < 2; ++r) {
    for (int t = 0; t < 8; ++t) out.push_back(f(t, r == 0 ? kRow[t] : -kRow[t]));
  }
  return out;
}
}  // namespace

TEST(LogitsProcessors, NoneByDefault) { EXPECT_TRUE(make_logits_processors({}).empty()); }

TEST(LogitsProcessors, LogitBiasAdds) {
  LogitsOptions o;
  o.logit_bias = {{1, 2.5f}, {4, -100.0f}, {7, 0.25f}};
  auto want =
      expected([&](int t, float v) { return o.logit_bias.count(t) ? v + o.logit_bias[t] : v; });
  EXPECT_EQ(process(o, {}), want);
  EXPECT_EQ(process(o, {3, 3}), want);  // history plays no part
  for (int id : {8, -1}) {
    o.logit_bias = {{id, 1.0f}};
    EXPECT_INVALID(process(o, {}), "token id " + std::to_string(id));
  }
}

TEST(LogitsProcessors, RepetitionPenaltyOnTheLastContextTokens) {
  LogitsOptions o;
  o.repetition_penalty = 1.5f;
  o.repetition_context_size = 4;
  // The window is {1, 2, 5, 5}: tokens 4 and 7 (earlier) and 0, 3, 6 stay.
  std::vector<int> history = {4, 7, 1, 2, 5, 5};
  std::set<int> window = {1, 2, 5};
  auto want = expected([&](int t, float v) {
    if (!window.count(t)) return v;
    return v < 0 ? v * 1.5f : v / 1.5f;  // once per distinct token, as HF
  });
  EXPECT_EQ(process(o, history), want);
  EXPECT_EQ(process(o, {}), expected([](int, float v) { return v; }));
  o.repetition_context_size = 100;
  EXPECT_EQ(process(o, {4})[4], 3.0f / 1.5f);
}

TEST(LogitsProcessors, PresenceAndFrequencyPenalties) {
  LogitsOptions o;
  o.presence_penalty = 0.5f;
  o.frequency_penalty = 0.25f;
  o.penalty_context_size = 5;
  // Window {2, 3, 2, 6, 2}: token 2 three times, 3 and 6 once; 0 is outside.
  std::vector<int> history = {0, 2, 3, 2, 6, 2};
  std::map<int, int> count = {{2, 3}, {3, 1}, {6, 1}};
  auto want = expected([&](int t, float v) {
    if (!count.count(t)) return v;
    return v - (0.5f + 0.25f * float(count[t]));
  });
  auto got = process(o, history);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << i;
  // Presence alone subtracts once per distinct token.
  o.frequency_penalty = 0;
  got = process(o, history);
  for (int t = 0; t < 8; ++t)
    EXPECT_FLOAT_EQ(got[t], kRow[t] - (count.count(t) ? 0.5f : 0.0f)) << t;
}

TEST(LogitsProcessors, ChainAppliesBiasThenPenalties) {
  LogitsOptions o;
  o.logit_bias = {{3, 1.0f}};  // -0.5 -> 0.5, then divided (positive now)
  o.repetition_penalty = 2.0f;
  o.frequency_penalty = 1.0f;
  auto got = process(o, {3, 3});
  EXPECT_FLOAT_EQ(got[3], 0.5f / 2.0f - 2.0f);
  EXPECT_FLOAT_EQ(got[8 + 3], (0.5f + 1.0f) / 2.0f - 2.0f);
  EXPECT_FLOAT_EQ(got[0], 1.5f);
}
