// gguf_matmul and gguf_dequantize (core/ops/quantized.h) on blocks written by
// io::gguf::quantize (byte for byte llama.cpp's quantizers, tested in
// tests/core/io): decoding against io::gguf::dequantize, products against
// float64 sums over the decoded weights. The dot kernels round x to int8 per
// 256 values (Q4_K, Q5_K, Q6_K) or per 32 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0);
// the int8 panel kernel (Q4_0, Q4_1 from 8 rows of x, Q4_K from 16, Q8_0
// from 32) per 32, to int16 for Q8_0 (int8 on the VNNI panel kernel). Their
// references round x the same way, so every other difference
// is float32 rounding and any misplaced code, scale or bit shows far above
// the tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error_util.h"
#include "core/util.h"
#include "uma/backend/cpu/cpu_features.h"
#include "uma/backend/cpu/gguf_kernels.h"
#include "uma/backend/cpu/quantized.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/core/primitives/quantized.h"
#include "uma/uma.h"

namespace uma {
namespace {

using io::gguf::GgmlType;

const auto kQ4K = uint32_t(GgmlType::Q4_K), kQ5K = uint32_t(GgmlType::Q5_K),
           kQ6K = uint32_t(GgmlType::Q6_K);
const auto kQ4_0 = uint32_t(GgmlType::Q4_0), kQ4_1 = uint32_t(GgmlType::Q4_1), kQ5_0 = uint32_t(GgmlType::Q5_0),
           kQ5_1 = uint32_t(GgmlType::Q5_1), kQ8_0 = uint32_t(GgmlType::Q8_0);

bool is_legacy(uint32_t type) { return io::gguf::type_traits(type)->block_size == 32; }
// The types whose value is d * (q - offset): their dot kernels apply the
// offset to the rounded x, as the other codes.
bool is_symmetric(uint32_t type) { return type == kQ4_0 || type == kQ5_0 || type == kQ8_0 || type == kQ6K; }
// The types the int8 panel kernel takes, and from how many rows of x.
bool has_panels(uint32_t type) { return type == kQ4_0 || type == kQ4_1 || type == kQ8_0 || type == kQ4K; }
int64_t panel_min_m(uint32_t type) { return type == kQ8_0 ? 32 : type == kQ4K ? 16 : 8; }

struct Blocks {
  uint32_t type;
  int64_t N, K, row_bytes;
  std::vector<uint8_t> bytes;
  std::vector<float> w;  // decoded, (N, K)
  array arr() const { return array(bytes.data(), {int(N), int(row_bytes)}, uint8); }
};

// N x K random weights of varied scale per row (and a few outliers), as blocks.
Blocks make_blocks(uint32_t type, int64_t N, int64_t K, uint32_t seed) {
  const auto* t = io::gguf::type_traits(type);
  Blocks b{type, N, K, K / t->block_size * t->type_size, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> src(size_t(N * K));
  for (int64_t n = 0; n < N; ++n) {
    const float scale = 0.02f * float(1 + n % 7);
    for (int64_t k = 0; k < K; ++k)
      src[size_t(n * K + k)] = scale * nd(rng) + (k % 97 == 0 ? 4 * scale : 0.f);
  }
  b.bytes.resize(size_t(N * b.row_bytes));
  b.w.resize(size_t(N * K));
  for (int64_t n = 0; n < N; ++n) {
    io::gguf::quantize(type, src.data() + n * K, K, b.bytes.data() + n * b.row_bytes);
    io::gguf::dequantize(type, b.bytes.data() + n * b.row_bytes, K, b.w.data() + n * K);
  }
  return b;
}

std::vector<float> random_x(int64_t M, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(size_t(M * K));
  for (auto& v : x) v = u(rng);
  return x;
}

// Runs f once per int8 panel kernel the machine has: AVX2's, and where the
// CPU has AVX-512 VNNI the VNNI one (off by default: cpu::set_qmm_vnni).
template <typename F>
void for_each_panel_kernel(F&& f) {
  for (bool vnni : {false, true}) {
    if (vnni && !cpu::cpu_features().has_avx512_bf16()) continue;
    cpu::set_qmm_vnni(vnni);
    SCOPED_TRACE(vnni ? "VNNI panels" : "AVX2 panels");
    f();
  }
  cpu::set_qmm_vnni(false);
}

// x as the kernels see it: per `group` values, dx = max|x| / qmax and
// xq = rint(x / dx) (ties to even, as vcvtps2dq), times dx again.
std::vector<double> rounded_x(const std::vector<float>& x, size_t group, float qmax = 127.f) {
  std::vector<double> r(x.size());
  for (size_t g = 0; g < x.size() / group; ++g) {
    float amax = 0.f;
    for (size_t k = 0; k < group; ++k) amax = std::max(amax, std::abs(x[group * g + k]));
    const float dx = amax / qmax, inv = dx > 0.f ? 1.f / dx : 0.f;
    for (size_t k = 0; k < group; ++k)
      r[group * g + k] = double(std::nearbyint(x[group * g + k] * inv)) * double(dx);
  }
  return r;
}

// The kernels' exact arithmetic, in float64: for the symmetric types every
// decoded value against the rounded x; for the others the scale times the
// codes against the rounded x and the bias term (Q4_K/Q5_K's min, Q4_1/Q5_1's
// m) against the exact x (to_affine gives each run of 32 its scale and
// bias). `panels`: the int8 panel kernel, which takes every type in affine
// form (Q4_0: bias -8d, Q8_0: codes q + 128 and bias -128d) with x rounded
// per 32 to int8 (4-bit, and Q8_0 on VNNI) or int16 (Q8_0 on AVX2).
std::vector<double> dot_reference(const Blocks& b, const std::vector<float>& x, int64_t M, bool panels = false) {
  const int64_t K = b.K, G = K / 32;
  std::vector<double> xr = panels ? rounded_x(x, 32, cpu::gguf_panel_int8_x(b.type) ? 127.f : 32767.f)
                                  : rounded_x(x, is_legacy(b.type) ? 32 : 256),
                      y(size_t(M * b.N), 0.0);
  if (is_symmetric(b.type) && !panels) {
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < b.N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += xr[size_t(m * K + k)] * double(b.w[size_t(n * K + k)]);
        y[size_t(m * b.N + n)] = s;
      }
    }
    return y;
  }
  const int bits = *io::gguf::affine_bits(b.type);
  std::vector<uint32_t> codes(size_t(b.N * K * bits / 32));
  std::vector<float> scales(size_t(b.N * G)), biases(size_t(b.N * G));
  io::gguf::to_affine(b.type, b.bytes.data(), b.N, K, codes.data(), scales.data(), biases.data());
  for (int64_t n = 0; n < b.N; ++n) {
    for (int64_t m = 0; m < M; ++m) {
      double s = 0;
      for (int64_t g = 0; g < G; ++g) {
        double qx = 0, xs = 0;
        for (int64_t k = 32 * g; k < 32 * g + 32; ++k) {
          // Code k of row n: bits [k * bits, (k + 1) * bits) of the row's stream.
          const uint32_t* row = codes.data() + n * K * bits / 32;
          int64_t bit = k * bits;
          uint64_t two = uint64_t(row[bit / 32]) |
                         (bit / 32 + 1 < K * bits / 32 ? uint64_t(row[bit / 32 + 1]) << 32 : 0);
          double q = double((two >> (bit % 32)) & ((1u << bits) - 1));
          qx += q * xr[size_t(m * K + k)];
          xs += double(x[size_t(m * K + k)]);
        }
        s += double(scales[size_t(n * G + g)]) * qx + double(biases[size_t(n * G + g)]) * xs;
      }
      y[size_t(m * b.N + n)] = s;
    }
  }
  return y;
}

// x @ W.T in float64 from the float x and the decoded W, and sum |x w|.
void exact_product(const Blocks& b, const std::vector<float>& x, int64_t M, std::vector<double>& y,
                   std::vector<double>& mag) {
  y.assign(size_t(M * b.N), 0.0);
  mag.assign(size_t(M * b.N), 0.0);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < b.N; ++n) {
      double s = 0, a = 0;
      for (int64_t k = 0; k < b.K; ++k) {
        double p = double(x[size_t(m * b.K + k)]) * double(b.w[size_t(n * b.K + k)]);
        s += p;
        a += std::abs(p);
      }
      y[size_t(m * b.N + n)] = s;
      mag[size_t(m * b.N + n)] = a;
    }
  }
}

class GgufTypes : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufTypes, DequantizeEqualsTheReferenceDecoder) {
  const uint32_t type = GetParam();
  Blocks b = make_blocks(type, 5, 768, 1);
  array w = b.arr();
  array f = gguf_dequantize(w, type);
  ASSERT_EQ(f.shape(), (Shape{5, 768}));
  ASSERT_EQ(f.dtype(), float32);
  auto got = f.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], b.w[i]) << "value " << i;
  // float16 / bfloat16: the float32 values rounded once.
  for (Dtype t : {float16, bfloat16}) {
    array h = gguf_dequantize(w, type, t);
    ASSERT_EQ(h.dtype(), t);
    auto hv = h.to_vector<float>();
    auto want = astype(array(b.w.data(), {5, 768}), t).to_vector<float>();
    for (size_t i = 0; i < hv.size(); ++i)
      ASSERT_EQ(hv[i], want[i]) << dtype_name(t) << " value " << i;
  }
  // Rows picked with take (an embedding lookup), and a leading batch axis.
  array rows = gguf_dequantize(take(w, array({3, 0}), 0), type);
  auto rv = rows.to_vector<float>();
  for (int64_t k = 0; k < 768; ++k) {
    ASSERT_EQ(rv[size_t(k)], b.w[size_t(3 * 768 + k)]);
    ASSERT_EQ(rv[size_t(768 + k)], b.w[size_t(k)]);
  }
  array batched = gguf_dequantize(reshape(w, {5, 1, int(b.row_bytes)}), type);
  EXPECT_EQ(batched.shape(), (Shape{5, 1, 768}));
}

TEST_P(GgufTypes, DotKernelsMatchTheirArithmetic) {
  const uint32_t type = GetParam();
  // K: one block, an odd count (the 32-value types' Q4_0 kernel pairs
  // blocks) and more; N odd; M = 1..8 covers the 4-row groups and every
  // remainder, 12, 15 and 33 longer prompts (the panel kernel, for the types
  // it takes: with VNNI 8 rows of x a pass, then 4, 7 and 1 more).
  const std::vector<int64_t> Ks = is_legacy(type) ? std::vector<int64_t>{32, 288, 1280} : std::vector<int64_t>{256, 1280};
  for_each_panel_kernel([&] {
    for (int64_t K : Ks) {
      Blocks b = make_blocks(type, 37, K, uint32_t(K));
      array w = b.arr();
      for (int64_t M : {1, 2, 3, 4, 5, 7, 8, 12, 15, 33}) {
        auto x = random_x(M, K, uint32_t(M * 31 + K));
        array y = gguf_matmul(array(x.data(), {int(M), int(K)}), w, type);
        ASSERT_EQ(y.shape(), (Shape{int(M), 37}));
        auto got = y.to_vector<float>();
        auto want = dot_reference(b, x, M, has_panels(type) && M >= panel_min_m(type));
        std::vector<double> exact, mag;
        exact_product(b, x, M, exact, mag);
        for (size_t i = 0; i < got.size(); ++i) {
          // float32 sums of K terms: well within 1e-5 of the magnitude.
          ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-6)
              << "K " << K << " M " << M << " at " << i;
          // and the int8 rounding of x stays small against the exact product.
          ASSERT_NEAR(got[i], exact[i], 0.02 * mag[i] + 1e-6)
              << "K " << K << " M " << M << " at " << i;
        }
      }
    }
  });
}

TEST_P(GgufTypes, PanelPathsMatchTheDecodedProduct) {
  const uint32_t type = GetParam();
  Blocks b = make_blocks(type, 19, 512, 7);
  array w = b.arr();
  // 513 and 544 rows of x: past the dot kernels (512 rows at most),
  // decoded panels and sgemm (or, bfloat16 on AMX CPUs, bfloat16 tiles);
  // for Q4_0, Q4_1 and Q8_0 the int8 panel kernel, checked against its own
  // arithmetic.
  for (int64_t M : {513, 544}) {
    auto x = random_x(M, 512, uint32_t(M));
    std::vector<double> exact, mag;
    exact_product(b, x, M, exact, mag);
    for_each_panel_kernel([&] {
      auto got = gguf_matmul(array(x.data(), {int(M), 512}), w, type).to_vector<float>();
      const auto want = has_panels(type) ? dot_reference(b, x, M, true) : exact;
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-6) << "M " << M;
    });
    // bfloat16 and float16 x and result (on AMX CPUs x, the decoded W and
    // the result rounded to bfloat16; elsewhere the paths above).
    for (Dtype t : {bfloat16, float16}) {
      array yb = gguf_matmul(astype(array(x.data(), {int(M), 512}), t), w, type);
      ASSERT_EQ(yb.dtype(), t);
      auto gb = yb.to_vector<float>();
      for (size_t i = 0; i < gb.size(); ++i)
        ASSERT_NEAR(gb[i], exact[i], 2e-2 * mag[i] + 1e-6) << dtype_name(t) << " M " << M;
    }
  }
}

TEST_P(GgufTypes, StridedBatchedAndHalfInputs) {
  const uint32_t type = GetParam();
  Blocks b = make_blocks(type, 6, 256, 3);
  array w = b.arr();
  auto xv = random_x(6, 256, 11);
  array x = array(xv.data(), {2, 3, 256});
  array y = gguf_matmul(x, w, type);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 6}));
  // Each row alone gives the same (row-major copies of a transposed view too).
  array xt = transpose(reshape(x, {6, 256}), {1, 0});  // (256, 6), a view
  array yt = gguf_matmul(transpose(xt, {1, 0}), w, type);
  auto a = y.to_vector<float>(), c = yt.to_vector<float>();
  for (int r = 0; r < 6; ++r) {
    auto one =
        gguf_matmul(slice(reshape(x, {6, 256}), {r, 0}, {r + 1, 256}), w, type).to_vector<float>();
    for (int n = 0; n < 6; ++n) {
      EXPECT_NEAR(a[size_t(r * 6 + n)], one[size_t(n)], 1e-5f * (1 + std::abs(one[size_t(n)])));
      EXPECT_NEAR(c[size_t(r * 6 + n)], one[size_t(n)], 1e-5f * (1 + std::abs(one[size_t(n)])));
    }
  }
  // float16 x gives a float16 result near the float32 one.
  array yh = gguf_matmul(astype(x, float16), w, type);
  ASSERT_EQ(yh.dtype(), float16);
  auto h = yh.to_vector<float>();
  for (size_t i = 0; i < h.size(); ++i) EXPECT_NEAR(h[i], a[i], 5e-3 * (1 + std::abs(a[i])));
}

TEST_P(GgufTypes, GradientOfXIsTheDecodedProduct) {
  const uint32_t type = GetParam();
  Blocks b = make_blocks(type, 4, 256, 5);
  array w = b.arr();
  auto xv = random_x(2, 256, 13);
  array x(xv.data(), {2, 256});
  auto f = [&](const std::vector<array>& in) {
    return std::vector<array>{sum(gguf_matmul(in[0], w, type))};
  };
  array g = vjp(f, {x}, {array(1.f)}).second[0];
  // d/dx sum(x W^T) = ones @ W: each x row gets the column sums of W.
  auto got = g.to_vector<float>();
  for (int64_t k = 0; k < 256; ++k) {
    double want = 0;
    for (int64_t n = 0; n < 4; ++n) want += b.w[size_t(n * 256 + k)];
    ASSERT_NEAR(got[size_t(k)], want, 1e-5);
    ASSERT_NEAR(got[size_t(256 + k)], want, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(BlockTypes, GgufTypes, ::testing::Values(kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ4K, kQ5K, kQ6K),
                         [](const auto& info) {
                           return std::string(io::gguf::type_traits(info.param)->name);
                         });

TEST(GgufMatmul, TypesWithoutDotKernelsDecodePanels) {
  // Q2_K and Q3_K: the panel path at every M (decode included).
  for (uint32_t type : {uint32_t(GgmlType::Q2_K), uint32_t(GgmlType::Q3_K)}) {
    Blocks b = make_blocks(type, 9, 512, 17);
    for (int64_t M : {1, 3}) {
      auto x = random_x(M, 512, 19);
      std::vector<double> exact, mag;
      exact_product(b, x, M, exact, mag);
      auto got = gguf_matmul(array(x.data(), {int(M), 512}), b.arr(), type).to_vector<float>();
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], exact[i], 1e-5 * mag[i] + 1e-6);
    }
  }
}

TEST(GgufMatmul, BadArgumentsAreErrorsNamingThem) {
  Blocks b = make_blocks(kQ6K, 2, 256, 1);
  array w = b.arr(), x = ones({1, 256});
  EXPECT_NE(test::error_of([&] {
              gguf_matmul(x, astype(w, int32), kQ6K);
            }).find("w must be a uint8 matrix"),
            std::string::npos)
      << "w must be a uint8 matrix";
  EXPECT_NE(test::error_of([&] {
              gguf_matmul(ones({1, 512}), w, kQ6K);
            }).find("w's Q6_K rows hold 256"),
            std::string::npos)
      << "w's Q6_K rows hold 256";
  EXPECT_NE(test::error_of([&] {
              gguf_matmul(x, w, uint32_t(GgmlType::F16));
            }).find("GGUF type F16 is not one these ops take"),
            std::string::npos)
      << "GGUF type F16 is not one these ops take";
  EXPECT_NE(test::error_of([&] { gguf_matmul(x, w, 9999); }).find("GGUF type id 9999"),
            std::string::npos)
      << "GGUF type id 9999";
  EXPECT_NE(test::error_of([&] {
              gguf_matmul(x, slice(w, {0, 0}, {2, 200}), kQ6K);
            }).find("not whole Q6_K blocks of 210 bytes"),
            std::string::npos)
      << "not whole Q6_K blocks of 210 bytes";
  EXPECT_NE(test::error_of([&] {
              gguf_matmul(astype(x, int32), w, kQ6K);
            }).find("x must be float32, float16 or bfloat16"),
            std::string::npos)
      << "x must be float32, float16 or bfloat16";
  EXPECT_NE(test::error_of([&] {
              gguf_dequantize(w, kQ6K, int32);
            }).find("dtype must be float32, float16 or bfloat16"),
            std::string::npos)
      << "dtype must be float32, float16 or bfloat16";
  EXPECT_NE(test::error_of([&] {
              gguf_dequantize(astype(w, float32), kQ6K);
            }).find("w must be uint8 blocks"),
            std::string::npos)
      << "w must be uint8 blocks";
}

// Q4_0 and Q8_0 rows interleaved eight at a time (kGgufQ4_0x8, kGgufQ8_0x8:
// the loader's layouts on the CPU): byte positions, decoding and products
// against the rows they were made from.
std::vector<uint8_t> interleave(const Blocks& b, uint32_t x8) {
  std::vector<uint8_t> out(b.bytes.size());
  gguf_interleave_x8(x8, [&](int64_t n) { return b.bytes.data() + n * b.row_bytes; }, b.row_bytes, 0, b.N / 8,
                     out.data());
  return out;
}

// (file type, its interleaved layout)
class GgufX8 : public ::testing::TestWithParam<std::pair<uint32_t, uint32_t>> {};

TEST_P(GgufX8, PlacesEachRowsBytesAndDecodesAsTheFileType) {
  const auto [type, x8] = GetParam();
  const int64_t block = io::gguf::type_traits(type)->type_size;
  Blocks b = make_blocks(type, 24, 288, 21);
  auto bytes = interleave(b, x8);
  // Row n = 8g + r, block j: d at 2r, code byte 4c + i at 16 + 32c + 4r + i
  // of the group's j-th 8 * block bytes.
  for (int64_t n = 0; n < b.N; ++n) {
    for (int64_t j = 0; j < 9; ++j) {
      const uint8_t* src = b.bytes.data() + n * b.row_bytes + block * j;
      const uint8_t* grp = bytes.data() + (n / 8) * 8 * b.row_bytes + 8 * block * j;
      const int64_t r = n % 8;
      ASSERT_EQ(grp[2 * r], src[0]);
      ASSERT_EQ(grp[2 * r + 1], src[1]);
      for (int64_t i = 0; i < block - 2; ++i) {
        ASSERT_EQ(grp[16 + 32 * (i / 4) + 4 * r + i % 4], src[2 + i]) << n << " " << j;
      }
    }
  }
  array w(bytes.data(), {24, int(b.row_bytes)}, uint8);
  auto got = gguf_dequantize(w, x8).to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], b.w[i]) << "value " << i;
  auto h = gguf_dequantize(w, x8, bfloat16).to_vector<float>();
  auto want = astype(array(b.w.data(), {24, 288}), bfloat16).to_vector<float>();
  for (size_t i = 0; i < h.size(); ++i) ASSERT_EQ(h[i], want[i]) << "value " << i;
  // Stacked matrices of 8 rows each decode as the rows they hold.
  auto stacked = gguf_dequantize(reshape(w, {3, 8, int(b.row_bytes)}), x8).to_vector<float>();
  for (size_t i = 0; i < stacked.size(); ++i) ASSERT_EQ(stacked[i], b.w[i]) << "value " << i;
}

TEST_P(GgufX8, ProductsMatchTheFileTypesArithmetic) {
  // The same arithmetic as the file type's kernels (x rounded per 32 to
  // int8, or the panel kernel's affine form from panel_min_m rows of x):
  // dot_reference of the rows as stored. N = 40: five groups, split among
  // threads.
  const auto [type, x8] = GetParam();
  for_each_panel_kernel([&, type = type, x8 = x8] {
    for (int64_t K : {32, 288, 1280}) {
      Blocks b = make_blocks(type, 40, K, uint32_t(K + 3));
      auto bytes = interleave(b, x8);
      array w(bytes.data(), {40, int(b.row_bytes)}, uint8);
      for (int64_t M : {1, 2, 3, 4, 5, 7, 8, 33}) {
        auto x = random_x(M, K, uint32_t(M * 17 + K));
        auto got = gguf_matmul(array(x.data(), {int(M), int(K)}), w, x8).to_vector<float>();
        auto want = dot_reference(b, x, M, M >= panel_min_m(type));
        std::vector<double> exact, mag;
        exact_product(b, x, M, exact, mag);
        ASSERT_EQ(got.size(), size_t(M * 40));
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-6) << "K " << K << " M " << M << " at " << i;
          ASSERT_NEAR(got[i], exact[i], 0.02 * mag[i] + 1e-6) << "K " << K << " M " << M << " at " << i;
        }
      }
    }
  });
  // Long prompts: the panel kernel, or (bfloat16/float16 on AMX CPUs) the
  // decoded rows in bfloat16 tiles.
  Blocks b = make_blocks(type, 16, 512, 9);
  auto bytes = interleave(b, x8);
  array w(bytes.data(), {16, int(b.row_bytes)}, uint8);
  auto x = random_x(513, 512, 5);
  std::vector<double> exact, mag;
  exact_product(b, x, 513, exact, mag);
  for_each_panel_kernel([&] {
      auto got = gguf_matmul(array(x.data(), {513, 512}), w, x8).to_vector<float>();
      auto want = dot_reference(b, x, 513, true);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5 * mag[i] + 1e-6) << i;
  });
  for (Dtype t : {bfloat16, float16}) {
    auto gb = gguf_matmul(astype(array(x.data(), {513, 512}), t), w, x8).to_vector<float>();
    for (size_t i = 0; i < gb.size(); ++i) ASSERT_NEAR(gb[i], exact[i], 2e-2 * mag[i] + 1e-6) << dtype_name(t) << i;
  }
  // The gradient of x: ones @ W.
  auto xv = random_x(2, 512, 13);
  auto f = [&](const std::vector<array>& in) { return std::vector<array>{sum(gguf_matmul(in[0], w, x8))}; };
  auto g = vjp(f, {array(xv.data(), {2, 512})}, {array(1.f)}).second[0].to_vector<float>();
  for (int64_t k = 0; k < 512; ++k) {
    double col = 0;
    for (int64_t n = 0; n < 16; ++n) col += b.w[size_t(n * 512 + k)];
    ASSERT_NEAR(g[size_t(k)], col, 1e-5);
  }
}

TEST_P(GgufX8, RowsMustComeInEights) {
  const auto [type, x8] = GetParam();
  Blocks b = make_blocks(type, 12, 64, 2);
  const int64_t flat = 12 * b.row_bytes;
  EXPECT_NE(test::error_of([&] { gguf_matmul(ones({1, 64}), b.arr(), x8); }).find("multiple of 8 rows"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { gguf_dequantize(b.arr(), x8); }).find("multiple of 8 rows"), std::string::npos);
  EXPECT_NE(test::error_of([&] { gguf_dequantize(reshape(b.arr(), {int(flat)}), x8); }).find("multiple of 8 rows"),
            std::string::npos);
  EXPECT_EQ(gguf_interleaved(type), x8);
  EXPECT_EQ(std::string(gguf_traits(x8)->name), std::string(io::gguf::type_traits(type)->name) + "x8");
}

INSTANTIATE_TEST_SUITE_P(Layouts, GgufX8,
                         ::testing::Values(std::make_pair(kQ4_0, kGgufQ4_0x8), std::make_pair(kQ8_0, kGgufQ8_0x8)),
                         [](const auto& info) { return std::string(io::gguf::type_traits(info.param.first)->name); });

TEST(GgufMatmul, EquivalenceComparesTheType) {
  Stream s = default_stream(default_device());
  EXPECT_TRUE(GgufMatmul(s, kQ4K).is_equivalent(GgufMatmul(s, kQ4K)));
  EXPECT_FALSE(GgufMatmul(s, kQ4K).is_equivalent(GgufMatmul(s, kQ6K)));
  EXPECT_TRUE(GgufDequantize(s, kQ4K, float16).is_equivalent(GgufDequantize(s, kQ4K, float16)));
  EXPECT_FALSE(GgufDequantize(s, kQ4K, float16).is_equivalent(GgufDequantize(s, kQ4K, bfloat16)));
}

}  // namespace
}  // namespace uma
