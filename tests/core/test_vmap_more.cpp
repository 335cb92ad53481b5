// vmap rules not reached by the other vmap suites, each against the explicit
// loop over slices (vmap_util.h): GgufMatmul and GgufDequantize on blocks
// written by io::gguf::quantize (Q8_0, Q4_K, Q6_K and the interleaved
// Q8_0x8, Q4_0x8), batched on each axis of x and of the blocks; and compiled
// functions (the Compiled primitive), vmapped over several axes and
// differentiated, on random elementwise graphs, against the same function
// uncompiled.
//
// Tolerances: a batched GgufMatmul runs the same per-row kernel as the loop
// (x's rows are rounded to int8 alone, each output is one row's dot
// product), so while both sides stay on one kernel path (at most 7 rows:
// the int8 panel kernels start at 8, 16 or 32 rows; or both past 512 rows,
// on dequantized panels) the values must be identical. Dequantizing is a
// table lookup and a multiply per value: identical. compile gives the
// uncompiled values bit for bit (test_compile.cpp), and Compiled's vmap and
// jvp replay its unfused steps, so they must equal the loop and the
// uncompiled jvp exactly; its vjp sums some cotangents in another order
// (see GradCompile), so gradients agree to float32 rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/grad_util.h"
#include "core/graph_util.h"
#include "core/vmap_util.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;
using namespace uma::test;
using GradCompile = test::SeededGradTest;

namespace {

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;
using io::gguf::GgmlType;

const auto kQ8_0 = uint32_t(GgmlType::Q8_0), kQ4K = uint32_t(GgmlType::Q4_K), kQ6K = uint32_t(GgmlType::Q6_K);

// Blocks of B matrices of N x K random weights of `type`: (B, N, Kb) uint8.
// An interleaved id (kGgufQ8_0x8) quantizes as its file type, then
// interleaves each matrix's rows eight at a time.
array make_blocks(uint32_t type, int B, int N, int K, uint32_t seed) {
  const uint32_t file_type = gguf_stored_type(type);
  const auto* t = io::gguf::type_traits(file_type);
  const int row_bytes = K / int(t->block_size) * int(t->type_size);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 0.05f);
  std::vector<float> src(static_cast<size_t>(K));
  std::vector<uint8_t> bytes(size_t(B) * N * row_bytes), rows(size_t(N) * row_bytes);
  for (int b = 0; b < B; ++b) {
    for (int n = 0; n < N; ++n) {
      for (auto& v : src) v = nd(rng) * float(1 + n % 3);
      io::gguf::quantize(file_type, src.data(), K, rows.data() + size_t(n) * row_bytes);
    }
    uint8_t* dst = bytes.data() + size_t(b) * N * row_bytes;
    if (file_type != type) {
      gguf_interleave_x8(type, [&](int64_t n) { return rows.data() + n * row_bytes; }, row_bytes, 0, N / 8, dst);
    } else {
      std::copy(rows.begin(), rows.end(), dst);
    }
  }
  return array(bytes.data(), {B, N, row_bytes}, uint8);
}

std::string type_name(uint32_t type) { return gguf_traits(type)->name; }

}  // namespace

// ------------------------------------------------------------ GGUF

TEST(VmapGguf, MatmulOverEachAxisOfX) {
  for (uint32_t type : {kQ8_0, kQ4K, kQ6K, kGgufQ8_0x8, kGgufQ4_0x8}) {
    SCOPED_TRACE(type_name(type));
    const int N = 8, K = 256, B = 3;
    array w = slice_at(make_blocks(type, 1, N, K, 1 + type), 0, 0);  // (N, Kb)
    auto mm = [type](const std::vector<array>& a) { return std::vector<array>{gguf_matmul(a[0], a[1], type)}; };
    // x per slice (2, K): batched (B, 2, K) on axis 0, (2, B, K) on axis 1.
    array x = vrand({B, 2, K}, 2);
    expect_vmap(mm, {x, w}, {0, -1}, {}, 0, 0, "x on axis 0");
    expect_vmap(mm, {transpose(x, {1, 0, 2}), w}, {1, -1}, {}, 0, 0, "x on axis 1");
    expect_vmap(mm, {transpose(x, {1, 0, 2}), w}, {1, -1}, {1}, 0, 0, "x on axis 1, out on axis 1");
    // x per slice a vector (K): (B, K) on axis 0, (K, B) on axis 1 (the
    // batch on x's last axis, the one the blocks run along).
    array v = vrand({B, K}, 3);
    expect_vmap(mm, {v, w}, {0, -1}, {}, 0, 0, "vector x on axis 0");
    expect_vmap(mm, {transpose(v), w}, {1, -1}, {}, 0, 0, "vector x on axis 1");
    // Batched blocks (the rule loops): alone and with x.
    array wb = make_blocks(type, B, N, K, 5 + type);
    expect_vmap(mm, {slice_at(x, 0, 0), wb}, {-1, 0}, {}, 0, 0, "blocks on axis 0");
    expect_vmap(mm, {transpose(x, {1, 0, 2}), transpose(wb, {1, 0, 2})}, {1, 1}, {}, 0, 0, "x and blocks on axis 1");
  }
}

TEST(VmapGguf, MatmulPastTheDotKernelRows) {
  // 520 rows of x per slice: both the loop and the batched call multiply on
  // dequantized panels (more than 512 rows), so they still agree exactly.
  for (uint32_t type : {kQ8_0, kQ4K}) {
    SCOPED_TRACE(type_name(type));
    array w = slice_at(make_blocks(type, 1, 8, 256, 11), 0, 0);
    auto mm = [type](const std::vector<array>& a) { return std::vector<array>{gguf_matmul(a[0], a[1], type)}; };
    array x = vrand({2, 520, 256}, 12);
    expect_vmap(mm, {x, w}, {0, -1}, {}, 0, 0, "x on axis 0");
    expect_vmap(mm, {transpose(x, {1, 0, 2}), w}, {1, -1}, {}, 0, 0, "x on axis 1");
  }
}

TEST(VmapGguf, DequantizeOverEachAxisOfTheBlocks) {
  // Blocks per slice (N, Kb), batched on axis 0 (B, N, Kb), 1 (N, B, Kb) and
  // 2, the bytes' axis (N, Kb, B). The interleaved layouts on axes 0 and 2
  // only: axis 1 is the next test.
  for (uint32_t type : {kQ8_0, kQ4K, kQ6K, kGgufQ8_0x8, kGgufQ4_0x8}) {
    for (Dtype dt : {float32, bfloat16}) {
      SCOPED_TRACE(type_name(type) + " to " + dtype_name(dt));
      const bool x8 = gguf_stored_type(type) != type;
      array wb = make_blocks(type, 3, 8, 512, 21 + type);
      auto dq = [type, dt](const std::vector<array>& a) { return std::vector<array>{gguf_dequantize(a[0], type, dt)}; };
      expect_vmap(dq, {wb}, {0}, {}, 0, 0, "blocks on axis 0");
      expect_vmap(dq, {transpose(wb, {1, 2, 0})}, {2}, {}, 0, 0, "blocks on axis 2");
      if (!x8) {
        expect_vmap(dq, {transpose(wb, {1, 0, 2})}, {1}, {}, 0, 0, "blocks on axis 1");
        expect_vmap(dq, {transpose(wb, {1, 0, 2})}, {1}, {-1}, 0, 0, "blocks on axis 1, out on the last axis");
        // One row of blocks per slice (Kb): (B, Kb) and (Kb, B). (An
        // interleaved matrix needs whole groups of 8 rows.)
        array rows = reshape(wb, {24, wb.shape(2)});
        expect_vmap(dq, {rows}, {0}, {}, 0, 0, "rows on axis 0");
        expect_vmap(dq, {transpose(rows)}, {1}, {}, 0, 0, "rows on axis 1");
      }
      // Slices of two matrices (2, N, Kb): the batch before and after the
      // matrices' axis.
      array w4 = reshape(make_blocks(type, 6, 8, 512, 31 + type), {3, 2, 8, wb.shape(2)});
      expect_vmap(dq, {w4}, {0}, {}, 0, 0, "(2, N, Kb) slices on axis 0");
      expect_vmap(dq, {transpose(w4, {1, 0, 2, 3})}, {1}, {}, 0, 0, "(2, N, Kb) slices on axis 1");
    }
  }
}

// The interleaved layouts (Q8_0x8, Q4_0x8) decode each run of 8 rows along
// axis -2 as one group, so GgufDequantize's vmap rule moves a batch axis at
// -2 ((N, B, Kb): the batch between the rows and the bytes) to the front, as
// it does one at -1; before that rule the rows were mixed across the batch
// (wrong values, no error), which this test caught.
TEST(VmapGguf, DequantizeInterleavedWithTheBatchBeforeTheBytes) {
  for (uint32_t type : {kGgufQ8_0x8, kGgufQ4_0x8}) {
    array wb = make_blocks(type, 3, 8, 512, 41 + type);  // (B, N, Kb)
    array w4 = reshape(make_blocks(type, 6, 8, 512, 51 + type), {3, 2, 8, wb.shape(2)});
    auto dq = [type](const std::vector<array>& a) { return std::vector<array>{gguf_dequantize(a[0], type)}; };
    struct Case {
      std::string what;
      array w;
      int axis;
    };
    for (auto& k : {Case{"blocks (N, B, Kb) on axis 1", transpose(wb, {1, 0, 2}), 1},
                    Case{"(2, N, Kb) slices on axis 2", transpose(w4, {1, 2, 0, 3}), 2}}) {
      // Counted rather than stopped at the first difference, to show how
      // much of the result is wrong.
      auto got = vmap(dq, {k.axis})({k.w})[0].to_vector<float>();
      auto want = vmap_loop(dq, {k.w}, {k.axis}, {})[0].to_vector<float>();
      ASSERT_EQ(got.size(), want.size());
      size_t differ = 0;
      for (size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i];
      EXPECT_EQ(differ, 0u) << type_name(type) << ", " << k.what << ": " << differ << " of " << got.size()
                            << " values differ from the loop";
    }
  }
}

// ------------------------------------------------------------ compile

namespace {

// Gradients summed in another order (see below): float32 rounding.
constexpr double kSumOrderRtol = 1e-5;

// A random elementwise graph of x, y (per slice (3, 5)) and z (per slice
// (5), broadcast against them): 12 steps over earlier values, two outputs.
// Domains are kept safe (log and sqrt of 1 + |v|, division by 1 + |v|), so
// no NaN hides a difference.
Fn random_graph(uint32_t seed) {
  return [seed](const std::vector<array>& in) {
    std::mt19937 g(seed);
    std::vector<array> pool = in;
    auto pick = [&] { return pool[g() % pool.size()]; };
    auto pos = [](const array& v) { return add(abs(v), array(1.0f)); };
    for (int k = 0; k < 12; ++k) {
      switch (g() % 10) {
        case 0: pool.push_back(exp(multiply(pick(), array(0.3f)))); break;
        case 1: pool.push_back(tanh(pick())); break;
        case 2: pool.push_back(add(pick(), pick())); break;
        case 3: pool.push_back(multiply(pick(), pick())); break;
        case 4: pool.push_back(subtract(sin(pick()), pick())); break;
        case 5: pool.push_back(divide(pick(), pos(pick()))); break;
        case 6: pool.push_back(log(pos(pick()))); break;
        case 7: pool.push_back(multiply(sqrt(pos(pick())), sigmoid(pick()))); break;
        case 8: pool.push_back(maximum(pick(), negative(pick()))); break;
        default: pool.push_back(where(greater(pick(), pick()), pick(), square(pick()))); break;
      }
    }
    // Outputs shaped like x (a broadcast of z alone would not be).
    array a = add(pool.back(), multiply(in[0], array(0.0f)));
    array b = multiply(pool[pool.size() - 4], in[1]);
    return std::vector<array>{a, b};
  };
}

}  // namespace

TEST(VmapCompile, RandomElementwiseGraphsOverAxes0And1) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Fn f = random_graph(seed);
    Fn cf = compile(f);
    const int B = 4;
    array x = vrand({B, 3, 5}, 100 + seed), y = vrand({B, 3, 5}, 200 + seed), z = vrand({B, 5}, 300 + seed);
    // The compiled slice function fuses (so the Compiled rule is what vmap
    // meets) and equals the uncompiled one.
    auto one = cf({slice_at(x, 0, 0), slice_at(y, 0, 0), slice_at(z, 0, 0)});
    ASSERT_TRUE(!nodes_of(one, "Compiled").empty());
    auto plain = f({slice_at(x, 0, 0), slice_at(y, 0, 0), slice_at(z, 0, 0)});
    for (size_t j = 0; j < one.size(); ++j) expect_same(one[j], plain[j], 0, 0, "compiled slice");
    array x1 = transpose(x, {1, 0, 2}), y1 = transpose(y, {1, 0, 2}), z1 = transpose(z);
    expect_vmap(cf, {x, y, z}, {0, 0, 0}, {}, 0, 0, "axis 0");
    expect_vmap(cf, {x1, y1, z1}, {1, 1, 1}, {}, 0, 0, "axis 1");
    expect_vmap(cf, {x1, y1, z1}, {1, 1, 1}, {1, 0}, 0, 0, "axis 1, outputs on 1 and 0");
    expect_vmap(cf, {x1, y, slice_at(z, 0, 0)}, {1, 0, -1}, {}, 0, 0, "axes 1, 0 and z shared");
    expect_vmap(cf, {slice_at(x, 0, 0), y1, z1}, {-1, 1, 1}, {}, 0, 0, "x shared");
    // and vmap of the compiled function equals vmap of the plain one.
    auto got = vmap(cf, {1, 0, -1})({x1, y, slice_at(z, 0, 0)});
    auto want = vmap(f, {1, 0, -1})({x1, y, slice_at(z, 0, 0)});
    for (size_t j = 0; j < got.size(); ++j) expect_same(got[j], want[j], 0, 0, "vmap(compile(f)) vs vmap(f)");
    if (HasFailure()) return;
  }
}

TEST_F(GradCompile, RandomElementwiseGraphsAgainstTheUncompiledGradient) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Fn f = random_graph(seed);
    Fn cf = compile(f);
    std::vector<array> xs{vrand({3, 5}, 400 + seed), vrand({3, 5}, 500 + seed), vrand({5}, 600 + seed)};
    ASSERT_TRUE(!nodes_of(cf(xs), "Compiled").empty());
    // A scalar of both outputs, the gradient in every input.
    auto loss = [](const Fn& fn) {
      return [fn](const std::vector<array>& in) {
        auto o = fn(in);
        return add(sum(o[0]), sum(multiply(o[1], o[1])));
      };
    };
    // Not bit for bit: the trace's common subexpressions are merged, so a
    // value used twice (tanh(x) built twice) gets one node whose cotangents
    // are summed before its rule runs, where the uncompiled graph runs the
    // rule twice and sums after; float32 rounding (seen up to 5e-7 relative).
    auto gc = grad(loss(cf), std::vector<int>{0, 1, 2})(xs);
    auto gp = grad(loss(f), std::vector<int>{0, 1, 2})(xs);
    ASSERT_EQ(gc.size(), 3u);
    for (size_t i = 0; i < gc.size(); ++i) {
      expect_same(gc[i], gp[i], kSumOrderRtol, kSumOrderRtol, "grad in input " + std::to_string(i));
    }
    // vjp of both outputs and jvp, against the uncompiled ones (jvp runs a
    // merged node's rule once on the same tangent: exact).
    std::vector<array> cots{vrand({3, 5}, 700 + seed), vrand({3, 5}, 800 + seed)};
    auto vc = uma::vjp(cf, xs, cots).second, vp = uma::vjp(f, xs, cots).second;
    for (size_t i = 0; i < vc.size(); ++i) {
      expect_same(vc[i], vp[i], kSumOrderRtol, kSumOrderRtol, "vjp in input " + std::to_string(i));
    }
    std::vector<array> tans{vrand({3, 5}, 900 + seed), vrand({3, 5}, 1000 + seed), vrand({5}, 1100 + seed)};
    auto jc = uma::jvp(cf, xs, tans).second, jp = uma::jvp(f, xs, tans).second;
    for (size_t j = 0; j < jc.size(); ++j) expect_same(jc[j], jp[j], 0, 0, "jvp of output " + std::to_string(j));
    // The batched gradient: vmap of grad of the compiled function against
    // the loop, over axis 1 of x and axis 0 of y, z shared.
    const int B = 3;
    array xb = vrand({3, B, 5}, 1200 + seed), yb = vrand({B, 3, 5}, 1300 + seed);
    Fn gfun = [&](const std::vector<array>& in) { return grad(loss(cf), std::vector<int>{0, 1})(in); };
    expect_vmap(gfun, {xb, yb, xs[2]}, {1, 0, -1}, {}, 0, 0, "vmap of grad");
    if (HasFailure()) return;
  }
}

TEST_F(GradCompile, CompiledFunctionAgainstCentralDifferences) {
  // The compiled rules against central differences of the same graph run
  // uncompiled in float64 (compile fuses float32 only): a step of 1e-6 in
  // float64 is exact to ~1e-9, so what is left is the float32 rounding of
  // the compiled gradient (~1e-6 relative per element).
  for (uint32_t seed = 0; seed < 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Fn f = random_graph(seed);
    Fn cf = compile(f);
    std::vector<array> xs{vrand({3, 5}, 1400 + seed), vrand({3, 5}, 1500 + seed), vrand({5}, 1600 + seed)};
    std::vector<array> xs64;
    for (auto& a : xs) xs64.push_back(astype(a, float64));
    for (int i = 0; i < 3; ++i) {
      // Output 1 as a function of input i, the others held.
      auto at = [&](const std::vector<array>& in) {
        return [&, i](const array& a) {
          std::vector<array> v = in;
          v[size_t(i)] = a;
          return v[0].dtype() == float32 ? cf(v)[1] : f(v)[1];
        };
      };
      array c = randn({3, 5}), d = randn(xs[size_t(i)].shape());
      array g = uma::vjp(test::UnaryFn(at(xs)), xs[size_t(i)], astype(c, float32)).second;
      array t = uma::jvp(test::UnaryFn(at(xs)), xs[size_t(i)], astype(d, float32)).second;
      double fd = test::fd_directional(at(xs64), xs64[size_t(i)], d, c, 1e-6);
      EXPECT_NEAR(inner_product(g, d), fd, 1e-4 * (1 + std::abs(fd))) << "vjp in input " << i;
      EXPECT_NEAR(inner_product(c, t), fd, 1e-4 * (1 + std::abs(fd))) << "jvp in input " << i;
    }
  }
}
