// compile: compiled functions give the uncompiled values (bit for bit: the
// fused steps use the unfused kernels' math and round half steps alike),
// trace once per signature, fold constants, merge common subexpressions,
// fuse elementwise chains without creating cycles, and differentiate.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;

namespace {

std::mt19937 rng(3);

array random_array(Shape shape, Dtype t = float32, double lo = -2, double hi = 2) {
  size_t n = 1;
  for (int s : shape) n *= size_t(s);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return astype(array(v, shape), t);
}

void expect_identical(array a, array b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(y[i])) {
      EXPECT_TRUE(std::isnan(x[i])) << "at " << i;
    } else {
      EXPECT_EQ(x[i], y[i]) << "at " << i;
    }
  }
}

std::string describe(const array& a) {
  std::ostringstream os;
  a.primitive().print(os);
  return os.str();
}

// Ten elementwise steps, the benchmark's chain: scalars, math and a select.
std::vector<array> chain(const std::vector<array>& in) {
  const array& x = in[0];
  const array& y = in[1];
  array a = add(multiply(x, array(1.5f, x.dtype())), y);
  array b = exp(negative(square(a)));
  array c = tanh(subtract(b, array(0.25f, x.dtype())));
  array d = where(greater(x, y), c, sigmoid(y));
  array e = maximum(d, divide(a, add(abs(y), array(1.0f, x.dtype()))));
  return {multiply(e, sqrt(add(square(x), array(1.0f, x.dtype()))))};
}

}  // namespace

TEST(Compile, ElementwiseChainsEqualTheUncompiledValues) {
  auto cf = compile(chain);
  for (Dtype t : {float32, float16, bfloat16}) {
    for (Shape s : {Shape{7}, Shape{3, 1000}, Shape{2, 3, 517}}) {
      array x = random_array(s, t), y = random_array(s, t);
      array got = cf({x, y})[0];
      EXPECT_EQ(got.primitive().name(), std::string("Compiled")) << describe(got);
      expect_identical(got, chain({x, y})[0]);
    }
  }
}

TEST(Compile, NonContiguousInputsAndOtherPrimitivesInBetween) {
  auto f = [](const std::vector<array>& in) {
    array h = exp(multiply(in[0], in[0]));
    array m = matmul(h, in[1]);  // not fusible: splits the chain
    return std::vector<array>{add(sigmoid(m), log(add(m, array(9.f)))), h};
  };
  auto cf = compile(f);
  array a = transpose(random_array({6, 5}), {1, 0}), b = random_array({6, 4});
  auto got = cf({a, b});
  auto want = f({a, b});
  expect_identical(got[0], want[0]);
  expect_identical(got[1], want[1]);
}

TEST(Compile, TracesOncePerSignatureAndShapelessOncePerRank) {
  int traces = 0;
  auto f = [&](const std::vector<array>& in) {
    ++traces;
    return std::vector<array>{exp(add(in[0], in[0]))};
  };
  auto cf = compile(f);
  cf({random_array({4})});
  cf({random_array({4})});
  EXPECT_EQ(traces, 1);
  cf({random_array({5})});
  EXPECT_EQ(traces, 2);
  cf({random_array({5}, float16)});
  EXPECT_EQ(traces, 3);
  traces = 0;
  auto sf = compile(f, /*shapeless=*/true);
  array x = random_array({3, 4});
  expect_identical(sf({x})[0], exp(add(x, x)));
  array y = random_array({2, 9});
  expect_identical(sf({y})[0], exp(add(y, y)));
  EXPECT_EQ(traces, 1);
}

// A shapeless trace that baked a shape in: the captured w is broadcast to
// the traced input's shape (2, 3) and folded into a constant of that shape,
// and a reshape records its target. Other shapes of the same rank get a
// trace of their own (before, the fused kernel read past the constant), and
// the traced shape and shapes the graph does take keep the one trace.
TEST(Compile, ShapelessRetracesShapesTheGraphBakedIn) {
  array w = array({0.5f, -1.f, 2.f});
  int traces = 0;
  auto f = [&](const std::vector<array>& in) {
    ++traces;
    return std::vector<array>{add(exp(multiply(broadcast_to(w, in[0].shape()), in[0])), in[0])};
  };
  auto sf = compile(f, /*shapeless=*/true);
  array a = random_array({2, 3});
  expect_identical(sf({a})[0], add(exp(multiply(w, a)), a));
  EXPECT_EQ(traces, 1);
  for (int rows : {7, 1, 64}) {
    array b = random_array({rows, 3});
    expect_identical(sf({b})[0], add(exp(multiply(w, b)), b));
  }
  EXPECT_EQ(traces, 4);  // one per new shape: the constant has the traced one
  sf({random_array({7, 3})});
  EXPECT_EQ(traces, 4);  // and each is kept
  // A fixed reshape: (2, 6) -> (3, 4) traced; (4, 6) cannot take it.
  traces = 0;
  auto g = [&](const std::vector<array>& in) {
    ++traces;
    return std::vector<array>{exp(reshape(in[0], {3, 4}))};
  };
  auto sg = compile(g, /*shapeless=*/true);
  array c = random_array({2, 6});
  expect_identical(sg({c})[0], exp(reshape(c, {3, 4})));
  EXPECT_THROW(sg({random_array({4, 6})}), std::invalid_argument);  // as the uncompiled reshape
  EXPECT_EQ(traces, 2);
}

TEST(Compile, MergesCommonSubexpressionsAndFoldsConstants) {
  array k = array({0.5f, 1.5f, 2.5f});
  int traces = 0;
  auto f = [&](const std::vector<array>& in) {
    ++traces;
    array c = exp(k);  // no input: computed once, at trace time
    return std::vector<array>{add(exp(in[0]), add(exp(in[0]), c))};
  };
  auto cf = compile(f);
  array x = random_array({3});
  array got = cf({x})[0];
  EXPECT_EQ(describe(got), "Compiled(Exp Add Add)");
  for (auto& in : got.inputs()) EXPECT_TRUE(in.is_available() || in.is_same(x) || !in.has_primitive());
  expect_identical(got, add(exp(x), add(exp(x), exp(k))));
}

TEST(Compile, AnOperandComputedFromTheChainEndsTheChain) {
  // b needs sum(a), which needs a: fusing a and b together would be a cycle.
  auto f = [](const std::vector<array>& in) {
    array a = exp(in[0]);
    array s = sum(a, std::vector<int>{0}, true);
    return std::vector<array>{multiply(log(a), s)};
  };
  array x = random_array({8});
  expect_identical(compile(f)({x})[0], f({x})[0]);
}

TEST(Compile, DisabledCompileCallsTheFunction) {
  int calls = 0;
  auto cf = compile([&](const std::vector<array>& in) {
    ++calls;
    return std::vector<array>{exp(in[0])};
  });
  array x = random_array({2});
  disable_compile();
  cf({x});
  cf({x});
  enable_compile();
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(compile_enabled());
}

TEST(Compile, CompiledFunctionsDifferentiate) {
  auto cf = compile(chain);
  array x = random_array({33}, float64), y = random_array({33}, float64);
  // Float64 is not fused; float32 is: both must differentiate.
  for (Dtype t : {float64, float32}) {
    array xt = astype(x, t), yt = astype(y, t);
    auto loss = [&](const ArrayFn& fn) {
      return [fn](const std::vector<array>& in) { return sum(fn(in)[0]); };
    };
    auto g1 = grad(loss(cf), std::vector<int>{0, 1})({xt, yt});
    auto g2 = grad(loss(chain), std::vector<int>{0, 1})({xt, yt});
    test::expect_close(g1[0], g2[0].to_vector<double>(), 1e-6, 1e-6);
    test::expect_close(g1[1], g2[1].to_vector<double>(), 1e-6, 1e-6);
  }
}

TEST(Compile, IndependentBranchesOfAChainFuseIntoOneKernel) {
  // abs(x) and y * 3 start branches of their own that the chain then reads.
  auto f = [](const std::vector<array>& in) {
    const array& x = in[0];
    const array& y = in[1];
    array a = subtract(multiply(add(x, y), array(0.5f)), y);
    array b = maximum(multiply(a, a), abs(x));
    array c = minimum(add(b, array(1.0f)), multiply(y, array(3.0f)));
    return std::vector<array>{multiply(negative(c), x)};
  };
  array x = random_array({9}), y = random_array({9});
  array got = compile(f)({x, y})[0];
  EXPECT_EQ(describe(got), "Compiled(Add Multiply Subtract Multiply Abs Maximum Add Multiply Minimum Negative Multiply)");
  for (auto& in : got.inputs()) EXPECT_FALSE(in.has_primitive() && in.primitive().name() == std::string("Compiled"));
  expect_identical(got, f({x, y})[0]);
}

TEST(Compile, RandomGraphsMixingFusedAndUnfusedNodes) {
  // Fusible steps between reductions and matmuls, on random earlier values:
  // grouping must never make a kernel wait on a node that waits on it.
  for (uint32_t seed = 0; seed < 150; ++seed) {
    auto f = [seed](const std::vector<array>& in) {
      std::mt19937 g(seed);
      std::vector<array> pool = in;
      auto pick = [&] { return pool[g() % pool.size()]; };
      for (int k = 0; k < 16; ++k) {
        switch (g() % 8) {
          case 0: pool.push_back(exp(multiply(pick(), array(0.1f)))); break;
          case 1: pool.push_back(tanh(pick())); break;
          case 2: pool.push_back(add(pick(), pick())); break;
          case 3: pool.push_back(multiply(pick(), pick())); break;
          case 4: pool.push_back(maximum(pick(), negative(pick()))); break;
          case 5: pool.push_back(add(pick(), sum(pick(), std::vector<int>{1}, true))); break;
          case 6: pool.push_back(multiply(matmul(pick(), pick()), array(0.25f))); break;
          default: pool.push_back(where(greater(pick(), pick()), pick(), sigmoid(pick()))); break;
        }
      }
      return std::vector<array>{pool.back(), pool[pool.size() - 5], pool[pool.size() - 9]};
    };
    array x = random_array({4, 4}), y = random_array({4, 4});
    auto got = compile(f)({x, y});
    auto want = f({x, y});
    for (size_t k = 0; k < want.size(); ++k) expect_identical(got[k], want[k]);
    if (HasFailure()) FAIL() << "seed " << seed;
  }
}
