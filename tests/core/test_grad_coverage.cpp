// Gradient coverage of every primitive class, as ExportPrimitives'
// EveryClassHasACase does for export: each class of the family lists
// (UMA_CORE_PRIMITIVES, UMA_CORE_MULTI_PRIMITIVES, UMA_FAST_PRIMITIVES) has
// either a case here, a function of one float array whose graph holds a node
// of the class on a differentiable path from its input (so the transforms
// run the class's rules), checked by grad_util's check_grad (vjp against
// central differences, jvp against vjp), or a named refusal: vjp and jvp
// through it throw an error whose message names the class, and vmap through
// it still equals the loop. A class with neither, with both, a refusal that
// no longer throws, or a case whose graph lacks its class fails by name.
// Known refusals for some inputs or modes of a class that is otherwise
// differentiable are listed too, each with its message.
//
// Inputs are float64 where the class computes in float64. Classes that
// compute in float32 whatever the input (the fast family, quantized and GGUF
// products, complex64 arithmetic, FFT, compiled kernels, casts through
// float32) take float32 tolerances (Tol below).
#include <gtest/gtest.h>

#include <complex>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/grad_util.h"
#include "core/graph_util.h"
#include "core/util.h"
#include "core/vmap_util.h"
#include "uma/core/fast.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/uma.h"

using namespace uma;
using test::randn;
using test::UnaryFn;
using GradCoverage = test::SeededGradTest;

namespace {

// check_grad's relative tolerance of vjp against central differences, its
// step, and the tolerance of jvp against vjp.
struct Tol {
  double rtol, h, jtol;
};
constexpr Tol kF64{1e-6, 1e-5, 1e-10};
// Float32 inside: a step of 1e-3 (rounding of ~6e-8 |f| per output becomes
// ~3e-5 after dividing by 2h), rtol 1e-3; jvp against vjp, two float32
// computations, to 1e-4.
constexpr Tol kF32{1e-3, 1e-3, 1e-4};
// Linear or quadratic in the input: central differences are exact for any
// step, so a step of 1 leaves only the float32 rounding of the values (~1e-6
// of each output, not divided by a small 2h); both sides are sums of many
// rounded terms that may cancel, hence 1e-4. GgufMatmul's 1040 outputs, each
// a 256-term float32 sum, take 1e-3.
constexpr Tol kF32Exact{1e-4, 1.0, 1e-4};
constexpr Tol kF32ExactLarge{1e-3, 1.0, 1e-3};

struct GradCase {
  UnaryFn f;
  array x;
  Tol tol = kF64;
  // A class that takes no input (Arange) sits in the graph without a path
  // from x: its case shows that a graph holding it differentiates.
  bool on_path = true;
};

// A refusal: `f` passes its input into the class, and vjp and jvp through
// it must throw these messages (compared whole).
struct Refusal {
  UnaryFn f;
  array x;
  std::string vjp_message, jvp_message;
};

array f64(const array& a) { return astype(a, float64); }
array f32(const array& a) { return astype(a, float32); }
// An integer array of x's shape computed from x (`base`, plus 1 where
// x > 100: never here): an integer path from x, of zero derivative, that
// the transforms still walk.
array ints_from(const array& x, int base = 2) {
  return add(astype(greater(x, array(100.0)), int32), array(base));
}
// x > 0 as bool, a path from x through a comparison.
array is_positive(const array& x) { return greater(x, array(0.0)); }

// A symmetric positive definite n x n matrix.
array spd(int n) {
  array x = randn({n, n});
  return add(matmul(x, transpose(x)), multiply(eye(n, float64), array(double(n))));
}

// Two Q6_K rows (256 values) as GGUF blocks.
array gguf_rows() {
  std::vector<float> wf(512);
  for (size_t i = 0; i < wf.size(); ++i) wf[i] = std::sin(0.37f * float(i));
  std::vector<uint8_t> blocks(2 * 210);
  io::gguf::quantize(uint32_t(io::gguf::GgmlType::Q6_K), wf.data(), 512, blocks.data());
  return array(blocks.data(), {2, 210}, uint8);
}
const uint32_t kQ6K = uint32_t(io::gguf::GgmlType::Q6_K);

std::map<std::string, GradCase> grad_cases() {
  array x = randn({3, 4});
  array pos = test::randu({3, 4}, 0.5, 2.0), unit = test::randu({3, 4}, -0.8, 0.8), big = test::randu({3, 4}, 1.2, 3.0);
  array y = randn({3, 4});
  // Inputs of the piecewise functions, away from their kinks by far more
  // than a step: |away| >= 0.2 (kinks at 0), |other - away| >= 0.2 (kinks
  // where the two meet).
  array away = multiply(sign(randn({3, 4})), test::randu({3, 4}, 0.2, 2.0));
  array other = add(away, multiply(sign(randn({3, 4})), test::randu({3, 4}, 0.2, 1.0)));
  // 3 * steps is n + [0.1, 0.4) for integers n in [-3, 3]: at least 0.1 from
  // the jumps of floor, ceil (integers) and round (half integers).
  array steps = divide(add(floor(test::randu({3, 4}, -3, 4)), test::randu({3, 4}, 0.1, 0.4)), array(3.0));
  std::map<std::string, GradCase> c;
  auto un = [&](const std::string& cls, UnaryFn f, array in, Tol t = kF64) {
    c.insert_or_assign(cls, GradCase{std::move(f), in, t});
  };
  // ---- elementwise: smooth ones on their domains, the piecewise-constant
  // and integer ones as a factor or a condition of a smooth term.
  un("Abs", [](const array& a) { return abs(a); }, away);
  un("Negative", [](const array& a) { return negative(a); }, x);
  un("Sign", [](const array& a) { return multiply(sign(a), square(a)); }, away);
  un("Exp", [](const array& a) { return exp(a); }, x);
  un("Expm1", [](const array& a) { return expm1(a); }, x);
  un("Log", [](const array& a) { return log(a); }, pos);
  un("Log2", [](const array& a) { return log2(a); }, pos);
  un("Log10", [](const array& a) { return log10(a); }, pos);
  un("Log1p", [](const array& a) { return log1p(a); }, pos);
  un("Sqrt", [](const array& a) { return sqrt(a); }, pos);
  un("Rsqrt", [](const array& a) { return rsqrt(a); }, pos);
  un("Square", [](const array& a) { return square(a); }, x);
  un("Sin", [](const array& a) { return sin(a); }, x);
  un("Cos", [](const array& a) { return cos(a); }, x);
  un("Tan", [](const array& a) { return tan(a); }, unit);
  un("ArcSin", [](const array& a) { return arcsin(a); }, unit);
  un("ArcCos", [](const array& a) { return arccos(a); }, unit);
  un("ArcTan", [](const array& a) { return arctan(a); }, x);
  un("Sinh", [](const array& a) { return sinh(a); }, x);
  un("Cosh", [](const array& a) { return cosh(a); }, x);
  un("Tanh", [](const array& a) { return tanh(a); }, x);
  un("ArcSinh", [](const array& a) { return arcsinh(a); }, x);
  un("ArcCosh", [](const array& a) { return arccosh(a); }, big);
  un("ArcTanh", [](const array& a) { return arctanh(a); }, unit);
  un("Erf", [](const array& a) { return erf(a); }, x);
  un("ErfInv", [](const array& a) { return erfinv(a); }, unit);
  un("Sigmoid", [](const array& a) { return sigmoid(a); }, x);
  un("Floor", [](const array& a) { return multiply(floor(multiply(a, array(3.0))), a); }, steps);
  un("Ceil", [](const array& a) { return multiply(ceil(multiply(a, array(3.0))), a); }, steps);
  un("Round", [](const array& a) { return multiply(round(multiply(a, array(3.0))), a); }, steps);
  un("LogicalNot", [](const array& a) { return where(logical_not(is_positive(a)), a, sin(a)); }, away);
  un("BitwiseInvert", [](const array& a) { return multiply(a, f64(bitwise_invert(ints_from(a)))); }, x);
  // complex64 arithmetic: linear (Real, Imag) and quadratic (Conjugate:
  // real(conj(z) z (0.3 + i)) = 0.3 |z|^2), so exact differences.
  auto cplx = [](const array& a) { return multiply(astype(a, complex64), array(complex64_t(0.5f, -1))); };
  un("Real", [cplx](const array& a) { return f64(real(cplx(a))); }, x, kF32Exact);
  un("Imag", [cplx](const array& a) { return f64(imag(cplx(a))); }, x, kF32Exact);
  un("Conjugate", [cplx](const array& a) {
    array z = cplx(a);
    return f64(real(multiply(conjugate(z), multiply(z, array(complex64_t(0.3f, 1))))));
  }, x, kF32Exact);
  auto bin = [&](const std::string& cls, std::function<array(const array&, const array&)> g, array in, array other) {
    c.insert_or_assign(cls, GradCase{[g, other](const array& a) { return g(a, other); }, in});
  };
  bin("Add", [](const array& a, const array& b) { return add(a, b); }, x, y);
  bin("Subtract", [](const array& a, const array& b) { return subtract(b, a); }, x, y);
  bin("Multiply", [](const array& a, const array& b) { return multiply(a, b); }, x, y);
  bin("Divide", [](const array& a, const array& b) { return divide(b, a); }, pos, y);
  un("FloorDivide", [](const array& a) { return multiply(a, f64(floor_divide(ints_from(a, 7), array(2)))); }, x);
  bin("Remainder", [](const array& a, const array& b) { return remainder(a, b); }, away, test::randu({3, 4}, 2.5, 3.5));
  // in the base and in the exponent
  un("Power", [](const array& a) { return add(power(a, array(1.3)), power(array(1.7), a)); }, pos);
  bin("Maximum", [](const array& a, const array& b) { return maximum(a, b); }, away, other);
  bin("Minimum", [](const array& a, const array& b) { return minimum(a, b); }, away, other);
  // b > 0: away from the branch cut (b < 0, a = 0) and the origin
  bin("ArcTan2", [](const array& a, const array& b) { return arctan2(a, b); }, x, pos);
  bin("LogAddExp", [](const array& a, const array& b) { return logaddexp(a, b); }, x, y);
  auto cond = [&](const std::string& cls, std::function<array(const array&, const array&)> pred) {
    c.insert_or_assign(cls, GradCase{[pred, other](const array& a) {
      return where(pred(a, other), sin(a), multiply(a, other));
    }, away});
  };
  cond("NotEqual", [](const array& a, const array& b) { return not_equal(ints_from(a), ints_from(b)); });
  cond("Equal", [](const array& a, const array& b) { return equal(ints_from(a), ints_from(b, 3)); });
  cond("Less", [](const array& a, const array& b) { return less(a, b); });
  cond("LessEqual", [](const array& a, const array& b) { return less_equal(a, b); });
  cond("Greater", [](const array& a, const array& b) { return greater(a, b); });
  cond("GreaterEqual", [](const array& a, const array& b) { return greater_equal(a, b); });
  cond("LogicalAnd", [](const array& a, const array& b) { return logical_and(is_positive(a), is_positive(b)); });
  cond("LogicalOr", [](const array& a, const array& b) { return logical_or(is_positive(a), is_positive(b)); });
  auto bits = [&](const std::string& cls, std::function<array(const array&, const array&)> op) {
    c.insert_or_assign(cls, GradCase{[op](const array& a) {
      return multiply(a, f64(op(ints_from(a, 6), ints_from(a, 3))));
    }, x});
  };
  bits("BitwiseAnd", [](const array& a, const array& b) { return bitwise_and(a, b); });
  bits("BitwiseOr", [](const array& a, const array& b) { return bitwise_or(a, b); });
  bits("BitwiseXor", [](const array& a, const array& b) { return bitwise_xor(a, b); });
  bits("LeftShift", [](const array& a, const array& b) { return left_shift(a, b); });
  bits("RightShift", [](const array& a, const array& b) { return right_shift(a, b); });
  un("Select", [other](const array& a) { return where(greater(a, other), exp(a), multiply(a, other)); }, away);
  // StopGradient: x * stop_gradient(x) has derivative stop_gradient(x) = x,
  // not 2x; central differences would see 2x, so its case is by hand below
  // (GradCoverage.StopGradientCutsTheTrace) and it is listed in by_hand().
  // ---- shape
  un("Reshape", [](const array& a) { return sin(reshape(a, {2, 6})); }, x);
  un("Transpose", [](const array& a) { return multiply(transpose(a), transpose(sin(a))); }, x);
  un("Broadcast", [](const array& a) { return multiply(broadcast_to(a, {2, 3, 4}), array(2.0)); }, x);
  un("AsStrided", [](const array& a) { return as_strided(sin(a), {3, 3}, {2, 1}, 1); }, x);  // overlapping windows
  un("Slice", [](const array& a) { return slice(sin(a), {2, 3}, {-4, 0}, {-2, -1}); }, x);
  un("AsType", [](const array& a) { return exp(f32(a)); }, x, kF32);
  un("Copy", [](const array& a) { return multiply(copy(a), a); }, x);
  un("Full", [](const array& a) { return full({2, 3}, sum(square(a))); }, x);
  c.insert_or_assign("Arange", GradCase{[](const array& a) { return multiply(a, arange(0.0, 4.0, 1.0, float64)); }, x,
                                        kF64, false});
  // ---- manipulation
  un("Concatenate", [y](const array& a) { return concatenate({sin(a), y, a}, 1); }, x);
  un("Pad", [](const array& a) { return pad(a, {1}, {1}, {2}, sum(a)); }, x);  // the pad value from x too
  un("SliceUpdate", [y](const array& a) {
    return slice_update(multiply(a, y), slice(square(a), {0, 0}, {2, 2}), {1, 1}, {3, 3});
  }, x);
  un("DynamicSlice", [](const array& a) { return sin(dynamic_slice(a, array({1, 2}), {0, 1}, {2, 2})); }, x);
  un("DynamicSliceUpdate", [](const array& a) {
    return dynamic_slice_update(a, slice(square(a), {0, 0}, {3, 2}), array({-2}), {1});
  }, x);
  un("Diagonal", [](const array& a) { return multiply(diagonal(a, 1, 0, 1), diagonal(a, 0, 1, 0)); }, x);
  // ---- indexing
  array idx = array({2, 0, 2});
  un("Gather", [idx](const array& a) { return sin(take(a, idx, 0)); }, x);
  un("Scatter", [idx, y](const array& a) {
    array upd = reshape(square(a), {3, 1, 4});
    // scatter_add with a duplicate index, scatter with distinct ones (see
    // test_grad_scatter_duplicates.cpp)
    return add(scatter_add(multiply(a, y), {idx}, upd, {0}), scatter(a, {array({1, 0, 2})}, upd, {0}));
  }, x);
  array along = array({0, 3, 1, 2, 2, 2, 1, 0, 3, 3, 0, 1}, {3, 4});
  un("GatherAxis", [along](const array& a) { return sin(take_along_axis(a, along, 1)); }, x);
  // put_along_axis with indices distinct per row (with duplicates its vjp
  // is wrong: test_grad_scatter_duplicates.cpp), scatter_add_axis with
  // duplicates.
  array distinct = array({0, 3, 1, 2, 2, 3, 1, 0, 3, 2, 0, 1}, {3, 4});
  un("ScatterAxis", [along, distinct, y](const array& a) {
    return add(put_along_axis(multiply(a, y), distinct, square(a), 1), scatter_add_axis(a, along, sin(a), 1));
  }, x);
  // ---- reduction
  un("Reduce", [](const array& a) {
    return add(add(sum(square(a), 1), max(a, 1)), multiply(prod(a, 1), min(a, 1)));
  }, x);
  un("ArgReduce", [](const array& a) { return multiply(f64(argmax(a, 1)), sum(a, 1)); }, x);
  un("Scan", [](const array& a) {
    return add(add(cumsum(a, 1, true), logcumsumexp(a, 0)), add(cumprod(a, 1), cummax(a, 0)));
  }, x);
  un("Softmax", [](const array& a) { return softmax(a, -1, true); }, x);
  un("LogSumExp", [](const array& a) { return logsumexp(a, -1); }, x);
  // ---- linalg
  un("Matmul", [](const array& a) { return matmul(a, transpose(sin(a))); }, x);
  un("AddMM", [](const array& a) { return addmm(sin(a), a, transpose(a), 0.5f, 2.f); }, randn({3, 3}));
  un("Hadamard", [](const array& a) { return multiply(hadamard_transform(a), a); }, randn({3, 16}));
  un("GatherMM", [](const array& a) {
    return gather_mm(a, reshape(sin(a), {2, 4, 3}), array({0, 1, 1}), array({1, 0, 1}));
  }, randn({2, 3, 4}));
  un("SegmentedMM", [](const array& a) { return segmented_mm(a, transpose(sin(a)), array({0, 2, 2, 4}, {2, 2})); },
     randn({3, 4}));
  un("BlockMaskedMM", [](const array& a) {
    return block_masked_mm(a, transpose(sin(a)), 32, array({true, false, true, true}, {2, 2}));
  }, randn({40, 8}));
  // ---- sort
  un("Sort", [](const array& a) { return multiply(sort(a, 1), a); }, x);
  un("ArgSort", [](const array& a) { return multiply(f64(argsort(a, 1)), a); }, x);
  un("Partition", [](const array& a) { return sin(partition(a, 2, 1)); }, x);
  un("ArgPartition", [](const array& a) { return multiply(f64(argpartition(a, 2, 1)), a); }, x);
  // ---- random: a key computed from x (its bits constant in x)
  un("RandomBits", [](const array& a) {
    array k = astype(greater(reshape(slice(a, {0, 0}, {1, 2}), {2}), array(100.0)), uint32);
    return multiply(a, f64(random::normal({3, 4}, float32, std::nullopt, std::nullopt, k)));
  }, x);
  // ---- quantized (the products in float32 from the float x: see the test
  // body; the int8 default rounds x, which central differences cannot see through)
  array wq = randn({8, 64}, float32);
  auto q = quantize(wq, 32, 4);
  eval(q);
  un("Dequantize", [q](const array& a) { return f64(dequantize(q[0], f32(a), q[2], 32, 4)); }, f64(q[1]), kF32Exact);
  un("QuantizedMatmul", [q](const array& a) { return f64(quantized_matmul(f32(a), q[0], q[1], q[2], true, 32, 4)); },
     randn({2, 64}), kF32Exact);
  un("GatherQMM", [q](const array& a) {
    array w = stack({q[0], q[0]}, 0), s = stack({q[1], q[1]}, 0), b = stack({q[2], q[2]}, 0);
    return f64(gather_qmm(f32(a), w, s, b, std::nullopt, array({1u, 0u}), true, 32, 4));
  }, randn({2, 1, 64}), kF32Exact);
  // More than 512 rows of x: dequantized panels, no rounding of x.
  array wg = gguf_rows();
  un("GgufMatmul", [wg](const array& a) { return f64(gguf_matmul(f32(a), wg, kQ6K)); }, randn({520, 256}),
     kF32ExactLarge);
  // ---- conv, fft
  array kw = randn({2, 3, 4});
  un("Convolution", [kw](const array& a) { return conv1d(a, add(kw, sum(a)), 2, 1); }, randn({1, 9, 4}));
  un("FFT", [](const array& a) {
    array r = fft::rfft(a), z = fft::fft(astype(a, complex64), 8, 0);  // (3, 5); (8, 8), padded on axis 0
    return concatenate({f64(real(multiply(r, conjugate(r)))), f64(fft::irfft(r)), f64(imag(slice(z, {0, 0}, {3, 8})))},
                       1);
  }, randn({3, 8}), kF32Exact);  // quadratic
  // ---- LAPACK
  un("Inverse", [](const array& a) { return linalg::inv(a); }, spd(3));
  un("Cholesky", [](const array& a) {
    return linalg::cholesky(add(matmul(a, transpose(a)), multiply(eye(3, float64), array(3.0))));
  }, randn({3, 3}));
  un("Solve", [](const array& a) { return linalg::solve(a, sin(slice(a, {0, 0}, {3, 2}))); }, spd(3));
  un("QRF", [](const array& a) { auto [qq, r] = linalg::qr(a); return add(sum(qq, 0), sum(r, 0)); }, randn({4, 3}));
  un("SVD", [](const array& a) { return linalg::svd(a, false)[0]; }, randn({4, 3}));
  // Eigenvalues 1, 3, 5 in a random basis (well separated: the vectors'
  // derivatives divide by the gaps); squares of the vectors are sign-free,
  // weighted per eigenvalue (each row of squares sums to 1).
  auto [basis, r_unused] = linalg::qr(randn({3, 3}));
  array separated = matmul(multiply(basis, array({1.0, 3.0, 5.0})), transpose(basis));
  un("Eigh", [](const array& a) {
    auto [w, v] = linalg::eigh(a);
    return add(w, matmul(square(v), array({1.0, 2.0, 4.0})));
  }, separated);
  // ---- fast (float32 inside, kF32)
  array gw = test::randu({4}, 0.5, 1.5), gb = randn({4});
  un("RMSNorm", [gw](const array& a) { return fast::rms_norm(a, gw, 1e-5f); }, x, kF32);
  un("LayerNorm", [gw, gb](const array& a) { return fast::layer_norm(a, gw, gb, 1e-5f); }, x, kF32);
  un("RoPE", [](const array& a) { return fast::rope(a, 4, false, 10000.f, 1.f, 3); }, randn({1, 2, 5, 8}), kF32Exact);
  un("ScaledDotProductAttention", [](const array& a) {
    array k = slice(a, {0, 0, 0, 0}, {1, 2, 5, 8}), v = sin(k);
    return fast::scaled_dot_product_attention(a, k, v, 0.5f, "causal");
  }, randn({1, 4, 5, 8}), kF32);
  // ---- the transforms' own
  un("CustomTransforms", [](const array& a) {
    return checkpoint([](const std::vector<array>& v) { return std::vector<array>{exp(sin(v[0]))}; })({a})[0];
  }, x);
  un("Depends", [y](const array& a) { return multiply(depends({sin(a)}, {exp(y)})[0], a); }, x);
  un("Compiled", [](const array& a) {
    static ArrayFn f = compile([](const std::vector<array>& v) {
      return std::vector<array>{multiply(exp(multiply(v[0], array(0.5f))), tanh(v[0]))};
    });
    return f64(f({f32(a)})[0]);
  }, x, kF32);
  return c;
}

// Classes checked by hand in their own test below.
const std::set<std::string>& by_hand() {
  static const std::set<std::string> s{"StopGradient"};
  return s;
}

// Whole-class refusals: the class has no gradient rule, by design (see
// core/transforms/missing_grad.cpp), or is differentiable only in inputs
// it cannot have (GgufDequantize's one input is the blocks).
std::map<std::string, Refusal> refusals() {
  std::map<std::string, Refusal> r;
  auto no_rule = [](const std::string& cls) {
    return std::pair{"[" + cls + "] has no vjp rule yet", "[" + cls + "] has no jvp rule yet"};
  };
  auto put = [&](const std::string& cls, UnaryFn f, array x, std::pair<std::string, std::string> msg) {
    r.emplace(cls, Refusal{std::move(f), x, msg.first, msg.second});
  };
  // View reinterprets bits: not differentiable, not even continuous.
  put("View", [](const array& a) { return f64(view(f32(a), int32)); }, randn({3, 4}), no_rule("View"));
  // Quantize: integer codes and rounded scales.
  put("Quantize", [](const array& a) { return f64(quantize(f32(a), 32, 4)[1]); }, randn({2, 64}), no_rule("Quantize"));
  // Eig: complex values and vectors.
  put("Eig", [](const array& a) { return f64(real(linalg::eigvals(a))); }, randn({3, 3}), no_rule("Eig"));
  // LUF: integer pivots chosen by comparisons.
  put("LUF", [](const array& a) { return linalg::lu_factor(a).first; }, randn({3, 3}), no_rule("LUF"));
  // GgufDequantize: blocks computed from x (x > 100 is false: the same bytes).
  array wg = gguf_rows();
  std::string gguf = "[GgufDequantize] is not differentiable with respect to the GGUF blocks";
  put("GgufDequantize", [wg](const array& a) {
    array bytes = add(wg, astype(greater(a, array(100.0)), uint8));
    return f64(gguf_dequantize(bytes, kQ6K));
  }, randn({2, 210}), {gguf, gguf});
  return r;
}

// Refusals for some inputs or modes of classes that are otherwise covered:
// (class, what, function of a float64 input, the input, vjp's message; jvp's
// is the same with "jvp" for "vjp").
struct PartialRefusal {
  std::string cls, what;
  UnaryFn f;
  array x;
  std::string message;
};

std::vector<PartialRefusal> partial_refusals() {
  array x = randn({3, 4});
  auto start = [](const array& a) {
    return astype(greater(reshape(slice(a, {0, 0}, {1, 2}), {2}), array(100.0)), int32);
  };
  std::vector<PartialRefusal> p;
  p.push_back({"DynamicSlice", "start indices", [start](const array& a) {
                 return dynamic_slice(a, start(a), {0, 1}, {2, 2});
               }, x, "[DynamicSlice] is not differentiable with respect to its start indices"});
  p.push_back({"DynamicSliceUpdate", "start indices", [start](const array& a) {
                 return dynamic_slice_update(a, ones({1, 2}, float64), start(a), {0, 1});
               }, x, "[DynamicSliceUpdate] is not differentiable with respect to its start indices"});
  p.push_back({"Gather", "indices", [](const array& a) { return take(a, astype(greater(a, array(100.0)), int32), 0); },
               x, "[Gather] is not differentiable with respect to its indices"});
  p.push_back({"Scatter", "max", [](const array& a) {
                 return scatter_max(a, {array({2, 0})}, reshape(slice(a, {0, 0}, {2, 4}), {2, 1, 4}), {0});
               }, x, "[ScatterMax] has no vjp rule yet"});
  p.push_back({"Scatter", "prod", [](const array& a) {
                 return scatter_prod(a, {array({2, 0})}, reshape(slice(a, {0, 0}, {2, 4}), {2, 1, 4}), {0});
               }, x, "[ScatterProd] has no vjp rule yet"});
  p.push_back({"GatherMM", "indices", [](const array& a) {
                 array rhs = reshape(astype(greater(slice(a, {0, 0}, {1, 1}), array(100.0)), int32), {1});
                 return gather_mm(a, transpose(a), array({0}), rhs);
               }, x, "[GatherMM] is not differentiable with respect to its indices; wrap it in stop_gradient"});
  p.push_back({"SVD", "U and Vt", [](const array& a) { return linalg::svd(a)[0]; }, randn({3, 3}),
               "[SVD] has no vjp rule for U and Vt yet; "
               "svd(a, /*compute_uv=*/false) differentiates the singular values"});
  p.push_back({"QRF", "wide matrices", [](const array& a) { return linalg::qr(a).second; }, randn({2, 3}),
               "[QRF] the vjp needs a square or tall matrix (M >= N); got shape (2,3)"});
  array wq = randn({2, 64}, float32);
  auto q = quantize(wq, 32, 4);
  p.push_back({"Dequantize", "packed codes", [q](const array& a) {
                 array codes = add(q[0], astype(greater(slice(a, {0, 0}, {2, 8}), array(100.0)), uint32));
                 return f64(dequantize(codes, q[1], q[2], 32, 4));
               }, randn({2, 8}), "[Dequantize] is not differentiable with respect to the packed codes"});
  array wg = gguf_rows();
  p.push_back({"GgufMatmul", "blocks", [wg](const array& a) {
                 array bytes = add(wg, astype(greater(a, array(100.0)), uint8));
                 return f64(gguf_matmul(ones({1, 256}), bytes, kQ6K));
               }, randn({2, 210}), "[GgufMatmul] is not differentiable with respect to the GGUF blocks"});
  return p;
}

// Whether `a` depends on `root` through inputs the transforms differentiate
// (and not through stop_gradient, which cuts the trace): the path on which
// vjp and jvp call the node's rules.
bool on_path(const array& a, const array& root, std::unordered_map<uintptr_t, bool>& memo) {
  if (a.id() == root.id()) return true;
  if (!a.has_primitive()) return false;
  auto it = memo.find(a.id());
  if (it != memo.end()) return it->second;
  memo[a.id()] = false;
  bool r = false;
  if (detail::primitive_class(a.primitive()) != std::string("StopGradient")) {
    for (size_t i = 0; i < a.inputs().size() && !r; ++i) {
      if (a.primitive().is_differentiable_input(int(i))) r = on_path(a.inputs()[i], root, memo);
    }
  }
  memo[a.id()] = r;
  return r;
}

// The error message f throws (any std::exception), or "(no error)".
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// Quantized products in float32 from the float x for the scope (the int8
// default rounds x to a grid, a staircase to central differences).
struct Float32Products {
  QuantizedMatmulPrecision saved = quantized_matmul_precision();
  Float32Products() { set_quantized_matmul_precision(QuantizedMatmulPrecision::float32); }
  ~Float32Products() { set_quantized_matmul_precision(saved); }
};

}  // namespace

TEST_F(GradCoverage, EveryClassHasACaseOrANamedRefusal) {
  auto cases = grad_cases();
  auto refused = refusals();
  std::set<std::string> all;
  for (auto& cls : test::every_primitive_class()) {
    all.insert(cls);
    int n = int(cases.count(cls)) + int(refused.count(cls)) + int(by_hand().count(cls));
    EXPECT_EQ(n, 1) << cls << ": " << (n == 0 ? "no gradient case and no named refusal" : "listed more than once");
  }
  // No stale names: every entry is a class of the lists.
  for (auto& [cls, k] : cases) EXPECT_TRUE(all.count(cls)) << "case for unknown class " << cls;
  for (auto& [cls, k] : refused) EXPECT_TRUE(all.count(cls)) << "refusal of unknown class " << cls;
  for (auto& cls : by_hand()) EXPECT_TRUE(all.count(cls)) << "by-hand check of unknown class " << cls;
}

TEST_F(GradCoverage, EveryCaseHoldsItsClassOnTheDifferentiatedPath) {
  for (auto& [cls, k] : grad_cases()) {
    array out = k.f(k.x);
    auto nodes = test::nodes_of({out}, cls);
    EXPECT_FALSE(nodes.empty()) << cls << ": the case builds no node of its class";
    if (!k.on_path) continue;
    std::unordered_map<uintptr_t, bool> memo;
    bool any = false;
    for (auto& n : nodes) any = any || on_path(n, k.x, memo);
    EXPECT_TRUE(any) << cls << ": no node of the class depends on the input through differentiable inputs";
  }
}

TEST_F(GradCoverage, EveryCaseAgainstCentralDifferences) {
  Float32Products precision;
  for (auto& [cls, k] : grad_cases()) {
    SCOPED_TRACE(cls);
    try {
      test::check_grad(k.f, k.x, k.tol.rtol, k.tol.h, k.tol.jtol);
    } catch (const std::exception& e) {
      ADD_FAILURE() << cls << " threw: " << e.what();
    }
  }
}

TEST_F(GradCoverage, StopGradientCutsTheTrace) {
  // x * stop_gradient(x): the derivative treats the second factor as a
  // constant, so vjp(c) = c * x and jvp(d) = d * x, not 2 x (what central
  // differences of the values would say).
  array x = randn({3, 4}), c = randn({3, 4}), d = randn({3, 4});
  UnaryFn f = [](const array& a) { return multiply(a, stop_gradient(a)); };
  test::expect_close(uma::vjp(f, x, c).second, multiply(c, x).to_vector<double>(), 1e-15, 0);
  test::expect_close(uma::jvp(f, x, d).second, multiply(d, x).to_vector<double>(), 1e-15, 0);
  // Alone, it passes no gradient at all.
  test::expect_close(uma::vjp(UnaryFn([](const array& a) { return stop_gradient(a); }), x, c).second,
                     std::vector<double>(12, 0.0), 0, 0);
}

TEST_F(GradCoverage, RefusalsNameTheClassAndVmapStillRuns) {
  for (auto& [cls, k] : refusals()) {
    SCOPED_TRACE(cls);
    array out = k.f(k.x);
    EXPECT_FALSE(test::nodes_of({out}, cls).empty()) << cls << ": the refusal's case builds no node of its class";
    array cot = randn(out.shape()), tan = randn(k.x.shape());
    EXPECT_EQ(message_of([&] { uma::vjp(k.f, k.x, cot); }), k.vjp_message);
    EXPECT_EQ(message_of([&] { uma::jvp(k.f, k.x, tan); }), k.jvp_message);
    // vmap has a rule for each: two slices, x and a shifted x.
    array xb = stack({k.x, test::shifted(k.x, randn(k.x.shape()), 0.1)}, 0);
    try {
      test::expect_vmap(test::lift(test::Fn1(k.f)), {xb}, {0}, {}, 0, 0, cls);
    } catch (const std::exception& e) {
      ADD_FAILURE() << cls << ": vmap threw " << e.what();
    }
  }
}

TEST_F(GradCoverage, PartialRefusalsNameTheClass) {
  for (auto& p : partial_refusals()) {
    SCOPED_TRACE(p.cls + " (" + p.what + ")");
    array out = p.f(p.x);
    EXPECT_FALSE(test::nodes_of({out}, p.cls).empty());
    EXPECT_EQ(message_of([&] { uma::vjp(p.f, p.x, randn(out.shape())); }), p.message);
    // jvp refuses alike, its own name in the message where it has one.
    std::string jvp_message = p.message;
    if (auto at = jvp_message.find("vjp"); at != std::string::npos) jvp_message.replace(at, 3, "jvp");
    EXPECT_EQ(message_of([&] { uma::jvp(p.f, p.x, randn(p.x.shape())); }), jvp_message);
  }
}
