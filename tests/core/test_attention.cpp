// fast::scaled_dot_product_attention (CPU kernel) and its composed-from-ops
// reference against a float64 loop written here: every float dtype, grouped
// query heads, causal masks with fewer queries than keys (decode, chunked
// prefill), additive and boolean masks (a sliding window is a boolean mask),
// head dims 64/80/128, transposed inputs, large logits and fully-masked rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "core/matmul_util.h"
#include "uma/core/fast.h"
#include "uma/uma.h"

using namespace uma;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// amp * (values in [-1, 1)).
std::vector<float> rand_vals(size_t n, float amp, uint32_t seed) {
  auto v = test::random_values(n, seed);
  for (auto& x : v) x *= amp;
  return v;
}

// A (B, H, T, D) input of dtype `dt`; transposed ones are stored (B, T, H, D).
array make_input(int B, int H, int T, int D, Dtype dt, bool transposed, float amp, uint32_t seed) {
  auto v = rand_vals(size_t(B) * H * T * D, amp, seed);
  if (!transposed) return astype(array(v.data(), {B, H, T, D}), dt);
  return transpose(astype(array(v.data(), {B, T, H, D}), dt), {0, 2, 1, 3});
}

// What one (b, h, i, j) score gets from the mask: dropped, or an addend.
using MaskFn = std::function<double(int b, int h, int i, int j)>;  // -inf drops

// float64 attention over the exact (already rounded) input values. A query
// that sees no key gets zeros: the kernel's documented semantics.
std::vector<double> reference(const array& q, const array& k, const array& v, double scale,
                              const MaskFn& mask) {
  int B = q.shape(0), Hq = q.shape(1), Tq = q.shape(2), D = q.shape(3);
  int Hk = k.shape(1), Tk = k.shape(2), Dv = v.shape(3), rep = Hq / Hk;
  auto qd = astype(q, float64).to_vector<double>();
  auto kd = astype(k, float64).to_vector<double>();
  auto vd = astype(v, float64).to_vector<double>();
  std::vector<double> out(size_t(B) * Hq * Tq * Dv, 0.0), s(Tk);
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < Hq; ++h) {
      int hk = h / rep;
      for (int i = 0; i < Tq; ++i) {
        const double* qi = &qd[((size_t(b) * Hq + h) * Tq + i) * D];
        double m = -kInf;
        for (int j = 0; j < Tk; ++j) {
          const double* kj = &kd[((size_t(b) * Hk + hk) * Tk + j) * D];
          double dot = 0;
          for (int d = 0; d < D; ++d) dot += qi[d] * kj[d];
          s[j] = dot * scale + mask(b, h, i, j);
          m = std::max(m, s[j]);
        }
        if (m == -kInf) continue;
        double den = 0;
        for (int j = 0; j < Tk; ++j) den += (s[j] = std::exp(s[j] - m));
        double* o = &out[((size_t(b) * Hq + h) * Tq + i) * Dv];
        for (int j = 0; j < Tk; ++j) {
          const double* vj = &vd[((size_t(b) * Hk + hk) * Tk + j) * Dv];
          for (int d = 0; d < Dv; ++d) o[d] += s[j] / den * vj[d];
        }
      }
    }
  }
  return out;
}

// Output rounding of the dtype plus float32 accumulation, relative to
// max|v| = 1.
double tol_for(Dtype t) { return t == bfloat16 ? 8e-3 : t == float16 ? 1e-3 : 2e-5; }

void expect_matches(array got, const std::vector<double>& want, Dtype dt, const char* what) {
  auto g = astype(got, float64).to_vector<double>();
  ASSERT_EQ(g.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t n = 0; n < g.size(); ++n) {
    double e = std::isnan(g[n]) ? kInf : std::abs(g[n] - want[n]);
    if (e > worst) worst = e, at = n;
  }
  EXPECT_LE(worst, tol_for(dt)) << what << ": at flat index " << at << " got " << g[at] << " want "
                                << want[at];
}

struct Case {
  int B, Hq, Hk, Tq, Tk, D, Dv;
  float scale;
  enum Mask { none, causal, additive, boolean, window } mask;
  bool transposed;
  float q_amp;
};

std::string describe(const Case& c, Dtype dt) {
  static const char* names[] = {"none", "causal", "additive", "boolean", "window"};
  return std::string(dtype_name(dt)) + " B" + std::to_string(c.B) + " Hq" + std::to_string(c.Hq) +
         " Hk" + std::to_string(c.Hk) + " Tq" + std::to_string(c.Tq) + " Tk" +
         std::to_string(c.Tk) + " D" + std::to_string(c.D) + " Dv" + std::to_string(c.Dv) +
         " mask " + names[c.mask] + (c.transposed ? " transposed" : "") + " q_amp " +
         std::to_string(c.q_amp);
}

void run_case(const Case& c, Dtype dt, uint32_t seed) {
  SCOPED_TRACE(describe(c, dt));
  array q = make_input(c.B, c.Hq, c.Tq, c.D, dt, c.transposed, c.q_amp, seed);
  array k = make_input(c.B, c.Hk, c.Tk, c.D, dt, c.transposed, 1.f, seed + 1);
  array v = make_input(c.B, c.Hk, c.Tk, c.Dv, dt, false, 1.f, seed + 2);
  if (c.transposed)
    v = slice(make_input(c.B, c.Hk, 2 * c.Tk, c.Dv, dt, false, 1.f, seed + 2), {0, 0, 0, 0},
              {c.B, c.Hk, 2 * c.Tk, c.Dv}, {1, 1, 2, 1});  // every other row
  const int off = c.Tk - c.Tq;                             // query i sits at position off + i
  const int W = 5;                                         // sliding window
  std::string mode;
  std::optional<array> mask;
  MaskFn fn = [](int, int, int, int) { return 0.0; };
  if (c.mask == Case::causal) {
    mode = "causal";
    fn = [off](int, int, int i, int j) { return j <= off + i ? 0.0 : -kInf; };
  } else if (c.mask == Case::additive) {
    // (B, 1, Tq, Tk), shared by the heads, with a few -inf entries.
    auto mv = rand_vals(size_t(c.B) * c.Tq * c.Tk, 3.f, seed + 3);
    for (size_t n = 0; n < mv.size(); n += 7) mv[n] = -INFINITY;
    for (int b = 0; b < c.B; ++b)
      for (int i = 0; i < c.Tq; ++i)
        mv[(size_t(b) * c.Tq + i) * c.Tk + c.Tk - 1] = 0.5f;  // no row all -inf
    mask = array(mv.data(), {c.B, 1, c.Tq, c.Tk});
    fn = [mv, c](int b, int, int i, int j) {
      return double(mv[(size_t(b) * c.Tq + i) * c.Tk + j]);
    };
  } else if (c.mask == Case::boolean) {
    // (Tq, Tk) broadcast: a pattern that is neither causal nor a window.
    std::vector<bool> keep(size_t(c.Tq) * c.Tk);
    for (int i = 0; i < c.Tq; ++i)
      for (int j = 0; j < c.Tk; ++j)
        keep[size_t(i) * c.Tk + j] = (i + 2 * j) % 3 != 0 || j == i % c.Tk;
    mask = array(keep, {c.Tq, c.Tk});
    fn = [keep, c](int, int, int i, int j) { return keep[size_t(i) * c.Tk + j] ? 0.0 : -kInf; };
  } else if (c.mask == Case::window) {
    auto lin = reshape(arange(off, off + c.Tq), {c.Tq, 1}),
         col = reshape(arange(0, c.Tk), {1, c.Tk});
    mask = logical_and(greater_equal(lin, col), less(subtract(lin, col), array(W)));
    fn = [off](int, int, int i, int j) { return j <= off + i && off + i - j < W ? 0.0 : -kInf; };
  }
  auto want = reference(q, k, v, c.scale, fn);
  array fast_out = fast::scaled_dot_product_attention(q, k, v, c.scale, mode, mask);
  EXPECT_EQ(fast_out.dtype(), dt);
  EXPECT_EQ(fast_out.shape(), (Shape{c.B, c.Hq, c.Tq, c.Dv}));
  expect_matches(fast_out, want, dt, "kernel");
  expect_matches(fast::scaled_dot_product_attention_reference(q, k, v, c.scale, mode, mask), want,
                 dt, "ops reference");
}

}  // namespace

TEST(Attention, KernelAndOpsReferenceMatchFloat64) {
  const std::vector<Case> cases = {
      // decode: one query over a cache, GQA 4:2
      {1, 4, 2, 1, 9, 64, 64, 0.125f, Case::none, false, 1.f},
      {1, 4, 2, 1, 9, 64, 64, 0.125f, Case::causal, false, 1.f},
      // chunked prefill: 5 queries at positions 7..11 over 12 keys
      {2, 6, 2, 5, 12, 80, 80, 1 / std::sqrt(80.f), Case::causal, false, 1.f},
      {1, 6, 1, 5, 12, 128, 128, 1 / std::sqrt(128.f), Case::causal, true, 1.f},
      // square prefill, multi-head without grouping
      {1, 2, 2, 7, 7, 64, 64, 0.37f, Case::causal, true, 1.f},
      // explicit masks
      {2, 4, 2, 3, 10, 64, 64, 0.125f, Case::additive, false, 1.f},
      {1, 4, 1, 6, 6, 80, 80, 0.2f, Case::boolean, true, 1.f},
      {1, 4, 2, 4, 11, 128, 128, 0.09f, Case::window, false, 1.f},
      {1, 2, 1, 1, 11, 64, 64, 0.125f, Case::window, false, 1.f},
      // value head dim differs from the key head dim
      {1, 4, 2, 3, 8, 64, 32, 0.125f, Case::causal, false, 1.f},
      // logits of several hundred: exp overflows unless the max is subtracted
      {1, 4, 2, 4, 16, 64, 64, 1.0f, Case::causal, false, 40.f},
      {1, 2, 1, 1, 16, 128, 128, 1.0f, Case::additive, true, 40.f},
      // From 16 queries the kernel computes blocks of queries with sgemm:
      // square and chunked causal prefill, each mask kind, Tq > Tk (early
      // queries see nothing), large logits, and two blocks of queries
      // (8 MiB of scores / (4 heads x 8200 keys x 4 bytes) = 63 queries).
      {1, 4, 2, 40, 40, 64, 64, 0.125f, Case::causal, false, 1.f},
      {2, 6, 2, 20, 50, 80, 80, 1 / std::sqrt(80.f), Case::causal, true, 1.f},
      {1, 4, 2, 17, 30, 64, 64, 0.125f, Case::additive, false, 1.f},
      {1, 4, 1, 24, 24, 64, 32, 0.2f, Case::boolean, true, 1.f},
      {1, 4, 2, 18, 25, 64, 64, 0.09f, Case::window, false, 1.f},
      {1, 2, 2, 20, 5, 64, 64, 0.125f, Case::causal, false, 1.f},
      {1, 4, 2, 16, 16, 64, 64, 1.0f, Case::causal, false, 40.f},
      {1, 4, 1, 72, 8200, 16, 16, 0.25f, Case::causal, false, 1.f},
  };
  uint32_t seed = 1;
  for (Dtype dt : {float32, float16, bfloat16}) {
    for (auto& c : cases) run_case(c, dt, seed += 10);
  }
}

// A query that sees no key (every mask entry false, or -inf, or a causal
// mask with more queries than keys) gets a row of zeros, never NaN, from the
// kernel and from the ops reference alike.
TEST(Attention, FullyMaskedRowsAreZeros) {
  for (Dtype dt : {float32, float16, bfloat16}) {
    SCOPED_TRACE(dtype_name(dt));
    array q = make_input(1, 2, 3, 64, dt, false, 1.f, 5);
    array k = make_input(1, 1, 4, 64, dt, false, 1.f, 6);
    array v = make_input(1, 1, 4, 64, dt, false, 1.f, 7);
    // Head 1, query 1 sees nothing.
    std::vector<bool> keep(2 * 3 * 4, true);
    for (int j = 0; j < 4; ++j) keep[(1 * 3 + 1) * 4 + j] = false;
    array bmask(keep, {1, 2, 3, 4});
    auto fn = [&](int, int h, int i, int j) {
      return keep[(size_t(h) * 3 + i) * 4 + j] ? 0.0 : -kInf;
    };
    auto want = reference(q, k, v, 0.125, fn);
    for (int d = 0; d < 64; ++d) ASSERT_EQ(want[(1 * 3 + 1) * 64 + d], 0.0);
    expect_matches(fast::scaled_dot_product_attention(q, k, v, 0.125f, "", bmask), want, dt,
                   "boolean");
    array amask = where(bmask, array(0.f), array(-INFINITY));
    expect_matches(fast::scaled_dot_product_attention(q, k, v, 0.125f, "", amask), want, dt,
                   "additive -inf");
    auto r =
        astype(fast::scaled_dot_product_attention_reference(q, k, v, 0.125f, "", bmask), float64)
            .to_vector<double>();
    for (int d = 0; d < 64; ++d) ASSERT_EQ(r[(1 * 3 + 1) * 64 + d], 0.0);
    expect_matches(fast::scaled_dot_product_attention_reference(q, k, v, 0.125f, "", bmask), want, dt,
                   "ops reference");

    // Causal with 3 queries over 1 key: queries sit at positions -2, -1, 0.
    array k1 = slice(k, {0, 0, 0, 0}, {1, 1, 1, 64});
    array v1 = slice(v, {0, 0, 0, 0}, {1, 1, 1, 64});
    auto want1 = reference(q, k1, v1, 0.125,
                           [](int, int, int i, int j) { return j <= i - 2 ? 0.0 : -kInf; });
    expect_matches(fast::scaled_dot_product_attention(q, k1, v1, 0.125f, "causal"), want1, dt,
                   "causal Tq > Tk");
    expect_matches(fast::scaled_dot_product_attention_reference(q, k1, v1, 0.125f, "causal"), want1, dt,
                   "causal Tq > Tk, ops reference");
  }
}
