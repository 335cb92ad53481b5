// vmap: the transform (axes, errors, unbatched outputs, nesting, grad inside)
// and the rules of the elementwise, shape, reduction and matmul families,
// each against the explicit loop over slices.
#include <gtest/gtest.h>

#include "uma/core/primitive.h"
#include "uma/uma.h"
#include "vmap_util.h"

using namespace uma;
using namespace uma::test;

namespace {

// A few in_axes/out_axes combinations for a 1-input function of x (3, 4, 5).
void check_unary(const Fn1& f, const array& x, double rtol, double atol, const std::string& what) {
  for (int in : {0, 1, 2}) {
    for (int out : {0, -1}) {
      expect_vmap(lift(f), {x}, {in}, {out}, rtol, atol, what);
    }
  }
  // Non-contiguous: a transposed input.
  expect_vmap(lift(f), {transpose(x, {2, 0, 1})}, {1}, {-1}, rtol, atol, what + " (transposed)");
}

void check_binary(const Fn2& f, const array& a, const array& b, double rtol, double atol, const std::string& what) {
  // a, b: (3, 4, 5); -1 maps nothing: b (3, 4, 5) unbatched pairs with a
  // slice of (4, 5) only through broadcasting, so those cases take b's slice.
  expect_vmap(lift(f), {a, b}, {0, 0}, {0}, rtol, atol, what);
  expect_vmap(lift(f), {a, transpose(b, {0, 2, 1})}, {1, 2}, {1}, rtol, atol, what);
  expect_vmap(lift(f), {a, slice_at(b, 0, 1)}, {0, -1}, {1}, rtol, atol, what);
  expect_vmap(lift(f), {slice_at(a, 2, 0), b}, {-1, 2}, {-1}, rtol, atol, what);
  expect_vmap(lift(f), {transpose(a, {1, 0, 2}), b}, {1, 0}, {0}, rtol, atol, what + " (transposed)");
}

}  // namespace

// ------------------------------------------------------------ the transform

TEST(Vmap, Errors) {
  array x = ones({3, 4}), y = ones({5, 4});
  auto id = [](const std::vector<array>& xs) { return xs; };
  EXPECT_THROW(vmap(id, {0})({x, y}), std::invalid_argument);      // in_axes size
  EXPECT_THROW(vmap(id, {2})({x}), std::invalid_argument);         // out of range
  EXPECT_THROW(vmap(id, {-2})({x}), std::invalid_argument);        // only -1 is negative
  EXPECT_THROW(vmap(id, {0})({array(1.f)}), std::invalid_argument);  // 0-d
  EXPECT_THROW(vmap(id, {0, 0})({x, y}), std::invalid_argument);   // sizes 3 and 5
  EXPECT_THROW(vmap(id, {-1, -1})({x, y}), std::invalid_argument);  // nothing mapped
  EXPECT_THROW(vmap(id, {0}, {0, 0})({x}), std::invalid_argument);   // out_axes size
  EXPECT_THROW(vmap(id, {0}, {2})({x}), std::invalid_argument);      // output has 2 dims
  try {
    vmap(id, {0, 0})({x, y});
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("[vmap]", 0), 0u) << e.what();
  }
  // The function cannot read the values of a mapped input while traced.
  auto reads = [](const array& a) { return a * sum(a).item<float>(); };
  EXPECT_THROW(vmap(Fn1(reads))(x), std::invalid_argument);
}

TEST(Vmap, AxesAndIdentity) {
  array x = vrand({3, 4, 5}, 1);
  auto id = [](const std::vector<array>& xs) { return xs; };
  for (int in : {0, 1, 2}) {
    for (int out : {0, 1, 2, -1, -2}) expect_vmap(id, {x}, {in}, {out});
  }
  // Default axes; the one- and two-array overloads.
  expect_same(vmap(Fn1([](const array& a) { return exp(a); }))(x), exp(x), 0, 0, "overload 1");
  expect_same(vmap(Fn2([](const array& a, const array& b) { return a - b; }), 1, -1, 1)(x, ones({3, 5})),
              x - ones({3, 1, 5}), 0, 0, "overload 2");
}

TEST(Vmap, UnbatchedOutputsAndInputs) {
  array x = vrand({3, 4}, 2), w = vrand({4}, 3);
  auto f = [&](const std::vector<array>& xs) {
    // Outputs: batched, unbatched (depends only on w), constant, an input.
    return std::vector<array>{xs[0] * xs[1], exp(xs[1]), arange(3.0, float32), xs[1]};
  };
  expect_vmap(f, {x, w}, {0, -1});
  expect_vmap(f, {transpose(x), w}, {1, -1}, {1, 0, -1, 1});
  auto out = vmap(f, {0, -1})({x, w});
  EXPECT_EQ(out[1].shape(), (Shape{3, 4}));
  EXPECT_EQ(out[2].shape(), (Shape{3, 3}));
}

TEST(Vmap, MultipleUsesAndSharedNodes) {
  array x = vrand({3, 4}, 4), y = vrand({3, 4}, 5);
  auto f = [](const std::vector<array>& xs) {
    array t = xs[0] * xs[1];
    array u = t + xs[0];
    return std::vector<array>{u * t, sum(u, -1), t};
  };
  expect_vmap(f, {x, y}, {0, 0}, {}, 1e-6, 1e-6);
  expect_vmap(f, {x, y}, {1, 1}, {1, 0, 0}, 1e-6, 1e-6);
  array sq = vrand({4, 4}, 17);
  expect_vmap(f, {sq, sq}, {0, 1}, {}, 1e-6, 1e-6);  // the same array mapped two ways
}

TEST(Vmap, Nested) {
  array x = vrand({2, 3, 4}, 6), y = vrand({3, 4}, 7);
  auto inner = [](const std::vector<array>& xs) { return std::vector<array>{sum(xs[0] * xs[1], -1)}; };
  // vmap over the 3 rows inside a vmap over the 2 matrices.
  auto vv = vmap(vmap(inner, {0, 0}), {0, -1});
  auto got = vv({x, y})[0];
  auto loop = [&](const std::vector<array>& xs) { return vmap_loop(inner, {xs[0], xs[1]}, {0, 0}, {0}); };
  auto expected = vmap_loop(loop, {x, y}, {0, -1}, {0})[0];
  expect_same(got, expected, 1e-6, 1e-6, "nested");
  // Inner axis 1 of the slice, outer axis 2.
  auto vv2 = vmap(vmap(inner, {1, -1}, {0}), {2, -1}, {1});
  auto loop2 = [&](const std::vector<array>& xs) {
    return vmap_loop(inner, {xs[0], xs[1]}, {1, -1}, {0});
  };
  array z = vrand({3, 5, 4}, 8), w = vrand({3}, 9);
  expect_same(vv2({z, w})[0], vmap_loop(loop2, {z, w}, {2, -1}, {1})[0], 1e-6, 1e-6, "nested axes");
}

// Gradient rules of this branch's base cover the matmul, manipulation and
// indexing families; the elementwise and reduction rules come from the grad
// branches, and the cases that need them skip until then.
TEST(Vmap, OfVjp) {
  array x = vrand({4, 2, 3}, 10), w = vrand({3, 5}, 11), c = vrand({4, 2, 5}, 12);
  auto f = [&](const std::vector<array>& xs) {
    auto [outs, vjps] = vjp([&](const std::vector<array>& a) { return std::vector<array>{matmul(a[0], w)}; },
                            {xs[0]}, {xs[1]});
    return std::vector<array>{outs[0], vjps[0]};
  };
  expect_vmap(f, {x, c}, {0, 0}, {}, 1e-5, 1e-5, "vjp of matmul");
  expect_vmap(f, {transpose(x, {1, 0, 2}), c}, {1, 0}, {-1, 1}, 1e-5, 1e-5, "vjp of matmul, axes");
  expect_vmap(f, {slice_at(x, 0, 0), c}, {-1, 0}, {}, 1e-5, 1e-5, "vjp, unbatched primal");
  // vjp of a vmapped function (batch axis 0 needs no transpose).
  auto vm = vmap(lift(Fn2([](const array& a, const array& b) { return matmul(a, b); })), {0, -1});
  auto [outs, vjps] = vjp([&](const std::vector<array>& a) { return vm({a[0], w}); }, {x}, {c});
  expect_same(vjps[0], matmul(c, transpose(w)), 1e-5, 1e-5, "vjp of vmap");
}

TEST(Vmap, OfGrad) {
  array x = vrand({4, 3}, 16);
  auto loss = [](const array& a) { return sum(sin(a) * a); };
  auto g = grad(std::function<array(const array&)>(loss));
  expect_vmap(lift(Fn1(g)), {x}, {0}, {}, 1e-6, 1e-6, "grad");
  expect_vmap(lift(Fn1(g)), {x}, {1}, {-1}, 1e-6, 1e-6, "grad axis 1");
  auto h = [](const array& a) { return sum(vmap(Fn1([](const array& r) { return exp(r) * sum(r); }), 1)(a)); };
  auto gh = grad(std::function<array(const array&)>(h))(x);
  auto gl = grad(std::function<array(const array&)>([](const array& a) {
    return sum(exp(a) * sum(a, 0, true));
  }))(x);
  expect_same(gh, gl, 1e-5, 1e-5, "grad of vmap");
  // jvp of a vmapped custom function uses its (vmapped) jvp rule.
  auto fun = [](const std::vector<array>& a) { return std::vector<array>{a[0] * a[1] + 1.0}; };
  auto scaled = custom_function(fun, {}, [](const std::vector<array>& p, const std::vector<array>& t,
                                            const std::vector<int>& argnums) {
    array out = zeros_like(p[0] * p[1]);
    for (size_t k = 0; k < argnums.size(); ++k) out = out + t[k] * p[1 - argnums[k]] * 5.0;
    return std::vector<array>{out};
  });
  array y = vrand({3}, 17), tx = vrand({4, 3}, 19), ty = vrand({3}, 20);
  auto [jo, jt] = jvp(vmap(scaled, {1, -1}), {transpose(x), y}, {transpose(tx), ty});
  expect_same(jt[0], (tx * y + ty * x) * 5.0, 1e-5, 1e-5, "batched custom jvp");
}

TEST(Vmap, CustomFunctionAndDepends) {
  array x = vrand({3, 4}, 13), y = vrand({4}, 14);
  auto fun = [](const std::vector<array>& a) { return std::vector<array>{a[0] * a[1] + 1.0}; };
  auto custom = custom_vjp(fun, [](const std::vector<array>& p, const std::vector<array>& c,
                                   const std::vector<array>&) { return std::vector<array>{c[0] * p[1], c[0] * p[0]}; });
  expect_vmap(custom, {x, y}, {0, -1}, {}, 1e-6, 1e-6, "custom_vjp");
  // The custom rules carry over to the batched function: a deliberately
  // scaled vjp, and the cotangent of the shared primal sums over
  // the batch.
  auto scaled = custom_function(
      fun,
      [](const std::vector<array>& p, const std::vector<array>& c, const std::vector<array>&) {
        return std::vector<array>{c[0] * p[1] * 3.0, c[0] * p[0]};
      },
      {});
  array cot = vrand({3, 4}, 18);
  auto [vo, vg] = vjp(vmap(scaled, {0, -1}), {x, y}, {cot});
  expect_same(vo[0], x * y + 1.0, 1e-6, 1e-6, "batched custom output");
  expect_same(vg[0], cot * y * 3.0, 1e-6, 1e-6, "batched custom vjp, batched primal");
  expect_same(vg[1], sum(cot * x, 0), 1e-5, 1e-5, "batched custom vjp, shared primal");
  // The batched jvp rule, called on the batched node itself (the jvp
  // transform would also need the rules of the traced outputs' nodes).
  auto jscaled = custom_function(fun, {}, [](const std::vector<array>& p, const std::vector<array>& t,
                                             const std::vector<int>& argnums) {
    array out = zeros_like(p[0] * p[1]);
    for (size_t k = 0; k < argnums.size(); ++k) out = out + t[k] * p[1 - argnums[k]] * 5.0;
    return std::vector<array>{out};
  });
  array jout = vmap(jscaled, {1, -1})({transpose(x), y})[0];
  array tx = vrand({3, 4}, 19), ty = vrand({4}, 20);
  auto jt = jout.primitive().jvp(jout.inputs(), {transpose(tx), ty}, {1, 2});
  expect_same(jt.at(0), (tx * y + ty * x) * 5.0, 1e-5, 1e-5, "batched custom jvp");
  // A custom vmap rule is used (here one that adds 100 to tell it apart).
  auto with_vmap = custom_function(
      fun, {}, {}, [](const std::vector<array>& in, const std::vector<int>& axes) {
        array a = axes[0] == 0 ? in[0] : moveaxis(in[0], axes[0], 0);
        return std::make_pair(std::vector<array>{a * in[1] + 101.0}, std::vector<int>{0});
      });
  auto out = vmap(with_vmap, {1, -1})({transpose(x), y})[0];
  expect_same(out, x * y + 101.0, 1e-6, 1e-6, "custom vmap rule");
  // checkpoint (a CustomTransforms) under vmap, and grad through it.
  auto ck = checkpoint([](const std::vector<array>& a) { return std::vector<array>{sin(a[0]) * a[0]}; });
  expect_vmap(ck, {x}, {1}, {}, 1e-6, 1e-6, "checkpoint");
  // depends: the passed-through arrays keep their batch axes.
  auto dep = [](const std::vector<array>& a) { return depends({a[0] * 2.0, a[1]}, {a[1] + 1.0}); };
  expect_vmap(dep, {x, y}, {0, -1}, {}, 0, 0, "depends");
}

// ------------------------------------------------------------ elementwise

TEST(VmapElementwise, Unary) {
  array x = vrand({3, 4, 5}, 20, 0.1, 0.9);  // in every domain (log, arcsin, arccosh after +1, ...)
  std::vector<std::pair<std::string, Fn1>> fs{
      {"abs", [](const array& a) { return abs(a - 0.5); }},
      {"negative", [](const array& a) { return negative(a); }},
      {"sign", [](const array& a) { return sign(a - 0.5); }},
      {"exp", [](const array& a) { return exp(a); }},
      {"expm1", [](const array& a) { return expm1(a); }},
      {"log", [](const array& a) { return log(a); }},
      {"log2", [](const array& a) { return log2(a); }},
      {"log10", [](const array& a) { return log10(a); }},
      {"log1p", [](const array& a) { return log1p(a); }},
      {"sqrt", [](const array& a) { return sqrt(a); }},
      {"rsqrt", [](const array& a) { return rsqrt(a); }},
      {"square", [](const array& a) { return square(a); }},
      {"sin", [](const array& a) { return sin(a); }},
      {"cos", [](const array& a) { return cos(a); }},
      {"tan", [](const array& a) { return tan(a); }},
      {"arcsin", [](const array& a) { return arcsin(a); }},
      {"arccos", [](const array& a) { return arccos(a); }},
      {"arctan", [](const array& a) { return arctan(a); }},
      {"sinh", [](const array& a) { return sinh(a); }},
      {"cosh", [](const array& a) { return cosh(a); }},
      {"tanh", [](const array& a) { return tanh(a); }},
      {"arcsinh", [](const array& a) { return arcsinh(a); }},
      {"arccosh", [](const array& a) { return arccosh(a + 1.0); }},
      {"arctanh", [](const array& a) { return arctanh(a); }},
      {"erf", [](const array& a) { return erf(a); }},
      {"erfinv", [](const array& a) { return erfinv(a); }},
      {"sigmoid", [](const array& a) { return sigmoid(a); }},
      {"floor", [](const array& a) { return floor(a * 10.0); }},
      {"ceil", [](const array& a) { return ceil(a * 10.0); }},
      {"round", [](const array& a) { return round(a * 10.0); }},
      {"logical_not", [](const array& a) { return logical_not(a > 0.5); }},
      {"bitwise_invert", [](const array& a) { return bitwise_invert(astype(a * 100.0, int32)); }},
      {"stop_gradient", [](const array& a) { return stop_gradient(a); }},
      {"real", [](const array& a) { return real(astype(a, complex64) * a); }},
      {"imag", [](const array& a) { return imag(astype(a, complex64)); }},
      {"conjugate", [](const array& a) { return conjugate(astype(a, complex64)); }},
  };
  // The kernels may take another (SIMD or scalar) path for a strided slice
  // than for the batch, so float math is compared within an ulp or two.
  for (auto& [name, f] : fs) check_unary(f, x, 1e-6, 1e-7, name);
}

TEST(VmapElementwise, Binary) {
  array a = vrand({3, 4, 5}, 21, 0.5, 3.0), b = vrand({3, 4, 5}, 22, 0.5, 3.0);
  array ia = astype(vrand({3, 4, 5}, 23, -50, 50), int32), ib = astype(vrand({3, 4, 5}, 24, 1, 7), int32);
  std::vector<std::pair<std::string, Fn2>> fs{
      {"add", [](const array& x, const array& y) { return x + y; }},
      {"subtract", [](const array& x, const array& y) { return x - y; }},
      {"multiply", [](const array& x, const array& y) { return x * y; }},
      {"divide", [](const array& x, const array& y) { return x / y; }},
      {"power", [](const array& x, const array& y) { return power(x, y); }},
      {"maximum", [](const array& x, const array& y) { return maximum(x, y); }},
      {"minimum", [](const array& x, const array& y) { return minimum(x, y); }},
      {"arctan2", [](const array& x, const array& y) { return arctan2(x, y); }},
      {"logaddexp", [](const array& x, const array& y) { return logaddexp(x, y); }},
      {"remainder", [](const array& x, const array& y) { return remainder(x, y); }},
      {"floor_divide", [](const array& x, const array& y) { return floor_divide(x, y); }},
      {"equal", [](const array& x, const array& y) { return equal(floor(x), floor(y)); }},
      {"nan_equal", [](const array& x, const array& y) {
         array nx = where(x > 2.0, array(NAN), x), ny = where(y > 2.0, array(NAN), x);
         return logical_and(isclose(nx, ny, 0.0, 0.0, true), array_equal(nx, ny, true));
       }},
      {"not_equal", [](const array& x, const array& y) { return not_equal(floor(x), floor(y)); }},
      {"less", [](const array& x, const array& y) { return x < y; }},
      {"less_equal", [](const array& x, const array& y) { return x <= y; }},
      {"greater", [](const array& x, const array& y) { return x > y; }},
      {"greater_equal", [](const array& x, const array& y) { return x >= y; }},
      {"logical_and", [](const array& x, const array& y) { return logical_and(x > 1.0, y > 1.0); }},
      {"logical_or", [](const array& x, const array& y) { return logical_or(x > 2.0, y > 2.0); }},
      {"where", [](const array& x, const array& y) { return where(x > y, x, y * 2.0); }},
  };
  for (auto& [name, f] : fs) check_binary(f, a, b, 0, 0, name);
  std::vector<std::pair<std::string, Fn2>> ints{
      {"int floor_divide", [](const array& x, const array& y) { return floor_divide(x, y); }},
      {"int remainder", [](const array& x, const array& y) { return remainder(x, y); }},
      {"bitwise_and", [](const array& x, const array& y) { return bitwise_and(x, y); }},
      {"bitwise_or", [](const array& x, const array& y) { return bitwise_or(x, y); }},
      {"bitwise_xor", [](const array& x, const array& y) { return bitwise_xor(x, y); }},
      {"left_shift", [](const array& x, const array& y) { return left_shift(x, y); }},
      {"right_shift", [](const array& x, const array& y) { return right_shift(x, y); }},
  };
  for (auto& [name, f] : ints) check_binary(f, ia, ib, 0, 0, name);
}

// ------------------------------------------------------------ shape

TEST(VmapShape, Views) {
  array x = vrand({3, 4, 6}, 30);
  std::vector<std::pair<std::string, Fn1>> fs{
      {"reshape", [](const array& a) { return reshape(a, {-1, 2}); }},
      {"flatten", [](const array& a) { return flatten(a); }},
      {"transpose", [](const array& a) { return transpose(a); }},
      {"swapaxes", [](const array& a) { return swapaxes(a, 0, -1); }},
      {"broadcast_to", [](const array& a) { return broadcast_to(reshape(a, {a.shape(0), 1, a.shape(1)}), {2, a.shape(0), 3, a.shape(1)}); }},
      {"as_strided", [](const array& a) { return as_strided(a, {2, 2}, {1, 3}, 1); }},
      {"slice", [](const array& a) { return slice(a, {1, 0}, {a.shape(0), a.shape(1)}, {1, 2}); }},
      {"slice negative step", [](const array& a) { return slice(a, {-1, -1}, {-a.shape(0) - 1, 0}, {-2, -1}); }},
      {"astype", [](const array& a) { return astype(a * 10.0, int16); }},
      {"view same size", [](const array& a) { return view(a, int32); }},
      {"view smaller", [](const array& a) { return view(a, int16); }},
      {"copy", [](const array& a) { return copy(a); }},
      {"full", [](const array& a) { return full({2, 3}, sum(a)); }},
      {"expand squeeze", [](const array& a) { return squeeze(expand_dims(a, {0, 2}), 0); }},
  };
  for (auto& [name, f] : fs) check_unary(f, x, 0, 0, name);
}

// ------------------------------------------------------------ reduction

TEST(VmapReduction, ReduceScanSoftmax) {
  array x = vrand({3, 4, 5}, 40, 0.5, 1.5);
  array xi = astype(x * 10.0, int32);
  std::vector<std::pair<std::string, Fn1>> exact{
      {"sum ints", [](const array& a) { return sum(astype(a * 10.0, int32), {0, -1}); }},
      {"prod ints", [](const array& a) { return prod(astype(a * 2.0, int8), -1, true); }},
      {"max", [](const array& a) { return max(a, 0); }},
      {"min", [](const array& a) { return min(a, {0, 1}); }},
      {"all", [](const array& a) { return all(a > 0.6, -1); }},
      {"any", [](const array& a) { return any(a > 1.4, 0, true); }},
      {"mean ints", [](const array& a) { return mean(astype(a * 10.0, int32), -1); }},
      {"argmax", [](const array& a) { return argmax(a, -1); }},
      {"argmin", [](const array& a) { return argmin(a, 0, true); }},
      {"cumsum ints", [](const array& a) { return cumsum(astype(a * 10.0, int32), 0); }},
      {"cummax", [](const array& a) { return cummax(a, -1, true, false); }},
      {"cummin", [](const array& a) { return cummin(a, 0, false, true); }},
  };
  for (auto& [name, f] : exact) check_unary(f, x, 0, 0, name);
  // Float sums and products: the batch changes nothing in a row's order of
  // accumulation, but allow rounding.
  std::vector<std::pair<std::string, Fn1>> close{
      {"sum", [](const array& a) { return sum(a, {0, 1}); }},
      {"mean f16", [](const array& a) { return mean(astype(a, float16), -1); }},
      {"prod", [](const array& a) { return prod(a, -1); }},
      {"cumsum", [](const array& a) { return cumsum(a, -1, true); }},
      {"cumprod", [](const array& a) { return cumprod(a, 0); }},
      {"logcumsumexp", [](const array& a) { return logcumsumexp(a, 1); }},
      {"softmax", [](const array& a) { return softmax(a, -1); }},
      {"softmax axis 0", [](const array& a) { return softmax(a, 0, true); }},
      {"logsumexp", [](const array& a) { return logsumexp(a, -1); }},
      {"logsumexp axes", [](const array& a) { return logsumexp(a, {0, 1}, true); }},
      {"var", [](const array& a) { return var(a, 0); }},
  };
  for (auto& [name, f] : close) check_unary(f, x, 1e-6, 1e-6, name);
}

// ------------------------------------------------------------ linalg

TEST(VmapLinalg, MatmulAddmm) {
  array a = vrand({3, 4, 5}, 50), b = vrand({3, 5, 2}, 51), c = vrand({3, 4, 2}, 52);
  auto mm = lift(Fn2([](const array& x, const array& y) { return matmul(x, y); }));
  const double tol = 1e-5;
  expect_vmap(mm, {a, b}, {0, 0}, {}, tol, tol, "both");
  expect_vmap(mm, {transpose(a, {1, 0, 2}), slice_at(b, 0, 0)}, {1, -1}, {-1}, tol, tol, "a only");
  expect_vmap(mm, {slice_at(a, 0, 0), transpose(b, {1, 2, 0})}, {-1, 2}, {1}, tol, tol, "b only");
  expect_vmap(mm, {a, vrand({3, 5}, 53)}, {0, 0}, {}, tol, tol, "matrix-vector");
  expect_vmap(mm, {vrand({5, 3}, 54), b}, {1, 0}, {}, tol, tol, "vector-matrix");
  array b4 = vrand({3, 2, 5, 2}, 55);
  expect_vmap(mm, {slice_at(a, 0, 0), b4}, {-1, 0}, {}, tol, tol, "broadcast batch");
  auto am = [](const std::vector<array>& xs) { return std::vector<array>{addmm(xs[2], xs[0], xs[1], 0.5f, 2.f)}; };
  expect_vmap(am, {a, b, c}, {0, 0, 0}, {}, tol, tol, "addmm");
  expect_vmap(am, {slice_at(a, 0, 0), slice_at(b, 0, 0), transpose(c, {1, 2, 0})}, {-1, -1, 2}, {}, tol, tol,
              "addmm c only");
  expect_vmap(am, {transpose(a, {1, 0, 2}), slice_at(b, 0, 0), slice_at(c, 0, 1)}, {1, -1, -1}, {}, tol, tol,
              "addmm a only");
  expect_vmap(lift(Fn2([](const array& x, const array& y) { return inner(x, y); })), {a, vrand({5}, 56)}, {0, -1},
              {}, tol, tol, "inner");
}
