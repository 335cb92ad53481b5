// vmap rules of the manipulation, indexing, sort, random, quantized and fast
// families, each against the explicit loop over slices (batched and
// unbatched operands, several axes, non-contiguous inputs).
#include <gtest/gtest.h>

#include "uma/core/fast.h"
#include "uma/uma.h"
#include "vmap_util.h"

using namespace uma;
using namespace uma::test;

namespace {

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

Fn fn(std::function<array(const std::vector<array>&)> f) {
  return [f](const std::vector<array>& xs) { return std::vector<array>{f(xs)}; };
}

}  // namespace

// ------------------------------------------------------------ manipulation

TEST(VmapManipulation, ConcatenatePadDiagonal) {
  array a = vrand({3, 4, 5}, 1), b = vrand({3, 4, 2}, 2);
  auto cat = fn([](const std::vector<array>& x) { return concatenate({x[0], x[1], x[0]}, -1); });
  expect_vmap(cat, {a, b}, {0, 0}, {}, 0, 0, "concatenate");
  expect_vmap(cat, {transpose(a, {1, 0, 2}), slice_at(b, 0, 1)}, {1, -1}, {-1}, 0, 0, "concatenate");
  auto padc = fn([](const std::vector<array>& x) {
    return pad(x[0], std::vector<int>{0, 1}, Shape{1, 0}, Shape{2, 1}, x[1]);
  });
  array v = array({7.f, -1.f, 3.5f});
  expect_vmap(padc, {a, v}, {0, 0}, {}, 0, 0, "pad, batched value");
  expect_vmap(padc, {a, array(2.f)}, {2, -1}, {1}, 0, 0, "pad");
  expect_vmap(padc, {slice_at(a, 0, 0), v}, {-1, 0}, {}, 0, 0, "pad, value only");
  expect_vmap(fn([](const std::vector<array>& x) { return pad(x[0], 2, array(0), "edge"); }), {a}, {1}, {}, 0, 0,
              "pad edge");
  for (auto [off, a1, a2] : std::vector<std::tuple<int, int, int>>{{0, 0, 1}, {1, 1, 0}, {-1, 0, 1}}) {
    auto d = fn([=](const std::vector<array>& x) { return diagonal(x[0], off, a1, a2); });
    for (int in : {0, 1, 2}) expect_vmap(d, {a}, {in}, {}, 0, 0, "diagonal");
  }
  expect_vmap(fn([](const std::vector<array>& x) { return trace(x[0]); }), {a}, {2}, {}, 1e-6, 1e-6, "trace");
}

TEST(VmapManipulation, SliceUpdate) {
  array src = vrand({3, 4, 6}, 3), upd = vrand({3, 2, 3}, 4);
  auto su = fn([](const std::vector<array>& x) { return slice_update(x[0], x[1], {1, 0}, {4, 6}, {2, 2}); });
  expect_vmap(su, {src, upd}, {0, 0}, {}, 0, 0, "slice_update");
  expect_vmap(su, {transpose(src, {1, 0, 2}), upd}, {1, 0}, {2}, 0, 0, "slice_update transposed");
  expect_vmap(su, {slice_at(src, 0, 0), upd}, {-1, 0}, {}, 0, 0, "slice_update, update only");
  expect_vmap(su, {src, slice_at(upd, 0, 2)}, {0, -1}, {}, 0, 0, "slice_update, src only");
  auto neg = fn([](const std::vector<array>& x) { return slice_update(x[0], x[1], {-1, -1}, {-5, -7}, {-2, -2}); });
  expect_vmap(neg, {src, upd}, {0, 0}, {}, 0, 0, "slice_update negative steps");
}

TEST(VmapManipulation, DynamicSlices) {
  array a = vrand({3, 5, 6}, 5);
  // Starts per batch element, negative and out of range among them.
  array starts = array({1, 0, -2, 4, 9, -9}, {3, 2});
  auto ds = fn([](const std::vector<array>& x) { return dynamic_slice(x[0], x[1], {0, 1}, {2, 3}); });
  expect_vmap(ds, {a, starts}, {0, 0}, {}, 0, 0, "dynamic_slice");
  expect_vmap(ds, {transpose(a, {1, 0, 2}), transpose(starts)}, {1, 1}, {-1}, 0, 0, "dynamic_slice axes");
  expect_vmap(ds, {slice_at(a, 0, 0), starts}, {-1, 0}, {}, 0, 0, "dynamic_slice, starts only");
  expect_vmap(ds, {a, array({1, 2})}, {2, -1}, {}, 0, 0, "dynamic_slice, array only");
  auto one = fn([](const std::vector<array>& x) { return dynamic_slice(x[0], x[1], {1}, {5, 2}); });
  expect_vmap(one, {a, array({-1, 3, 8})}, {0, 0}, {}, 0, 0, "dynamic_slice 0-d start");
  array upd = vrand({3, 2, 3}, 6);
  auto dsu = fn([](const std::vector<array>& x) { return dynamic_slice_update(x[0], x[1], x[2], {0, 1}); });
  expect_vmap(dsu, {a, upd, starts}, {0, 0, 0}, {}, 0, 0, "dynamic_slice_update");
  expect_vmap(dsu, {a, upd, array({1, 2})}, {0, 0, -1}, {1}, 0, 0, "dynamic_slice_update, starts shared");
  expect_vmap(dsu, {slice_at(a, 0, 1), upd, starts}, {-1, 0, 0}, {}, 0, 0, "dynamic_slice_update, src shared");
  expect_vmap(dsu, {a, slice_at(upd, 0, 0), array({0, 1})}, {1, -1, -1}, {}, 0, 0, "dynamic_slice_update, src only");
}

// ------------------------------------------------------------ indexing

TEST(VmapIndexing, TakeAndGather) {
  array a = vrand({3, 5, 4}, 10);
  array idx = array({0, 4, -1, 7, 2, 2, -9, 1, 3, 0, 1, 4}, {3, 4});  // out of range clamps
  auto tk = fn([](const std::vector<array>& x) { return take(x[0], x[1], 0); });
  expect_vmap(tk, {a, idx}, {0, 0}, {}, 0, 0, "take");
  expect_vmap(tk, {transpose(a, {2, 1, 0}), transpose(idx)}, {2, 1}, {1}, 0, 0, "take transposed");
  expect_vmap(tk, {a, array({3, 0})}, {1, -1}, {}, 0, 0, "take, array only");
  expect_vmap(tk, {slice_at(a, 0, 0), idx}, {-1, 0}, {-1}, 0, 0, "take, indices only");
  auto tk1 = fn([](const std::vector<array>& x) { return take(x[0], x[1], 1); });
  expect_vmap(tk1, {a, idx}, {0, 0}, {}, 0, 0, "take axis 1");
  auto g = fn([](const std::vector<array>& x) { return gather(x[0], {x[1], x[2]}, {1, 0}, {1, 2}); });
  array i2 = array({1, 0, 3, 3, 2, 1}, {3, 2}), i3 = array({0, 4, -1, 2, 3, 1}, {3, 2});
  expect_vmap(g, {a, i2, slice_at(i3, 0, 0)}, {0, 0, -1}, {}, 0, 0, "gather");
  expect_vmap(g, {a, i2, i3}, {0, 0, 0}, {}, 0, 0, "gather, all batched");
  expect_vmap(g, {slice_at(a, 0, 2), i2, i2}, {-1, 0, 0}, {}, 0, 0, "gather, indices only");
  expect_vmap(g, {a, array({0, 1}), array({1, 0})}, {2, -1, -1}, {}, 0, 0, "gather, array only");
  auto along = fn([](const std::vector<array>& x) { return take_along_axis(x[0], x[1], 0); });
  array ia = astype(vrand({3, 2, 4}, 11, 0, 5), int32);
  expect_vmap(along, {a, ia}, {0, 0}, {}, 0, 0, "take_along_axis");
  expect_vmap(along, {slice_at(a, 0, 0), ia}, {-1, 0}, {}, 0, 0, "take_along_axis, indices only");
  expect_vmap(along, {a, slice_at(ia, 0, 0)}, {0, -1}, {}, 0, 0, "take_along_axis, array only");
}

TEST(VmapIndexing, Scatter) {
  array a = astype(vrand({3, 5, 4}, 12, -9, 9), int32);
  array idx = array({0, 4, 4, 7, 2, 2, -1, 1, 3}, {3, 3});  // duplicates, one dropped
  array upd = astype(vrand({3, 3, 1, 4}, 13, -9, 9), int32);
  using S = array (*)(const array&, const array&, const array&, int, StreamOrDevice);
  for (auto [name, op] : std::vector<std::pair<std::string, S>>{
           {"scatter_add", scatter_add}, {"scatter_prod", scatter_prod}, {"scatter_max", scatter_max},
           {"scatter_min", scatter_min}}) {
    auto f = fn([op](const std::vector<array>& x) { return op(x[0], x[1], x[2], 0, {}); });
    expect_vmap(f, {a, idx, upd}, {0, 0, 0}, {}, 0, 0, name);
    expect_vmap(f, {transpose(a, {1, 0, 2}), idx, upd}, {1, 0, 0}, {2}, 0, 0, name + " transposed");
    expect_vmap(f, {slice_at(a, 0, 0), idx, upd}, {-1, 0, 0}, {}, 0, 0, name + " array shared");
    expect_vmap(f, {a, slice_at(idx, 0, 0), upd}, {0, -1, 0}, {}, 0, 0, name + " indices shared");
    expect_vmap(f, {a, idx, slice_at(upd, 0, 0)}, {0, 0, -1}, {}, 0, 0, name + " updates shared");
  }
  // Assignment without duplicates (the winner of duplicates is unspecified).
  auto sc = fn([](const std::vector<array>& x) { return scatter(x[0], {x[1], x[2]}, x[3], {0, 1}); });
  array r = array({0, 3, 4, 1, 2, 0}, {3, 2}), c = array({1, 3, 0, 2, 0, 0}, {3, 2});
  array u2 = astype(vrand({3, 2, 1, 1}, 14, -9, 9), int32);
  expect_vmap(sc, {a, r, c, u2}, {0, 0, 0, 0}, {}, 0, 0, "scatter");
  expect_vmap(sc, {a, slice_at(r, 0, 0), c, slice_at(u2, 0, 1)}, {0, -1, 0, -1}, {}, 0, 0, "scatter mixed");
  auto put = fn([](const std::vector<array>& x) { return put_along_axis(x[0], x[1], x[2], 1); });
  auto add_axis = fn([](const std::vector<array>& x) { return scatter_add_axis(x[0], x[1], x[2], 1); });
  array pi = array({0, 3, 1, 2, 2, 0}, {3, 1, 2});
  array pv = astype(vrand({3, 5, 2}, 15, -9, 9), int32);
  expect_vmap(put, {a, pi, pv}, {0, 0, 0}, {}, 0, 0, "put_along_axis");
  expect_vmap(put, {a, slice_at(pi, 0, 0), pv}, {0, -1, 0}, {}, 0, 0, "put_along_axis shared indices");
  expect_vmap(add_axis, {a, pi, slice_at(pv, 0, 0)}, {0, 0, -1}, {}, 0, 0, "scatter_add_axis");
}

// vjp inside vmap: Gather's vjp is a scatter_add into zeros (Full),
// Concatenate's are slices.
TEST(VmapIndexing, OfVjp) {
  // Gather's vjp is a scatter_add into zeros (Full).
  array idx = array({2, 0, 2});
  auto g = [&](const std::vector<array>& xs) {
    auto [outs, vjps] = vjp(
        [&](const std::vector<array>& a) {
          return std::vector<array>{gather(a[0], idx, 1, {a[0].shape(0), 1}), concatenate({a[0], a[0]}, 1)};
        },
        {xs[0]}, {xs[1], xs[2]});
    return std::vector<array>{outs[0], vjps[0]};
  };
  array y = vrand({4, 2, 3}, 13), cg = vrand({4, 3, 2, 1}, 14), cc = vrand({4, 2, 6}, 15);
  expect_vmap(g, {y, cg, cc}, {0, 0, 0}, {}, 1e-6, 1e-6, "vjp of gather and concatenate");
}

// ------------------------------------------------------------ sort

TEST(VmapSort, SortAndPartition) {
  array x = vrand({3, 4, 7}, 20);
  std::vector<std::pair<std::string, Fn1>> fs{
      {"sort", [](const array& a) { return sort(a, -1); }},
      {"sort 0", [](const array& a) { return sort(a, 0); }},
      {"sort flat", [](const array& a) { return sort(a); }},
      {"argsort", [](const array& a) { return argsort(a, 1); }},
      {"partition", [](const array& a) { return partition(a, 2, -1); }},
      {"argpartition", [](const array& a) { return argpartition(a, 1, 0); }},
      {"topk", [](const array& a) { return sort(topk(a, 2, -1), -1); }},
  };
  for (auto& [name, f] : fs) {
    for (int in : {0, 1, 2}) expect_vmap(lift(f), {x}, {in}, {}, 0, 0, name);
  }
}

// ------------------------------------------------------------ random

TEST(VmapRandom, PerKeyDraws) {
  array keys = random::split(random::key(7), 3);  // (3, 2)
  std::vector<std::pair<std::string, Fn1>> fs{
      {"bits", [](const array& k) { return random::bits({2, 3}, 4, k); }},
      {"bits uint8", [](const array& k) { return random::bits({5}, 1, k); }},
      {"bits uint16", [](const array& k) { return random::bits({2, 2}, 2, k); }},
      {"uniform", [](const array& k) { return random::uniform({4}, float32, k); }},
      {"normal", [](const array& k) { return random::normal({2, 3}, float32, k); }},
      {"split", [](const array& k) { return random::split(k, 3); }},
      {"randint", [](const array& k) { return random::randint(0, 10, {6}, int32, k); }},
  };
  for (auto& [name, f] : fs) {
    expect_vmap(lift(f), {keys}, {0}, {}, 0, 0, name);
    expect_vmap(lift(f), {transpose(keys)}, {1}, {-1}, 0, 0, name + " (keys batched on the last axis)");
  }
}

// ------------------------------------------------------------ quantized

TEST(VmapQuantized, QuantizeDequantize) {
  array w = vrand({3, 8, 64}, 30);
  auto q = [](const std::vector<array>& x) { return quantize(x[0], 32, 4); };
  expect_vmap(q, {w}, {0}, {}, 0, 0, "quantize");
  expect_vmap(q, {transpose(w, {1, 0, 2})}, {1}, {2, 2, 2}, 0, 0, "quantize axis 1");
  expect_vmap(q, {transpose(w, {1, 2, 0})}, {2}, {}, 0, 0, "quantize, batch on the last axis");
  auto qfp = [](const std::vector<array>& x) { return quantize(x[0], std::nullopt, std::nullopt, "mxfp4"); };
  expect_vmap(qfp, {w}, {0}, {}, 0, 0, "quantize mxfp4");
  auto qnv = [](const std::vector<array>& x) {
    return quantize(x[0], std::nullopt, std::nullopt, "nvfp4", x[1]);
  };
  expect_vmap(qnv, {w, array({0.5f, 1.f, 2.f})}, {0, 0}, {}, 0, 0, "quantize nvfp4, batched global scale");
  expect_vmap(qnv, {w, array(0.5f)}, {1, -1}, {}, 0, 0, "quantize nvfp4");
  auto qw = quantize(w, 32, 4);
  auto dq = fn([](const std::vector<array>& x) { return dequantize(x[0], x[1], x[2], 32, 4); });
  expect_vmap(dq, qw, {0, 0, 0}, {}, 0, 0, "dequantize");
  expect_vmap(dq, {transpose(qw[0], {1, 0, 2}), slice_at(qw[1], 0, 0), slice_at(qw[2], 0, 0)}, {1, -1, -1}, {-1}, 0, 0,
              "dequantize, shared scales");
  auto qf = quantize(w, std::nullopt, std::nullopt, "mxfp4");
  auto dqf = fn([](const std::vector<array>& x) {
    return dequantize(x[0], x[1], std::nullopt, std::nullopt, std::nullopt, "mxfp4", std::nullopt, float32);
  });
  expect_vmap(dqf, qf, {0, 0}, {}, 0, 0, "dequantize mxfp4");
}

TEST(VmapQuantized, Matmuls) {
  array w = vrand({3, 16, 64}, 31);
  auto qw = quantize(w, 32, 4);  // batched (3, 16, ...)
  std::vector<array> w0{slice_at(qw[0], 0, 0), slice_at(qw[1], 0, 0), slice_at(qw[2], 0, 0)};
  array x = vrand({3, 2, 64}, 32);
  const double tol = 1e-4;
  auto qmm = fn([](const std::vector<array>& a) { return quantized_matmul(a[0], a[1], a[2], a[3], true, 32, 4); });
  expect_vmap(qmm, {x, w0[0], w0[1], w0[2]}, {0, -1, -1, -1}, {}, tol, tol, "x batched");
  expect_vmap(qmm, {transpose(x, {1, 0, 2}), w0[0], w0[1], w0[2]}, {1, -1, -1, -1}, {1}, tol, tol, "x axis 1");
  expect_vmap(qmm, {slice_at(x, 0, 0), qw[0], qw[1], qw[2]}, {-1, 0, 0, 0}, {}, tol, tol, "w batched");
  expect_vmap(qmm, {x, qw[0], qw[1], qw[2]}, {0, 0, 0, 0}, {}, tol, tol, "both batched");
  expect_vmap(qmm, {vrand({3, 64}, 33), qw[0], qw[1], qw[2]}, {0, 0, 0, 0}, {}, tol, tol, "vector x");
  array w3 = vrand({3, 2, 16, 64}, 34);
  auto q3 = quantize(w3, 32, 4);
  expect_vmap(qmm, {vrand({3, 5, 64}, 35), q3[0], q3[1], q3[2]}, {0, 0, 0, 0}, {}, tol, tol, "batched weights");
  // x @ W (transpose false): W packs (K, N) = (16, 64), x (.., 16).
  auto qmm_n = fn([](const std::vector<array>& a) { return quantized_matmul(a[0], a[1], a[2], a[3], false, 32, 4); });
  expect_vmap(qmm_n, {vrand({3, 2, 16}, 36), qw[0], qw[1], qw[2]}, {0, 0, 0, 0}, {}, tol, tol, "no transpose");
  // gather_qmm: 4 experts, x (2 rows of (1, 64)), indices per batch element.
  array we = vrand({3, 4, 16, 64}, 37);
  auto qe = quantize(we, 32, 4);
  array xe = vrand({3, 2, 1, 64}, 38);
  array rhs = array({3, 0, 1, 1, 2, 2}, {3, 2}), lhs = array({1, 0, 0, 0, 1, 1}, {3, 2});
  auto gq = fn([](const std::vector<array>& a) {
    return gather_qmm(a[0], a[1], a[2], a[3], a[4], a[5], true, 32, 4);
  });
  std::vector<array> e0{slice_at(qe[0], 0, 0), slice_at(qe[1], 0, 0), slice_at(qe[2], 0, 0)};
  array x0 = slice_at(xe, 0, 0), l0 = slice_at(lhs, 0, 0), r0 = slice_at(rhs, 0, 0);
  expect_vmap(gq, {xe, qe[0], qe[1], qe[2], lhs, rhs}, {0, 0, 0, 0, 0, 0}, {}, tol, tol, "gather_qmm all");
  expect_vmap(gq, {xe, e0[0], e0[1], e0[2], l0, r0}, {0, -1, -1, -1, -1, -1}, {}, tol, tol, "gather_qmm x");
  expect_vmap(gq, {x0, qe[0], qe[1], qe[2], l0, r0}, {-1, 0, 0, 0, -1, -1}, {}, tol, tol, "gather_qmm w");
  expect_vmap(gq, {x0, e0[0], e0[1], e0[2], lhs, transpose(rhs)}, {-1, -1, -1, -1, 0, 1}, {1}, tol, tol,
              "gather_qmm indices");
  expect_vmap(gq, {xe, e0[0], e0[1], e0[2], l0, rhs}, {0, -1, -1, -1, -1, 0}, {}, tol, tol, "gather_qmm x, rhs");
}

// ------------------------------------------------------------ fast

TEST(VmapFast, NormsRopeAttention) {
  const double tol = 1e-5;
  array x = vrand({3, 4, 8}, 40), w = vrand({8}, 41), bias = vrand({8}, 42), ws = vrand({3, 8}, 43);
  auto rms = fn([](const std::vector<array>& a) { return fast::rms_norm(a[0], a[1], 1e-5f); });
  expect_vmap(rms, {x, w}, {0, -1}, {}, tol, tol, "rms_norm");
  expect_vmap(rms, {transpose(x, {1, 2, 0}), w}, {2, -1}, {}, tol, tol, "rms_norm, batch on the last axis");
  expect_vmap(rms, {transpose(x, {1, 0, 2}), ws}, {1, 0}, {}, tol, tol, "rms_norm, batched weight");
  auto ln = fn([](const std::vector<array>& a) { return fast::layer_norm(a[0], a[1], a[2], 1e-5f); });
  expect_vmap(ln, {x, w, bias}, {1, -1, -1}, {}, tol, tol, "layer_norm");
  expect_vmap(ln, {x, w, ws}, {0, -1, 0}, {-1}, tol, tol, "layer_norm, batched bias");
  array xr = vrand({3, 2, 5, 8}, 44);  // per element (H, T, D)
  auto rp = fn([](const std::vector<array>& a) { return fast::rope(a[0], 8, false, 10000.f, 1.f, a[1]); });
  expect_vmap(rp, {xr, array(3)}, {0, -1}, {}, tol, tol, "rope");
  expect_vmap(rp, {xr, array({0, 2, 5})}, {0, 0}, {}, tol, tol, "rope, batched offsets");
  auto rpt = fn([](const std::vector<array>& a) { return fast::rope(a[0], 4, true, 10000.f, 0.5f, 1); });
  expect_vmap(rpt, {xr}, {2}, {}, tol, tol, "rope traditional");
  array q = vrand({3, 1, 4, 5, 8}, 45), k = vrand({3, 1, 2, 6, 8}, 46), v = vrand({3, 1, 2, 6, 8}, 47);
  auto sdpa = fn([](const std::vector<array>& a) {
    return fast::scaled_dot_product_attention(a[0], a[1], a[2], 0.3f, "causal");
  });
  expect_vmap(sdpa, {q, k, v}, {0, 0, 0}, {}, tol, tol, "sdpa");
  expect_vmap(sdpa, {q, slice_at(k, 0, 0), slice_at(v, 0, 0)}, {0, -1, -1}, {}, tol, tol, "sdpa, shared k v");
  auto sdpa_m = fn([](const std::vector<array>& a) {
    return fast::scaled_dot_product_attention(a[0], a[1], a[2], 0.3f, "", a[3]);
  });
  array mask = vrand({3, 5, 6}, 48) > 0.0;
  expect_vmap(sdpa_m, {q, k, v, mask}, {0, 0, 0, 0}, {}, tol, tol, "sdpa, batched mask");
}

// ------------------------------------------------------------ nesting, empty batches, half types

TEST(VmapNested, AcrossFamilies) {
  // Inner vmap over rows, outer over matrices; the loop reference nests too.
  auto nest = [](const Fn& f, const std::vector<int>& inner, const std::vector<int>& outer) {
    Fn vv = vmap(vmap(f, inner), outer);
    Fn loop = [=](const std::vector<array>& xs) {
      Fn in = [=](const std::vector<array>& ys) { return vmap_loop(f, ys, inner, {}); };
      return vmap_loop(in, xs, outer, {});
    };
    return std::make_pair(vv, loop);
  };
  array a = vrand({2, 3, 5, 4}, 60);
  array idx = array({0, 4, 1, 3, 3, 1, 2, 0, 1, 1, 0, 2}, {2, 3, 2});
  std::vector<std::tuple<std::string, Fn, std::vector<array>, std::vector<int>, std::vector<int>>> cases{
      {"take", fn([](const std::vector<array>& x) { return take(x[0], x[1], 0); }), {a, idx}, {0, 0}, {0, 0}},
      {"take, shared indices", fn([](const std::vector<array>& x) { return take(x[0], x[1], 1); }),
       {a, slice_at(idx, 0, 0)}, {0, 0}, {0, -1}},
      {"matmul", fn([](const std::vector<array>& x) { return matmul(x[0], x[1]); }), {a, vrand({2, 3, 4, 2}, 61)},
       {0, 0}, {0, 0}},
      {"scatter_add", fn([](const std::vector<array>& x) { return scatter_add(x[0], x[1], x[2], 0); }),
       {a, idx, vrand({2, 3, 2, 1, 4}, 62)}, {0, 0, 0}, {0, 0, 0}},
      {"dynamic_slice", fn([](const std::vector<array>& x) { return dynamic_slice(x[0], x[1], {0, 1}, {2, 2}); }),
       {a, idx}, {0, 0}, {0, 0}},
      {"sort", fn([](const std::vector<array>& x) { return sort(x[0], 0); }), {a}, {2}, {1}},
      {"softmax", fn([](const std::vector<array>& x) { return softmax(x[0], -1); }), {a}, {1}, {3}},
  };
  for (auto& [name, f, xs, inner, outer] : cases) {
    auto [vv, loop] = nest(f, inner, outer);
    auto got = vv(xs), expected = loop(xs);
    for (size_t j = 0; j < got.size(); ++j) expect_same(got[j], expected[j], 1e-6, 1e-6, "nested " + name);
  }
}

TEST(VmapEdge, EmptyBatchAndHalfTypes) {
  auto f = fn([](const std::vector<array>& x) { return sum(exp(x[0]) * x[1], -1); });
  auto out = vmap(f, {0, -1})({zeros({0, 3}), ones({3})});
  EXPECT_EQ(out[0].shape(), (Shape{0}));
  auto q = [](const std::vector<array>& x) { return quantize(x[0], std::nullopt, std::nullopt, "nvfp4", x[1]); };
  auto qs = vmap(q, {0, 0})({zeros({0, 2, 16}), zeros({0})});
  EXPECT_EQ(qs[0].shape(), (Shape{0, 2, 2}));
  for (Dtype t : {float16, bfloat16}) {
    array a = vrand({3, 4, 5}, 63, -2, 2, t), b = vrand({3, 4, 5}, 64, -2, 2, t);
    auto g = fn([](const std::vector<array>& x) { return softmax(x[0] * x[1] + exp(x[0]), -1); });
    expect_vmap(g, {a, b}, {1, 1}, {}, 1e-2, 1e-2, dtype_name(t));
  }
}
