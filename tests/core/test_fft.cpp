// uma::fft against a direct O(n^2) DFT in float64 on the host (many lengths,
// every radix path and Bluestein), NumPy goldens (tests/fixtures/fft), round
// trips, padding / truncation, non-contiguous inputs, errors; gradients
// against finite differences and jvp against vjp; vmap against the loop.
#include <gtest/gtest.h>

#include <complex>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <optional>
#include <random>

#include "core/grad_util.h"
#include "core/util.h"
#include "core/vmap_util.h"
#include "uma/core/primitives/fft.h"
#include "uma/uma.h"

using namespace uma;
using cd = std::complex<double>;

namespace {

// A host array of complex<double>, row-major.
struct Host {
  Shape shape;
  std::vector<cd> v;

  int64_t size() const { return int64_t(v.size()); }
  // (outer, len, inner) of an axis.
  void split(int axis, int64_t& outer, int64_t& len, int64_t& inner) const {
    outer = 1, inner = 1, len = shape[axis];
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (int d = axis + 1; d < int(shape.size()); ++d) inner *= shape[d];
  }
  // Along axis, each line mapped by f(line) -> new line (any length).
  template <typename F>
  Host map_axis(int axis, int64_t out_len, F f) const {
    int64_t outer, len, inner;
    split(axis, outer, len, inner);
    Host r{shape, {}};
    r.shape[axis] = int32_t(out_len);
    r.v.assign(size_t(outer * out_len * inner), cd(0));
    std::vector<cd> line(len);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t k = 0; k < len; ++k) line[k] = v[(o * len + k) * inner + i];
        std::vector<cd> res = f(line);
        for (int64_t k = 0; k < out_len; ++k) r.v[(o * out_len + k) * inner + i] = res[k];
      }
    }
    return r;
  }
  // Zero-padded or truncated to len along axis.
  Host resize(int axis, int64_t len) const {
    return map_axis(axis, len, [&](std::vector<cd> l) {
      l.resize(len, cd(0));
      return l;
    });
  }
  // The direct DFT along axis (inverse: conjugate roots, scaled 1/n).
  Host dft(int axis, bool inverse) const {
    return map_axis(axis, shape[axis], [&](const std::vector<cd>& l) {
      int64_t n = int64_t(l.size());
      std::vector<cd> r(n);
      for (int64_t j = 0; j < n; ++j) {
        cd s = 0;
        for (int64_t k = 0; k < n; ++k) {
          double a = (inverse ? 2 : -2) * std::numbers::pi * double((j * k) % n) / double(n);
          s += l[k] * cd(std::cos(a), std::sin(a));
        }
        r[j] = inverse ? s / double(n) : s;
      }
      return r;
    });
  }
  // irfft along axis to length n: the half spectrum (cut or padded to
  // n / 2 + 1) completed hermitian, inverse DFT, real part.
  Host irfft(int axis, int64_t n) const {
    Host h = resize(axis, n / 2 + 1).map_axis(axis, n, [&](std::vector<cd> l) {
      int64_t half = int64_t(l.size());
      l.resize(n);
      for (int64_t j = half; j < n; ++j) l[j] = std::conj(l[n - j]);
      return l;
    });
    // Imaginary DC / Nyquist parts contribute only imaginary values; drop all.
    Host r = h.dft(axis, true);
    for (cd& z : r.v) z = cd(z.real(), 0);
    return r;
  }
};

std::mt19937& rng() {
  static std::mt19937 r(77);
  return r;
}

// Random float32-exact values; complex or real.
Host random_host(const Shape& shape, bool complex_) {
  std::normal_distribution<float> n;
  Host h{shape, {}};
  size_t size = 1;
  for (int d : shape) size *= size_t(d);
  for (size_t i = 0; i < size; ++i) {
    float re = n(rng()), im = complex_ ? n(rng()) : 0.0f;
    h.v.push_back(cd(re, im));
  }
  return h;
}

array to_array(const Host& h, bool complex_) {
  if (!complex_) {
    std::vector<float> v;
    for (const cd& z : h.v) v.push_back(float(z.real()));
    return array(v, h.shape);
  }
  std::vector<complex64_t> v;
  for (const cd& z : h.v) v.push_back(complex64_t(float(z.real()), float(z.imag())));
  return array(v, h.shape);
}

// got (complex64 or float32) against want, within tol * (1 + max |want|).
void expect_matches(array got, const Host& want, double tol = 2e-6, const std::string& what = "") {
  ASSERT_EQ(got.shape(), want.shape) << what;
  std::vector<double> re, im;
  if (is_complex(got.dtype())) {
    re = real(got).to_vector<double>();
    im = imag(got).to_vector<double>();
  } else {
    re = got.to_vector<double>();
    im.assign(re.size(), 0.0);
  }
  double scale = 1;
  for (const cd& z : want.v) scale = std::max(scale, std::abs(z));
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    double e = std::abs(cd(re[i], im[i]) - want.v[i]);
    if (e > worst) worst = e, at = i;
  }
  EXPECT_LE(worst, tol * scale) << what << ": worst error at " << at << " of " << re.size();
}

std::vector<int> lengths() {
  return {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 25, 27, 30, 31, 60, 64, 97, 100, 121, 125, 128, 243, 256, 343,
          360, 1000, 1009, 1024};
}

}  // namespace

// ------------------------------------------------------------ 1-D against the direct DFT

TEST(Fft, ComplexMatchesDirectDft) {
  for (int n : lengths()) {
    Host x = random_host({2, n}, true);
    array a = to_array(x, true);
    expect_matches(fft::fft(a), x.dft(1, false), 2e-6, "fft n=" + std::to_string(n));
    expect_matches(fft::ifft(a), x.dft(1, true), 2e-6, "ifft n=" + std::to_string(n));
  }
}

TEST(Fft, RealMatchesDirectDft) {
  for (int n : lengths()) {
    Host x = random_host({3, n}, false);
    Host want = x.dft(1, false).resize(1, n / 2 + 1);
    array r = fft::rfft(to_array(x, false));
    EXPECT_EQ(r.dtype(), complex64);
    expect_matches(r, want, 2e-6, "rfft n=" + std::to_string(n));
    // irfft of a general (non-hermitian) half spectrum, to this n.
    Host z = random_host({3, n / 2 + 1}, true);
    array y = fft::irfft(to_array(z, true), n, -1);
    EXPECT_EQ(y.dtype(), float32);
    expect_matches(y, z.irfft(1, n), 2e-6, "irfft n=" + std::to_string(n));
  }
}

TEST(Fft, LargeAndAwkwardLengths) {
  for (int n : {4096, 4097, 5000, 6561, 7919}) {  // 2^12, 17*241, 2^3 5^4, 3^8, prime
    Host x = random_host({n}, true);
    array a = to_array(x, true);
    array back = fft::ifft(fft::fft(a));
    expect_matches(back, x, 2e-6, "round trip n=" + std::to_string(n));
    // One column of the DFT against the direct sum (the whole is O(n^2)).
    array y = fft::fft(a);
    auto re = real(y).to_vector<double>(), im = imag(y).to_vector<double>();
    for (int64_t j : {int64_t(0), int64_t(1), int64_t(n / 3), int64_t(n - 1)}) {
      cd s = 0;
      for (int64_t k = 0; k < n; ++k) {
        double ang = -2 * std::numbers::pi * double((j * k) % n) / double(n);
        s += x.v[k] * cd(std::cos(ang), std::sin(ang));
      }
      EXPECT_NEAR(re[j], s.real(), 1e-5 * std::sqrt(double(n))) << "n=" << n << " j=" << j;
      EXPECT_NEAR(im[j], s.imag(), 1e-5 * std::sqrt(double(n))) << "n=" << n << " j=" << j;
    }
  }
}

TEST(Fft, RoundTrips) {
  for (int n : {1, 2, 3, 7, 8, 12, 17, 64, 97, 100, 128, 1000}) {
    Host x = random_host({2, n}, true);
    array a = to_array(x, true);
    expect_matches(fft::ifft(fft::fft(a)), x, 2e-6, "ifft(fft) n=" + std::to_string(n));
    expect_matches(fft::fft(fft::ifft(a)), x, 2e-6, "fft(ifft) n=" + std::to_string(n));
    Host r = random_host({2, n}, false);
    array ar = to_array(r, false);
    expect_matches(fft::irfft(fft::rfft(ar), n, -1), r, 2e-6, "irfft(rfft) n=" + std::to_string(n));
  }
}

// ------------------------------------------------------------ sizes, axes, layouts

TEST(Fft, PaddingAndTruncation) {
  Host x = random_host({3, 10}, true);
  array a = to_array(x, true);
  for (int n : {1, 4, 10, 13, 32}) {
    expect_matches(fft::fft(a, n, -1), x.resize(1, n).dft(1, false), 2e-6, "fft n=" + std::to_string(n));
    expect_matches(fft::ifft(a, n, 1), x.resize(1, n).dft(1, true), 2e-6, "ifft n=" + std::to_string(n));
  }
  Host r = random_host({3, 10}, false);
  for (int n : {3, 9, 10, 16}) {
    expect_matches(fft::rfft(to_array(r, false), n, -1), r.resize(1, n).dft(1, false).resize(1, n / 2 + 1), 2e-6,
                   "rfft n=" + std::to_string(n));
  }
  // irfft: the half spectrum (6 values) cut or padded to n / 2 + 1.
  Host z = random_host({3, 6}, true);
  for (int n : {2, 5, 10, 11, 20}) {
    expect_matches(fft::irfft(to_array(z, true), n, -1), z.irfft(1, n), 2e-6, "irfft n=" + std::to_string(n));
  }
  expect_matches(fft::irfft(to_array(z, true)), z.irfft(1, 10), 2e-6, "irfft default n");
}

TEST(Fft, AxesAndNonContiguousInputs) {
  Host x = random_host({4, 6, 5}, true);
  array a = to_array(x, true);
  for (int ax : {0, 1, 2, -3, -2}) {
    int p = ax < 0 ? ax + 3 : ax;
    expect_matches(fft::fft(a, ax), x.dft(p, false), 2e-6, "axis " + std::to_string(ax));
  }
  // A transposed view: fft along its last axis is fft along x's axis 0.
  array t = transpose(a, {2, 1, 0});
  array want_t = transpose(fft::fft(a, 0), {2, 1, 0});
  test::expect_same(fft::fft(t), want_t, 1e-6, 1e-5, "transposed");
  // A strided slice (every other column) and a broadcast.
  array s = slice(a, {0, 0, 0}, {4, 6, 5}, {1, 2, 2});
  Host hs{{4, 3, 3}, {}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; j += 2)
      for (int k = 0; k < 5; k += 2) hs.v.push_back(x.v[(i * 6 + j) * 5 + k]);
  expect_matches(fft::fft(s, 1), hs.dft(1, false), 2e-6, "strided slice");
  array b = broadcast_to(to_array(random_host({1, 8}, false), false), {3, 8});
  array fb = fft::rfft(b);
  test::expect_same(slice(fb, {0, 0}, {1, 5}), slice(fb, {2, 0}, {3, 5}), 0, 0, "broadcast rows");
  // Real inputs of other dtypes are promoted (int32 -> complex64).
  array ints = array({1, 2, 3, 4}, {4});
  test::expect_same(fft::fft(ints), fft::fft(astype(ints, complex64)), 0, 0, "int32 input");
}

TEST(Fft, MultiAxis) {
  Host x = random_host({3, 4, 5}, true);
  array a = to_array(x, true);
  expect_matches(fft::fft2(a), x.dft(1, false).dft(2, false), 4e-6, "fft2");
  expect_matches(fft::ifft2(a), x.dft(1, true).dft(2, true), 4e-6, "ifft2");
  expect_matches(fft::fftn(a), x.dft(0, false).dft(1, false).dft(2, false), 4e-6, "fftn");
  expect_matches(fft::ifftn(a), x.dft(0, true).dft(1, true).dft(2, true), 4e-6, "ifftn");
  expect_matches(fft::fftn(a, {6, 2}, {2, 0}), x.resize(2, 6).resize(0, 2).dft(2, false).dft(0, false), 4e-6,
                 "fftn s axes");
  expect_matches(fft::fft2(a, {5, 3}, {0, -1}), x.resize(0, 5).resize(2, 3).dft(0, false).dft(2, false), 4e-6,
                 "fft2 s axes");

  Host r = random_host({3, 4, 5}, false);
  array ar = to_array(r, false);
  expect_matches(fft::rfft2(ar), r.dft(2, false).resize(2, 3).dft(1, false), 4e-6, "rfft2");
  expect_matches(fft::rfftn(ar), r.dft(2, false).resize(2, 3).dft(1, false).dft(0, false), 4e-6, "rfftn");
  // The real axis is the last of axes (here 0).
  expect_matches(fft::rfftn(ar, {2, 0}), r.dft(0, false).resize(0, 2).dft(2, false), 4e-6, "rfftn axes {2, 0}");
  expect_matches(fft::rfftn(ar, {4, 7}, {1, 2}), r.resize(1, 4).resize(2, 7).dft(2, false).resize(2, 4).dft(1, false),
                 4e-6, "rfftn s");

  Host z = random_host({3, 4, 5}, true);
  array az = to_array(z, true);
  expect_matches(fft::irfft2(az), z.dft(1, true).irfft(2, 8), 4e-6, "irfft2");
  expect_matches(fft::irfftn(az), z.dft(0, true).dft(1, true).irfft(2, 8), 4e-6, "irfftn");
  expect_matches(fft::irfftn(az, {6, 9}, {1, 2}), z.resize(1, 6).dft(1, true).irfft(2, 9), 4e-6, "irfftn s");
  expect_matches(fft::irfftn(az, {2, 1}), z.dft(2, true).irfft(1, 6), 4e-6, "irfftn axes {2, 1}");
  // Round trips over several axes.
  expect_matches(fft::ifftn(fft::fftn(a)), x, 4e-6, "ifftn(fftn)");
  expect_matches(fft::irfftn(fft::rfftn(ar), {3, 4, 5}, {0, 1, 2}), r, 4e-6, "irfftn(rfftn)");
}

TEST(Fft, EmptyBatch) {
  array a = zeros({0, 8}, complex64);
  array y = fft::fft(a);
  EXPECT_EQ(y.shape(), (Shape{0, 8}));
  EXPECT_EQ(fft::rfft(zeros({0, 8})).shape(), (Shape{0, 5}));
  EXPECT_EQ(fft::irfft(zeros({2, 0, 5}, complex64)).shape(), (Shape{2, 0, 8}));
}

TEST(Fft, Shifts) {
  array x = arange(5);
  test::expect_close(fft::fftshift(x), {3, 4, 0, 1, 2}, 0, 0);
  test::expect_close(fft::ifftshift(x), {2, 3, 4, 0, 1}, 0, 0);
  array e = arange(6);
  test::expect_close(fft::fftshift(e), {3, 4, 5, 0, 1, 2}, 0, 0);
  test::expect_close(fft::ifftshift(fft::fftshift(e)), {0, 1, 2, 3, 4, 5}, 0, 0);
  array m = reshape(arange(12), {3, 4});
  test::expect_close(fft::fftshift(m), {10, 11, 8, 9, 2, 3, 0, 1, 6, 7, 4, 5}, 0, 0);
  test::expect_close(fft::fftshift(m, {1}), {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9}, 0, 0);
  test::expect_close(fft::ifftshift(fft::fftshift(m, {0}), {-2}), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0, 0);
  EXPECT_THROW(fft::fftshift(m, {2}), std::invalid_argument);
}

TEST(Fft, Errors) {
  array a = zeros({4, 4}, complex64);
  auto message = [](auto f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { fft::fft(array(1.0f)); }), "[fft] requires an array with at least one dimension.");
  EXPECT_EQ(message([&] { fft::fftn(array(1.0f)); }), "[fftn] requires an array with at least one dimension.");
  EXPECT_EQ(message([&] { fft::fft(a, 0, -1); }), "[fft] invalid transform sizes (0): each must be positive.");
  EXPECT_EQ(message([&] { fft::fft(a, 2); }), "[fft] axis 2 is out of range for an array of 2 dimensions.");
  EXPECT_EQ(message([&] { fft::fft2(a, {0, -2}); }), "[fft2] duplicated axis in (0, -2).");
  EXPECT_EQ(message([&] { fft::fftn(a, {4, 4, 4}, {0, 1}); }), "[fftn] got 3 sizes (4, 4, 4) for 2 axes (0, 1).");
  EXPECT_EQ(message([&] { fft::irfft(zeros({3, 1}, complex64)); }),
            "[irfft] invalid transform sizes (0): each must be positive.");
  EXPECT_EQ(message([&] { fft::irfftn(a, {-3}); }), "[irfftn] axis -3 is out of range for an array of 2 dimensions.");
  // No axes: the input itself.
  EXPECT_TRUE(fft::fftn(a, std::vector<int>{}).is_same(a));
}

TEST(Fft, PrimitiveEquivalence) {
  Stream s = default_stream(Device{});
  FFT p(s, {0, 1}, {4, 6}, false, true);
  EXPECT_TRUE(p.is_equivalent(FFT(s, {0, 1}, {4, 6}, false, true)));
  EXPECT_FALSE(p.is_equivalent(FFT(s, {0, 1}, {4, 7}, false, true)));
  EXPECT_FALSE(p.is_equivalent(FFT(s, {1, 0}, {4, 6}, false, true)));
  EXPECT_FALSE(p.is_equivalent(FFT(s, {0, 1}, {4, 6}, true, true)));
  EXPECT_FALSE(p.is_equivalent(FFT(s, {0, 1}, {4, 6}, false, false)));
  EXPECT_STREQ(p.name(), "FFT");
  array y = fft::irfftn(zeros({3, 4, 4}, complex64), {5, 7}, {0, 2});
  EXPECT_EQ(y.primitive().output_shapes(y.inputs())[0], (Shape{5, 4, 7}));
}

// ------------------------------------------------------------ NumPy goldens

namespace {

array decode(const nlohmann::json& j, bool complex_) {
  Host h{j["shape"].get<Shape>(), {}};
  auto re = j["re"].get<std::vector<double>>(), im = j["im"].get<std::vector<double>>();
  for (size_t i = 0; i < re.size(); ++i) h.v.push_back(cd(re[i], im[i]));
  return to_array(h, complex_);
}

Host decode_host(const nlohmann::json& j) {
  Host h{j["shape"].get<Shape>(), {}};
  auto re = j["re"].get<std::vector<double>>(), im = j["im"].get<std::vector<double>>();
  for (size_t i = 0; i < re.size(); ++i) h.v.push_back(cd(re[i], im[i]));
  return h;
}

}  // namespace

TEST(Fft, NumpyGoldens) {
  std::ifstream f(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/fft/goldens.json");
  ASSERT_TRUE(f.good());
  nlohmann::json all = nlohmann::json::parse(f);
  int checked = 0;
  for (auto& [name, c] : all.items()) {
    std::string fn = c["fn"];
    const auto& args = c["args"];
    bool real_in = fn == "rfft" || fn == "rfft2" || fn == "rfftn" || fn == "fftshift" || fn == "ifftshift";
    array x = decode(c["input"], !real_in);
    auto axes = [&](std::vector<int> d) { return args.contains("axes") ? args["axes"].get<std::vector<int>>() : d; };
    int axis = args.contains("axis") ? args["axis"].get<int>() : -1;
    std::optional<array> y;
    if (fn == "fft" || fn == "ifft" || fn == "rfft" || fn == "irfft") {
      using F1 = array (*)(const array&, int, int, StreamOrDevice);
      using F0 = array (*)(const array&, int, StreamOrDevice);
      F1 with_n = fn == "fft" ? F1(fft::fft) : fn == "ifft" ? F1(fft::ifft) : fn == "rfft" ? F1(fft::rfft) : F1(fft::irfft);
      F0 plain = fn == "fft" ? F0(fft::fft) : fn == "ifft" ? F0(fft::ifft) : fn == "rfft" ? F0(fft::rfft) : F0(fft::irfft);
      y = args.contains("n") ? with_n(x, args["n"].get<int>(), axis, {}) : plain(x, axis, {});
    } else if (fn == "fftshift" || fn == "ifftshift") {
      bool inv = fn == "ifftshift";
      y = args.contains("axes") ? (inv ? fft::ifftshift(x, axes({})) : fft::fftshift(x, axes({})))
                                : (inv ? fft::ifftshift(x) : fft::fftshift(x));
    } else {
      using FS = array (*)(const array&, const Shape&, const std::vector<int>&, StreamOrDevice);
      using FA = array (*)(const array&, const std::vector<int>&, StreamOrDevice);
      bool two = fn.back() == '2';
      std::string base = two ? fn.substr(0, fn.size() - 1) : fn.substr(0, fn.size() - 1);
      FS with_s = base == "fft"     ? (two ? FS(fft::fft2) : FS(fft::fftn))
                  : base == "ifft"  ? (two ? FS(fft::ifft2) : FS(fft::ifftn))
                  : base == "rfft"  ? (two ? FS(fft::rfft2) : FS(fft::rfftn))
                                    : (two ? FS(fft::irfft2) : FS(fft::irfftn));
      FA plain = base == "fft"     ? (two ? FA(fft::fft2) : FA(fft::fftn))
                 : base == "ifft"  ? (two ? FA(fft::ifft2) : FA(fft::ifftn))
                 : base == "rfft"  ? (two ? FA(fft::rfft2) : FA(fft::rfftn))
                                   : (two ? FA(fft::irfft2) : FA(fft::irfftn));
      std::vector<int> all_axes(x.ndim());
      for (int i = 0; i < int(x.ndim()); ++i) all_axes[i] = i;
      std::vector<int> ax = axes(two ? std::vector<int>{-2, -1} : all_axes);
      y = args.contains("s") ? with_s(x, args["s"].get<Shape>(), ax, {}) : plain(x, ax, {});
    }
    expect_matches(*y, decode_host(c["output"]), 2e-6, name);
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

// ------------------------------------------------------------ gradients

namespace {

using test::UnaryFn;

// float64 pairs (..., 2) -> complex64 values (...).
array to_complex(const array& x) {
  array re = astype(take(x, 0, -1), complex64), im = astype(take(x, 1, -1), complex64);
  return add(re, multiply(im, array(complex64_t(0, 1))));
}
// complex values -> float64 pairs (..., 2): a real-valued function of the output.
array to_pairs(const array& z) { return astype(stack({real(z), imag(z)}, -1), float64); }

// Transforms are linear, so central differences with a unit step are exact
// but for float32 rounding; the tolerances are float32's.
void check(const UnaryFn& f, const Shape& shape, const std::string& what) {
  SCOPED_TRACE(what);
  test::check_grad(f, test::randn(shape), 2e-4, 1.0, 2e-5);
}

}  // namespace

TEST(FftGrad, ComplexTransforms) {
  check([](const array& x) { return to_pairs(fft::fft(to_complex(x))); }, {3, 8, 2}, "fft");
  check([](const array& x) { return to_pairs(fft::fft(to_complex(x), 7, -1)); }, {3, 5, 2}, "fft n=7 (pad)");
  check([](const array& x) { return to_pairs(fft::fft(to_complex(x), 3, 0)); }, {5, 2, 2}, "fft n=3 axis 0 (cut)");
  check([](const array& x) { return to_pairs(fft::ifft(to_complex(x))); }, {2, 9, 2}, "ifft");
  check([](const array& x) { return to_pairs(fft::fft2(to_complex(x))); }, {3, 4, 2}, "fft2");
  check([](const array& x) { return to_pairs(fft::ifftn(to_complex(x), {5, 3}, {0, 1})); }, {4, 4, 2}, "ifftn s");
  // Real input to a complex transform.
  check([](const array& x) { return to_pairs(fft::fft(x)); }, {2, 6}, "fft of real");
}

TEST(FftGrad, RealTransforms) {
  for (int n : {6, 7}) {
    std::string tag = " n=" + std::to_string(n);
    check([](const array& x) { return to_pairs(fft::rfft(x)); }, {2, n}, "rfft" + tag);
    check([n](const array& x) { return to_pairs(fft::rfft(x, n + 3, -1)); }, {2, n}, "rfft pad" + tag);
    check([n](const array& x) { return fft::irfft(to_complex(x), n, -1); }, {2, n / 2 + 1, 2}, "irfft" + tag);
    check([n](const array& x) { return fft::irfft(to_complex(x), n, -1); }, {2, 3, 2}, "irfft cut/pad" + tag);
    check([n](const array& x) { return to_pairs(fft::rfftn(x, {3, n}, {0, 1})); }, {3, 5}, "rfftn" + tag);
    check([n](const array& x) { return fft::irfftn(to_complex(x), {4, n}, {1, 0}); }, {n / 2 + 1, 4, 2},
          "irfftn" + tag);
  }
  check([](const array& x) { return fft::irfft(to_complex(x)); }, {2, 1 + 1, 2}, "irfft n=2");
  check([](const array& x) { return to_pairs(fft::rfft(x)); }, {2, 1}, "rfft n=1");
}

TEST(FftGrad, SecondOrder) {
  test::check_vjp_of_vjp([](const array& x) { return to_pairs(fft::fft(to_complex(x))); }, test::randn({6, 2}), 1e-4);
  test::check_vjp_of_vjp([](const array& x) { return fft::irfft(to_complex(x), 7, -1); }, test::randn({4, 2}), 1e-4);
}

// ------------------------------------------------------------ vmap

TEST(FftVmap, AgainstLoop) {
  array c = to_array(random_host({3, 4, 6}, true), true);
  array r = to_array(random_host({3, 4, 6}, false), false);
  using test::lift;
  for (int b : {0, 1, 2}) {
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::fft(x); })), {c}, {b}, {}, 1e-5, 1e-5, "fft");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::ifft(x, 5, 0); })), {c}, {b}, {}, 1e-5, 1e-5,
                      "ifft n axis 0");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::rfft(x, 0); })), {r}, {b}, {}, 1e-5, 1e-5,
                      "rfft axis 0");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::irfft(x, 9, -1); })), {c}, {b}, {}, 1e-5, 1e-5,
                      "irfft n=9");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::fft2(x); })), {c}, {b}, {}, 1e-5, 1e-5, "fft2");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::irfftn(x, {1, 0}); })), {c}, {b}, {1}, 1e-5,
                      1e-5, "irfftn out axis 1");
    test::expect_vmap(lift(test::Fn1([](const array& x) { return fft::fftshift(x); })), {r}, {b}, {}, 0, 0,
                      "fftshift");
  }
}

// A large batched transform along a non-last axis (lines split across
// threads, strided gathers) against per-column transforms.
TEST(Fft, BatchedAlongAxis0) {
  Host x = random_host({360, 70}, true);
  array a = to_array(x, true);
  array y = fft::fft(a, 0);
  for (int col : {0, 33, 69}) {
    Host c{{360}, {}};
    for (int i = 0; i < 360; ++i) c.v.push_back(x.v[i * 70 + col]);
    expect_matches(take(y, col, 1), c.dft(0, false), 2e-6, "column " + std::to_string(col));
  }
  Host r = random_host({2, 3, 1000}, false);
  array back = fft::irfftn(fft::rfftn(to_array(r, false), {0, 2}), {2, 1000}, {0, 2});
  expect_matches(back, r, 2e-6, "irfftn(rfftn) over axes {0, 2}");
}
