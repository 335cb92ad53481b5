// Every fast op of uma/core/fast.h against its `*_reference` composed of
// plain ops, for float32, float16 and bfloat16, on contiguous, transposed,
// sliced (strided, offset) and broadcast inputs, with odd sizes on the
// reduced axis (1, 7, 33, 129). Inputs are random with fixed seeds; both
// results are compared in float64.
//
// Tolerances: both paths widen the same inputs to float32, compute in
// float32 and round once to the output dtype. They differ only in the order
// of float32 operations (sums over at most 129 terms, fused or separate
// multiply-adds, 1/sqrt against rsqrt, the angle of rope from 1/base^(2i/d)
// against base^(-2i/d)), which stays below 1e-5 for the O(1) values used
// here (rope's angles stay under 20 rad, so their float32 error does too).
// After rounding, a float32 difference that straddles a rounding boundary
// becomes one ulp of the output dtype, at most 2^-10 |v| for float16 and
// 2^-7 |v| for bfloat16 (a significand of 11 and 8 bits). So:
//   |fast - ref| <= kAtol + rtol(dtype) * max(|fast|, |ref|),
//   kAtol = 1e-5, rtol = 1e-5 (float32), 2^-10 (float16), 2^-7 (bfloat16).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "uma/core/fast.h"
#include "uma/uma.h"

using namespace uma;

namespace {

constexpr double kAtol = 1e-5;

double rtol_of(Dtype t) {
  switch (t) {
    case float16: return std::ldexp(1.0, -10);
    case bfloat16: return std::ldexp(1.0, -7);
    default: return 1e-5;
  }
}

const Dtype kDtypes[] = {float32, float16, bfloat16};

enum class Layout { contiguous, transposed, sliced, broadcast };
const Layout kLayouts[] = {Layout::contiguous, Layout::transposed, Layout::sliced, Layout::broadcast};

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::contiguous: return "contiguous";
    case Layout::transposed: return "transposed";
    case Layout::sliced: return "sliced";
    default: return "broadcast";
  }
}

// Uniform values in [lo, hi) of `shape`, float32, from `seed`.
array random_array(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return array(v.data(), shape, float32);
}

// An input of logical `shape` and dtype t laid out as l (shape has >= 2 axes):
//   transposed  a contiguous buffer with axes `ta` and `tb` swapped, viewed back
//   sliced      every other element of the last axis of a larger buffer,
//               starting one row and one element in (offset + strides)
//   broadcast   axis 0 of size 1 broadcast (stride 0)
array make_input(const Shape& shape, Dtype t, Layout l, uint32_t seed, int ta = -2, int tb = -1) {
  int nd = int(shape.size());
  switch (l) {
    case Layout::contiguous: return astype(random_array(shape, seed), t);
    case Layout::transposed: {
      Shape p = shape;
      std::swap(p[(ta + nd) % nd], p[(tb + nd) % nd]);
      return swapaxes(astype(random_array(p, seed), t), ta, tb);
    }
    case Layout::sliced: {
      Shape p = shape, start(nd, 0), stop = shape, step(nd, 1);
      p[0] += 1;
      p.back() = 2 * shape.back() + 1;
      start[0] = 1;
      stop[0] = shape[0] + 1;
      start.back() = 1;
      stop.back() = 2 * shape.back();
      step.back() = 2;
      return slice(astype(random_array(p, seed), t), start, stop, step);
    }
    default: {
      Shape p = shape;
      p[0] = 1;
      return broadcast_to(astype(random_array(p, seed), t), shape);
    }
  }
}

// Compares in float64 with the tolerance above; one failure per call.
void expect_match(const array& fast, const array& ref, const std::string& what) {
  ASSERT_EQ(fast.shape(), ref.shape()) << what;
  ASSERT_EQ(fast.dtype(), ref.dtype()) << what;
  double rtol = rtol_of(fast.dtype());
  auto a = array(fast).to_vector<double>();
  auto b = array(ref).to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    double tol = kAtol + rtol * std::max(std::abs(a[i]), std::abs(b[i]));
    if (!(std::abs(a[i] - b[i]) <= tol)) {
      ADD_FAILURE() << what << ": element " << i << " fast " << a[i] << " reference " << b[i] << " (tol " << tol
                    << ")";
      return;
    }
  }
}

std::string describe(Dtype t, Layout l, const std::string& rest) {
  std::ostringstream o;
  o << dtype_name(t) << " " << layout_name(l) << " " << rest;
  return o.str();
}

}  // namespace

TEST(FastVsReference, RmsNorm) {
  uint32_t seed = 100;
  for (Dtype t : kDtypes) {
    for (Layout l : kLayouts) {
      for (int D : {1, 7, 33, 129}) {
        array x = make_input({3, 5, D}, t, l, ++seed);
        // No weight, a contiguous weight, a strided weight.
        std::vector<std::optional<array>> weights = {
            std::nullopt, astype(random_array({D}, ++seed, 0.5f, 1.5f), t),
            slice(astype(random_array({2 * D}, ++seed, 0.5f, 1.5f), t), {0}, {2 * D}, {2})};
        for (size_t w = 0; w < weights.size(); ++w) {
          for (float eps : {1e-5f, 1e-2f}) {
            std::string what = describe(t, l, "D " + std::to_string(D) + " weight " + std::to_string(w) +
                                                  " eps " + std::to_string(eps));
            expect_match(fast::rms_norm(x, weights[w], eps), fast::rms_norm_reference(x, weights[w], eps), what);
          }
        }
      }
    }
  }
}

// A float16 input with a float32 weight promotes to float32 on both paths.
TEST(FastVsReference, RmsNormMixedDtypes) {
  array x = make_input({4, 33}, float16, Layout::transposed, 7);
  array w = random_array({33}, 8, 0.5f, 1.5f);
  array f = fast::rms_norm(x, w, 1e-5f);
  EXPECT_EQ(f.dtype(), float32);
  expect_match(f, fast::rms_norm_reference(x, w, 1e-5f), "float16 x, float32 weight");
}

TEST(FastVsReference, LayerNorm) {
  uint32_t seed = 200;
  for (Dtype t : kDtypes) {
    for (Layout l : kLayouts) {
      for (int D : {1, 7, 33, 129}) {
        // An offset mean, so the centering matters.
        array x = add(make_input({3, 5, D}, t, l, ++seed), astype(array(3.0f), t));
        array w = slice(astype(random_array({2 * D}, ++seed, 0.5f, 1.5f), t), {0}, {2 * D}, {2});
        array b = astype(random_array({D}, ++seed), t);
        for (int mask = 0; mask < 4; ++mask) {
          std::optional<array> wo = mask & 1 ? std::optional<array>(w) : std::nullopt;
          std::optional<array> bo = mask & 2 ? std::optional<array>(b) : std::nullopt;
          std::string what = describe(t, l, "D " + std::to_string(D) + " weight/bias " + std::to_string(mask));
          expect_match(fast::layer_norm(x, wo, bo, 1e-5f), fast::layer_norm_reference(x, wo, bo, 1e-5f), what);
        }
      }
    }
  }
}

TEST(FastVsReference, Rope) {
  uint32_t seed = 300;
  struct Dims {
    int D, dims;
  };
  for (Dtype t : kDtypes) {
    for (Layout l : kLayouts) {
      for (Dims d : {Dims{2, 2}, Dims{7, 6}, Dims{33, 32}, Dims{129, 64}}) {
        // x: (B, H, T, D); transposed: a (B, T, H, D) buffer viewed with H and
        // T swapped, as models produce it.
        array x = make_input({2, 3, 7, d.D}, t, l, ++seed, 1, 2);
        array freqs = random_array({d.dims / 2}, ++seed, 1.0f, 100.0f);
        for (bool trad : {false, true}) {
          for (int off_kind = 0; off_kind < 3; ++off_kind) {
            array offset = off_kind == 0 ? array(0) : off_kind == 1 ? array(5) : array({3, 11});
            for (bool use_freqs : {false, true}) {
              for (float scale : {1.0f, 0.5f}) {
                std::optional<float> base = use_freqs ? std::nullopt : std::optional<float>(10000.0f);
                std::optional<array> fr = use_freqs ? std::optional<array>(freqs) : std::nullopt;
                std::string what = describe(t, l,
                                            "D " + std::to_string(d.D) + " dims " + std::to_string(d.dims) +
                                                " traditional " + std::to_string(trad) + " offset kind " +
                                                std::to_string(off_kind) + " freqs " + std::to_string(use_freqs) +
                                                " scale " + std::to_string(scale));
                expect_match(fast::rope(x, d.dims, trad, base, scale, offset, fr),
                             fast::rope_reference(x, d.dims, trad, base, scale, offset, fr), what);
              }
            }
          }
        }
      }
    }
  }
}

// The int-offset overload is the array one.
TEST(FastVsReference, RopeIntOffset) {
  array x = make_input({1, 2, 5, 16}, bfloat16, Layout::sliced, 9);
  expect_match(fast::rope(x, 16, false, 10000.0f, 1.0f, 4), fast::rope_reference(x, 16, false, 10000.0f, 1.0f, array(4)),
               "int offset");
  // The last two axes transposed: a strided last axis.
  array xt = make_input({1, 2, 5, 16}, float32, Layout::transposed, 10);
  expect_match(fast::rope(xt, 8, true, 500.0f, 1.0f, 2), fast::rope_reference(xt, 8, true, 500.0f, 1.0f, array(2)),
               "strided last axis");
}

TEST(FastVsReference, ScaledDotProductAttention) {
  uint32_t seed = 400;
  const int B = 2, D = 7, Dv = 9;
  for (Dtype t : kDtypes) {
    for (Layout l : kLayouts) {
      for (int Tk : {1, 7, 33, 129}) {
        for (int Tq : {1, 5}) {
          for (auto [Hq, Hk] : {std::pair{4, 2}, std::pair{2, 2}}) {
            // transposed: (B, T, H, D) buffers viewed as (B, H, T, D).
            array q = make_input({B, Hq, Tq, D}, t, l, ++seed, 1, 2);
            array k = make_input({B, Hk, Tk, D}, t, l, ++seed, 1, 2);
            array v = make_input({B, Hk, Tk, Dv}, t, l, ++seed, 1, 2);
            float scale = 1.0f / std::sqrt(float(D));
            // Boolean (Tq, Tk) mask, about 1 in 4 masked; an additive
            // (B, 1, Tq, Tk) mask with some -inf, sliced from a wider one.
            array keep = greater(random_array({Tq, Tk}, ++seed), array(-0.5f));
            array add_mask = random_array({B, 1, Tq, 2 * Tk}, ++seed, -2.0f, 0.0f);
            add_mask = where(less(add_mask, array(-1.8f)), array(-INFINITY), add_mask);
            add_mask = slice(add_mask, {0, 0, 0, 0}, {B, 1, Tq, 2 * Tk}, {1, 1, 1, 2});
            for (int mode = 0; mode < 4; ++mode) {
              std::string mm = mode == 1 ? "causal" : "";
              std::optional<array> mask = mode == 2 ? std::optional<array>(keep)
                                          : mode == 3 ? std::optional<array>(add_mask)
                                                      : std::nullopt;
              std::string what = describe(t, l,
                                          "Tq " + std::to_string(Tq) + " Tk " + std::to_string(Tk) + " Hq/Hk " +
                                              std::to_string(Hq) + "/" + std::to_string(Hk) + " mask " +
                                              std::to_string(mode));
              expect_match(fast::scaled_dot_product_attention(q, k, v, scale, mm, mask),
                           fast::scaled_dot_product_attention_reference(q, k, v, scale, mm, mask), what);
            }
          }
        }
      }
    }
  }
}

// Keys and values sliced out of a longer cache (B, Hk, Tmax, D) along T,
// the decode layout; a float16 additive mask; and the last axes transposed
// (strided head dimension).
TEST(FastVsReference, ScaledDotProductAttentionCacheSlices) {
  for (Dtype t : kDtypes) {
    SCOPED_TRACE(dtype_name(t));
    array cache_k = astype(random_array({1, 2, 64, 16}, 1), t);
    array cache_v = astype(random_array({1, 2, 64, 16}, 2), t);
    for (int Tk : {1, 7, 33}) {
      array k = slice(cache_k, {0, 0, 0, 0}, {1, 2, Tk, 16});
      array v = slice(cache_v, {0, 0, 0, 0}, {1, 2, Tk, 16});
      array q = astype(random_array({1, 6, 3, 16}, 3 + Tk), t);
      expect_match(fast::scaled_dot_product_attention(q, k, v, 0.25f, "causal"),
                   fast::scaled_dot_product_attention_reference(q, k, v, 0.25f, "causal"),
                   "cache slice Tk " + std::to_string(Tk));
      array m16 = astype(random_array({3, Tk}, 4 + Tk, -3.0f, 0.0f), float16);
      expect_match(fast::scaled_dot_product_attention(q, k, v, 0.25f, "", m16),
                   fast::scaled_dot_product_attention_reference(q, k, v, 0.25f, "", m16),
                   "float16 mask Tk " + std::to_string(Tk));
      array qt = swapaxes(astype(random_array({1, 6, 16, 3}, 5 + Tk), t), -1, -2);
      expect_match(fast::scaled_dot_product_attention(qt, k, v, 0.25f),
                   fast::scaled_dot_product_attention_reference(qt, k, v, 0.25f),
                   "strided head dim Tk " + std::to_string(Tk));
    }
  }
}
