// The reduction family on the GPU against the CPU backend: Reduce (sum, prod,
// max, min, all, any) over every axis pattern and dtype, ArgReduce with ties
// and NaN, Scan in every mode, Softmax and LogSumExp with extreme values;
// sizes from 0 to 100003 and views (transposed, sliced, broadcast) made on
// the GPU. Sums are compared with the dtype's relative tolerance plus an
// absolute term scaled by sum(|x|) (both backends accumulate in float64, in
// different orders).
#include <limits>

#include "cuda/cuda_util.h"

namespace uma::test {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using ReduceFn = array (*)(const array&, const std::vector<int>&, bool, StreamOrDevice);

struct NamedReduce {
  const char* name;
  ReduceFn fn;
};

std::vector<NamedReduce> reductions() {
  return {{"sum", static_cast<ReduceFn>(sum)}, {"prod", static_cast<ReduceFn>(prod)},
          {"max", static_cast<ReduceFn>(max)}, {"min", static_cast<ReduceFn>(min)},
          {"all", static_cast<ReduceFn>(all)}, {"any", static_cast<ReduceFn>(any)}};
}

std::string label(const std::string& op, Dtype t, const std::string& more = "") {
  return op + " " + dtype_name(t) + (more.empty() ? "" : " " + more);
}

std::string axes_label(const std::vector<int>& axes, bool keepdims) {
  std::string s = "axes [";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? "," : "") + std::to_string(axes[i]);
  return s + "]" + (keepdims ? " keepdims" : "");
}

// sum(|x|) over all of x (finite elements), the scale of a sum's rounding.
double abs_total(const array& x) {
  double s = 0;
  for (double v : astype(x, float64, cpu()).to_vector<double>()) {
    if (std::isfinite(v)) s += std::fabs(v);
  }
  return s;
}

// GPU against CPU for a reduction or scan of x: the dtype's relative
// tolerance plus 1e-13 * sum(|x|) for float results.
void expect_reduced(const array& g, const array& c, const array& x, const std::string& what,
                    double rtol = -1) {
  if (rtol < 0) rtol = gpu_tol(c.dtype());
  double atol = rtol == 0 ? 0 : 1e-13 * abs_total(x) + 1e-30;
  expect_same(g, c, rtol, atol, what);
}

// Values of dtype t from doubles (NaN and infinities kept for float types).
array values(const std::vector<double>& v, const Shape& shape, Dtype t) {
  return astype(array(v, shape), t, cpu());
}

// ------------------------------------------------------------------ Reduce

TEST(CudaReduce, EveryTypeEveryDtypeEveryAxisPattern) {
  NoFallback strict;
  const std::vector<std::vector<int>> patterns = {{0, 1, 2}, {2},    {0},    {1},
                                                  {0, 2},    {1, 2}, {0, 1}, {-1}};
  for (Dtype t : all_dtypes()) {
    array x = random_array({6, 7, 10}, t, 1);
    array xp = random_array({6, 7, 10}, t, 2, 1, 2);  // products stay meaningful
    for (auto& r : reductions()) {
      const array& in = std::string(r.name) == "prod" ? xp : x;
      for (auto& axes : patterns) {
        for (bool keep : {false, true}) {
          expect_reduced(r.fn(in, axes, keep, gpu()), r.fn(in, axes, keep, cpu()), in,
                         label(r.name, t, axes_label(axes, keep)));
        }
      }
    }
  }
}

TEST(CudaReduce, Complex) {
  NoFallback strict;
  // (6, 7, 10) complex64 from interleaved float32 pairs.
  array x = view(random_array({6, 7, 20}, float32, 3, -1.5, 1.5), complex64, cpu());
  for (auto& axes : std::vector<std::vector<int>>{{0, 1, 2}, {2}, {0}, {0, 2}}) {
    for (auto& r : reductions()) {
      std::string name = r.name;
      if (name == "max" || name == "min") continue;  // no order
      expect_reduced(r.fn(x, axes, false, gpu()), r.fn(x, axes, false, cpu()), x,
                     label(name, complex64, axes_label(axes, false)), name == "prod" ? 1e-4 : -1);
    }
  }
}

TEST(CudaReduce, Sizes) {
  NoFallback strict;
  for (int n : {1, 7, 1000, 4096, 100003}) {
    for (Dtype t : {float32, bfloat16, float16, float64, int32, uint8, bool_}) {
      for (const Shape& shape : {Shape{n}, Shape{3, n}, Shape{n, 3}, Shape{2, n, 5}}) {
        array x = random_array(shape, t, uint32_t(n));
        std::string sh = "shape " + std::to_string(shape.size()) + "-d n=" + std::to_string(n);
        std::vector<int> every(shape.size());
        for (size_t d = 0; d < shape.size(); ++d) every[d] = int(d);
        for (auto& axes : std::vector<std::vector<int>>{{-1}, {0}, every}) {
          for (auto& r : reductions()) {
            std::string name = r.name;
            if (name == "prod" && n > 7)
              continue;  // products of many terms only over- or underflow
            expect_reduced(r.fn(x, axes, false, gpu()), r.fn(x, axes, false, cpu()), x,
                           label(name, t, sh + " " + axes_label(axes, false)));
          }
        }
      }
    }
  }
}

TEST(CudaReduce, LargeRowsAndColumns) {
  NoFallback strict;
  // Few outputs of many elements: the two-pass split paths (rows and columns).
  for (Dtype t : {float32, bfloat16, int64}) {
    array x = random_array({2048, 4096}, t, 4);
    // The CPU's float32 sums of 4096 terms are off by up to ~1e-4 (float32
    // SIMD partial sums); the GPU accumulates in float64: the reference is
    // the float64 sum, rounded.
    auto ref_sum = [&](const array& a, const std::vector<int>& axes) {
      if (!is_floating_point(t)) return sum(a, axes, false, cpu());
      return astype(sum(astype(a, float64, cpu()), axes, false, cpu()), t, cpu());
    };
    for (auto& axes : std::vector<std::vector<int>>{{0}, {1}, {0, 1}}) {
      expect_reduced(sum(x, axes, false, gpu()), ref_sum(x, axes), x, label("sum", t, axes_label(axes, 0)));
      expect_same(max(x, axes, false, gpu()), max(x, axes, false, cpu()), 0, 0,
                  label("max", t, axes_label(axes, 0)));
    }
    array flat = random_array({1 << 22}, t, 5);
    expect_reduced(sum(flat, false, gpu()), ref_sum(flat, {0}), flat, label("sum", t, "4M to a scalar"));
    expect_same(min(flat, false, gpu()), min(flat, false, cpu()), 0, 0,
                label("min", t, "4M to a scalar"));
    array narrow = random_array({300000, 4}, t, 6);
    expect_reduced(sum(narrow, 0, false, gpu()), ref_sum(narrow, {0}), narrow, label("sum", t, "(300000, 4) axis 0"));
  }
}

TEST(CudaReduce, EmptyArrays) {
  NoFallback strict;
  for (Dtype t : {float32, int32, bool_, float16}) {
    for (const Shape& shape : {Shape{0}, Shape{0, 5}, Shape{5, 0}, Shape{3, 0, 4}}) {
      array x = zeros(shape, t, cpu());
      for (int axis = 0; axis < int(shape.size()); ++axis) {
        for (auto& r : reductions()) {
          std::string name = r.name;
          // max/min of zero elements into a non-empty result have no value.
          bool extreme = name == "max" || name == "min";
          int64_t out_size = 1;
          for (int d = 0; d < int(shape.size()); ++d) out_size *= d == axis ? 1 : shape[d];
          if (extreme && shape[axis] == 0 && out_size > 0) continue;
          expect_same(r.fn(x, {axis}, true, gpu()), r.fn(x, {axis}, true, cpu()), 0, 0,
                      label(name, t, "empty axis " + std::to_string(axis)));
        }
      }
      expect_same(sum(x, false, gpu()), sum(x, false, cpu()), 0, 0,
                  label("sum", t, "empty, all axes"));
      expect_same(prod(x, false, gpu()), prod(x, false, cpu()), 0, 0,
                  label("prod", t, "empty, all axes"));
    }
  }
}

TEST(CudaReduce, NaNAndInfinity) {
  NoFallback strict;
  // Rows: plain, one NaN, +inf and -inf, all -inf, NaN and inf together.
  std::vector<double> v = {1,     2,     3,     -4,    5,     6,      //
                           1,     kNaN,  3,     -4,    5,     6,      //
                           1,     kInf,  3,     -kInf, 5,     6,      //
                           -kInf, -kInf, -kInf, -kInf, -kInf, -kInf,  //
                           0,     kNaN,  kInf,  0,     -kInf, 0};
  for (Dtype t : float_dtypes()) {
    array x = values(v, {5, 6}, t);
    for (auto& r : reductions()) {
      for (auto& axes : std::vector<std::vector<int>>{{1}, {0}, {0, 1}}) {
        expect_same(r.fn(x, axes, false, gpu()), r.fn(x, axes, false, cpu()), -1, -1,
                    label(r.name, t, axes_label(axes, false)));
      }
    }
  }
}

TEST(CudaReduce, ViewsMadeOnTheGpu) {
  NoFallback strict;
  for (Dtype t : {float32, float16, int32, bool_}) {
    array x = random_array({8, 9, 10}, t, 7);
    array xd = astype(x, t, gpu());
    struct View {
      const char* name;
      array g, c;
    };
    std::vector<View> views = {
        {"transpose(2,0,1)", transpose(xd, {2, 0, 1}, gpu()), transpose(x, {2, 0, 1}, cpu())},
        {"transpose(1,0,2)", transpose(xd, {1, 0, 2}, gpu()), transpose(x, {1, 0, 2}, cpu())},
        {"slice step", slice(xd, {1, 0, 1}, {8, 9, 10}, {2, 3, 2}, gpu()),
         slice(x, {1, 0, 1}, {8, 9, 10}, {2, 3, 2}, cpu())},
        {"slice offset", slice(xd, {2, 1, 3}, {7, 9, 9}, gpu()),
         slice(x, {2, 1, 3}, {7, 9, 9}, cpu())},
        {"broadcast", broadcast_to(slice(xd, {0, 0, 0}, {1, 9, 10}, gpu()), {5, 9, 10}, gpu()),
         broadcast_to(slice(x, {0, 0, 0}, {1, 9, 10}, cpu()), {5, 9, 10}, cpu())},
    };
    for (auto& vw : views) {
      for (auto& axes : std::vector<std::vector<int>>{{0, 1, 2}, {2}, {0}, {1}, {0, 2}, {1, 2}}) {
        for (auto& r : reductions()) {
          if (std::string(r.name) == "prod") continue;
          expect_reduced(r.fn(vw.g, axes, false, gpu()), r.fn(vw.c, axes, false, cpu()), vw.c,
                         label(r.name, t, std::string(vw.name) + " " + axes_label(axes, false)));
        }
      }
    }
  }
}

// ------------------------------------------------------------------ ArgReduce

TEST(CudaArgReduce, EveryDtypeEveryAxisWithTies) {
  NoFallback strict;
  for (Dtype t : all_dtypes()) {
    // Few distinct values: ties everywhere, the first index must win.
    array x = random_array({6, 7, 10}, t, 8, -2, 2);
    for (int axis : {0, 1, 2, -1}) {
      for (bool keep : {false, true}) {
        std::string w = "axis " + std::to_string(axis) + (keep ? " keepdims" : "");
        expect_same(argmax(x, axis, keep, gpu()), argmax(x, axis, keep, cpu()), 0, 0,
                    label("argmax", t, w));
        expect_same(argmin(x, axis, keep, gpu()), argmin(x, axis, keep, cpu()), 0, 0,
                    label("argmin", t, w));
      }
    }
    expect_same(argmax(x, false, gpu()), argmax(x, false, cpu()), 0, 0, label("argmax", t, "flat"));
    expect_same(argmin(x, true, gpu()), argmin(x, true, cpu()), 0, 0,
                label("argmin", t, "flat keepdims"));
  }
}

TEST(CudaArgReduce, NaNAndInfinity) {
  NoFallback strict;
  std::vector<double> v = {1,     5,     5,     -3,    5,     0,      //
                           1,     kNaN,  7,     kNaN,  9,     0,      //
                           kInf,  2,     kInf,  -kInf, 3,     -kInf,  //
                           -kInf, -kInf, -kInf, -kInf, -kInf, -kInf,  //
                           kNaN,  0,     0,     0,     0,     kNaN};
  for (Dtype t : float_dtypes()) {
    array x = values(v, {5, 6}, t);
    for (int axis : {0, 1}) {
      expect_same(argmax(x, axis, false, gpu()), argmax(x, axis, false, cpu()), 0, 0,
                  label("argmax", t));
      expect_same(argmin(x, axis, false, gpu()), argmin(x, axis, false, cpu()), 0, 0,
                  label("argmin", t));
    }
    expect_same(argmax(x, false, gpu()), argmax(x, false, cpu()), 0, 0, label("argmax", t, "flat"));
  }
}

TEST(CudaArgReduce, SizesAndViews) {
  NoFallback strict;
  for (int n : {1, 7, 1000, 4096, 100003}) {
    for (Dtype t : {float32, bfloat16, int8, uint32}) {
      for (const Shape& shape : {Shape{n}, Shape{3, n}, Shape{n, 3}}) {
        // Values from a small range: many ties, also across the split chunks.
        array x = random_array(shape, t, uint32_t(n) + 9, -20, 20);
        std::string w = "n=" + std::to_string(n) + " " + std::to_string(shape.size()) + "-d";
        for (int axis = 0; axis < int(shape.size()); ++axis) {
          expect_same(argmax(x, axis, false, gpu()), argmax(x, axis, false, cpu()), 0, 0,
                      label("argmax", t, w));
          expect_same(argmin(x, axis, false, gpu()), argmin(x, axis, false, cpu()), 0, 0,
                      label("argmin", t, w));
        }
      }
    }
  }
  array x = random_array({9, 10, 11}, float32, 10);
  array xd = astype(x, float32, gpu());
  array g = transpose(slice(xd, {1, 0, 2}, {9, 10, 11}, {2, 1, 3}, gpu()), {2, 0, 1}, gpu());
  array c = transpose(slice(x, {1, 0, 2}, {9, 10, 11}, {2, 1, 3}, cpu()), {2, 0, 1}, cpu());
  for (int axis : {0, 1, 2}) {
    expect_same(argmax(g, axis, false, gpu()), argmax(c, axis, false, cpu()), 0, 0,
                "argmax of a view");
    expect_same(argmin(g, axis, false, gpu()), argmin(c, axis, false, cpu()), 0, 0,
                "argmin of a view");
  }
}

// ------------------------------------------------------------------ Scan

using ScanFn = array (*)(const array&, std::optional<int>, bool, bool, StreamOrDevice);

struct NamedScan {
  const char* name;
  ScanFn fn;
};

std::vector<NamedScan> scans() {
  return {{"cumsum", static_cast<ScanFn>(cumsum)},
          {"cumprod", static_cast<ScanFn>(cumprod)},
          {"cummax", static_cast<ScanFn>(cummax)},
          {"cummin", static_cast<ScanFn>(cummin)},
          {"logcumsumexp", static_cast<ScanFn>(logcumsumexp)}};
}

void expect_scans(const array& xg, const array& xc, Dtype t, const std::string& what,
                  bool with_prod = true) {
  for (auto& sc : scans()) {
    std::string name = sc.name;
    if (name == "cumprod" && !with_prod) continue;
    for (std::optional<int> axis : {std::optional<int>(0), std::optional<int>(1),
                                    std::optional<int>(-1), std::optional<int>()}) {
      for (bool reverse : {false, true}) {
        for (bool inclusive : {true, false}) {
          std::string w = what + " axis " + (axis ? std::to_string(*axis) : "none") +
                          (reverse ? " reverse" : "") + (inclusive ? "" : " exclusive");
          array g = sc.fn(xg, axis, reverse, inclusive, gpu());
          array c = sc.fn(xc, axis, reverse, inclusive, cpu());
          // The CPU's logcumsumexp runs logaddexp step by step in float32,
          // off by up to ~1e-3 after 1e5 steps: the reference is computed in
          // float64 and rounded.
          // Its results pass through values near log(n), so near 0 the bound
          // is absolute: float32 rounding of terms of that size.
          if (name == "logcumsumexp" && c.dtype() == float32) {
            c = astype(sc.fn(astype(xc, float64, cpu()), axis, reverse, inclusive, cpu()), float32, cpu());
            expect_same(g, c, 1e-4, 1e-5, label(name, t, w));
            continue;
          }
          double rtol = -1;
          expect_reduced(g, c, xc, label(name, t, w), rtol);
        }
      }
    }
  }
}

TEST(CudaScan, EveryTypeEveryDtypeEveryMode) {
  NoFallback strict;
  for (Dtype t : all_dtypes()) {
    array x = random_array({5, 6, 9}, t, 11, 0.5, 1.5);  // products stay in range
    array x3 = random_array({5, 6, 9}, t, 12);
    expect_scans(x3, x3, t, "(5,6,9)", false);
    for (std::optional<int> axis : {std::optional<int>(0), std::optional<int>(2)}) {
      for (bool reverse : {false, true}) {
        for (bool inclusive : {true, false}) {
          expect_reduced(cumprod(x, axis, reverse, inclusive, gpu()),
                         cumprod(x, axis, reverse, inclusive, cpu()), x,
                         label("cumprod", t, "axis " + std::to_string(*axis)));
        }
      }
    }
  }
  array xc = view(random_array({4, 6}, float32, 13, -1, 1), complex64, cpu());
  for (bool reverse : {false, true}) {
    expect_same(cumsum(xc, 1, reverse, true, gpu()), cumsum(xc, 1, reverse, true, cpu()), -1, -1,
                "complex cumsum");
    expect_same(cumprod(xc, 0, reverse, false, gpu()), cumprod(xc, 0, reverse, false, cpu()), -1,
                -1, "complex cumprod");
  }
}

TEST(CudaScan, SizesViewsAndSpecialValues) {
  NoFallback strict;
  for (int n : {1, 7, 1000, 4096, 100003}) {
    for (Dtype t : {float32, bfloat16, int32}) {
      for (const Shape& shape : {Shape{2, n}, Shape{n, 3}}) {
        array x = random_array(shape, t, uint32_t(n) + 14);
        expect_scans(x, x, t, "n=" + std::to_string(n), false);
      }
    }
  }
  array x = random_array({7, 8, 9}, float32, 15);
  array xd = astype(x, float32, gpu());
  expect_scans(transpose(xd, {2, 0, 1}, gpu()), transpose(x, {2, 0, 1}, cpu()), float32,
               "transposed");
  expect_scans(slice(xd, {1, 0, 2}, {7, 8, 9}, {2, 3, 1}, gpu()),
               slice(x, {1, 0, 2}, {7, 8, 9}, {2, 3, 1}, cpu()), float32, "sliced");
  std::vector<double> v = {1, kNaN, 3, -kInf, kInf, 2, -kInf, -kInf, 0, 5, -kInf, 1};
  for (Dtype t : float_dtypes()) {
    array s = values(v, {3, 4}, t);
    expect_scans(s, s, t, "NaN and infinities");
  }
  array e = zeros({0, 4}, float32, cpu());
  expect_same(cumsum(e, 0, false, true, gpu()), cumsum(e, 0, false, true, cpu()), 0, 0,
              "empty cumsum");
}

// ------------------------------------------------------------------ Softmax / LogSumExp

TEST(CudaSoftmax, SizesAndDtypes) {
  NoFallback strict;
  for (int n : {1, 7, 1000, 4096, 16384, 20000, 100003}) {
    for (Dtype t : float_dtypes()) {
      for (int rows : {1, 3}) {
        array x = random_array({rows, n}, t, uint32_t(n) + 16, -8, 8);
        std::string w = "rows " + std::to_string(rows) + " n=" + std::to_string(n);
        for (bool precise : {false, true}) {
          expect_same(softmax(x, -1, precise, gpu()), softmax(x, -1, precise, cpu()), -1, -1,
                      label("softmax", t, w));
        }
        expect_reduced(logsumexp(x, -1, false, gpu()), logsumexp(x, -1, false, cpu()), x,
                       label("logsumexp", t, w));
      }
    }
  }
  // Many short rows: a warp per row.
  array many = random_array({5000, 40}, bfloat16, 17);
  expect_same(softmax(many, -1, false, gpu()), softmax(many, -1, false, cpu()), -1, -1,
              "softmax (5000, 40)");
  expect_same(logsumexp(many, -1, true, gpu()), logsumexp(many, -1, true, cpu()), -1, -1,
              "logsumexp (5000, 40)");
}

TEST(CudaSoftmax, OtherAxesViewsAndIntegers) {
  NoFallback strict;
  array x = random_array({6, 7, 130}, float32, 18);
  array xd = astype(x, float32, gpu());
  for (auto& axes : std::vector<std::vector<int>>{{0}, {1}, {2}, {0, 2}, {0, 1, 2}}) {
    std::string w = axes_label(axes, false);
    expect_same(softmax(x, axes, false, gpu()), softmax(x, axes, false, cpu()), -1, -1,
                "softmax " + w);
    expect_same(logsumexp(x, axes, false, gpu()), logsumexp(x, axes, false, cpu()), -1, -1,
                "logsumexp " + w);
    expect_same(logsumexp(x, axes, true, gpu()), logsumexp(x, axes, true, cpu()), -1, -1,
                "logsumexp keep " + w);
  }
  array tg = transpose(xd, {2, 0, 1}, gpu()), tc = transpose(x, {2, 0, 1}, cpu());
  expect_same(softmax(tg, -1, false, gpu()), softmax(tc, -1, false, cpu()), -1, -1,
              "softmax transposed");
  expect_same(logsumexp(tg, -1, false, gpu()), logsumexp(tc, -1, false, cpu()), -1, -1,
              "logsumexp transposed");
  array sg = slice(xd, {0, 0, 1}, {6, 7, 130}, {1, 2, 2}, gpu()),
        sc = slice(x, {0, 0, 1}, {6, 7, 130}, {1, 2, 2}, cpu());
  expect_same(softmax(sg, -1, false, gpu()), softmax(sc, -1, false, cpu()), -1, -1,
              "softmax sliced");
  array xi = random_array({4, 50}, int32, 19);
  expect_same(softmax(xi, -1, false, gpu()), softmax(xi, -1, false, cpu()), -1, -1,
              "softmax int32");
  expect_same(logsumexp(xi, -1, false, gpu()), logsumexp(xi, -1, false, cpu()), -1, -1,
              "logsumexp int32");
  // Empty: no rows, and logsumexp over an empty axis (-inf).
  array e = zeros({0, 5}, float32, cpu());
  expect_same(softmax(e, -1, false, gpu()), softmax(e, -1, false, cpu()), 0, 0, "softmax empty");
  expect_same(logsumexp(e, 0, false, gpu()), logsumexp(e, 0, false, cpu()), 0, 0,
              "logsumexp empty axis");
}

TEST(CudaSoftmax, LargeAndInfiniteValues) {
  NoFallback strict;
  // Rows: huge values, some -inf, all -inf, one +inf, NaN, +inf and -inf.
  std::vector<double> v = {1e4,   1e4 - 1, -1e4,  3e4,   2e4,   1,     0,     5,      //
                           -kInf, 1,       2,     -kInf, 3,     -kInf, 0,     -1,     //
                           -kInf, -kInf,   -kInf, -kInf, -kInf, -kInf, -kInf, -kInf,  //
                           1,     2,       kInf,  3,     4,     5,     6,     7,      //
                           1,     2,       kNaN,  3,     4,     5,     6,     7,      //
                           kInf,  -kInf,   0,     0,     0,     0,     0,     0};
  for (Dtype t : float_dtypes()) {
    array x = values(v, {6, 8}, t);
    Dtype xt = t;
    expect_same(softmax(x, -1, false, gpu()), softmax(x, -1, false, cpu()), -1, -1,
                label("softmax", xt));
    expect_same(logsumexp(x, -1, false, gpu()), logsumexp(x, -1, false, cpu()), -1, -1,
                label("logsumexp", xt));
    expect_same(softmax(x, 0, false, gpu()), softmax(x, 0, false, cpu()), -1, -1,
                label("softmax axis 0", xt));
    expect_same(logsumexp(x, 0, false, gpu()), logsumexp(x, 0, false, cpu()), -1, -1,
                label("logsumexp axis 0", xt));
  }
}

}  // namespace
}  // namespace uma::test
