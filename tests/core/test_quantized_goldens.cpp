// quantize / dequantize byte for byte against MLX 846d176's own outputs
// (tests/fixtures/quantization, made by make_quant_goldens.cpp there; see its
// README), and quantized_matmul against MLX's within the error bound of the
// two summation orders (MLX's CPU path sums in the result dtype, uma in
// float32, so the outputs are not byte-equal).
#include <gtest/gtest.h>

#include "core/quantized_util.h"
#include "uma/core/io/safetensors.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

std::map<std::string, array> load_fixture(const std::string& name) {
  return load_safetensors(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/quantization/" + name).first;
}

std::vector<uint8_t> bytes_of(const array& a) { return view(a, uint8).to_vector<uint8_t>(); }

const array& get(const std::map<std::string, array>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) throw std::runtime_error("fixture has no tensor " + key);
  return it->second;
}

}  // namespace

TEST(QuantizeGoldens, AffineQuantizeAndDequantizeAreByteExact) {
  auto f = load_fixture("affine.safetensors");
  int cases = 0;
  for (int bits : {2, 3, 4, 5, 6, 8}) {
    for (int gs : {32, 64, 128}) {
      for (const char* t : {"float32", "float16", "bfloat16"}) {
        std::string p = "affine_b" + std::to_string(bits) + "_g" + std::to_string(gs) + "_" + t;
        SCOPED_TRACE(p);
        const array& w = get(f, p + ".w");
        auto q = quantize(w, gs, bits);
        EXPECT_EQ(q[0].shape(), get(f, p + ".wq").shape());
        EXPECT_EQ(bytes_of(q[0]), bytes_of(get(f, p + ".wq")));
        EXPECT_EQ(q[1].dtype(), get(f, p + ".scales").dtype());
        EXPECT_EQ(bytes_of(q[1]), bytes_of(get(f, p + ".scales")));
        EXPECT_EQ(bytes_of(q[2]), bytes_of(get(f, p + ".biases")));
        // dequantize of MLX's own packed tensors.
        array d = dequantize(get(f, p + ".wq"), get(f, p + ".scales"), get(f, p + ".biases"), gs, bits);
        EXPECT_EQ(d.dtype(), get(f, p + ".deq").dtype());
        EXPECT_EQ(bytes_of(d), bytes_of(get(f, p + ".deq")));
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 54);
}

TEST(QuantizeGoldens, QuantizedMatmulWithinTheSummationBound) {
  // MLX's arithmetic: x in float (the int8 path is checked against its own
  // model in test_quantized_matmul.cpp).
  set_quantized_matmul_precision(QuantizedMatmulPrecision::float32);
  struct Restore {
    ~Restore() { set_quantized_matmul_precision(QuantizedMatmulPrecision::int8); }
  } restore;
  auto f = load_fixture("qmm.safetensors");
  int cases = 0;
  for (auto& [key, out_ref] : f) {
    array out = out_ref;
    const std::string suffix = ".out";
    if (key.size() < suffix.size() || key.compare(key.size() - 4, 4, suffix) != 0) continue;
    std::string p = key.substr(0, key.size() - 4);
    if (p.rfind("qmm_b", 0) != 0) continue;  // the mxfp4 cases wait for that mode
    SCOPED_TRACE(p);
    // qmm_b<bits>_g<group>_<t|n>_m<M>_<dtype>
    int bits = std::stoi(p.substr(5));
    int gs = std::stoi(p.substr(p.find("_g") + 2));
    bool tr = p.find("_t_") != std::string::npos;
    array x = get(f, p + ".x"), w = get(f, p + ".w");
    array wq = get(f, p + ".wq"), s = get(f, p + ".scales"), b = get(f, p + ".biases");
    // The packed operands are MLX's quantize of w, byte for byte.
    auto q = quantize(w, gs, bits);
    EXPECT_EQ(bytes_of(q[0]), bytes_of(wq));
    EXPECT_EQ(bytes_of(q[1]), bytes_of(s));
    EXPECT_EQ(bytes_of(q[2]), bytes_of(b));
    array y = quantized_matmul(x, wq, s, b, tr, gs, bits);
    ASSERT_EQ(y.shape(), out.shape());
    ASSERT_EQ(y.dtype(), out.dtype());
    // Both sides sum products of the same weights: MLX in the dtype, one
    // rounding per operation (<= (K + 3) u E), uma in float32 (<= (3u + K
    // 2^-24) E + u |y|); E = sum |x| (|s q| + |b|).
    int M = x.shape(0), K = x.shape(1), N = out.shape(1);
    auto xv = x.to_vector<double>(), sv = s.to_vector<double>(), bv = b.to_vector<double>();
    auto words = wq.to_vector<uint32_t>();
    auto got = y.to_vector<double>(), want = out.to_vector<double>();
    const double u = unit_roundoff(x.dtype());
    for (int m = 0; m < M; ++m) {
      for (int n = 0; n < N; ++n) {
        double E = 0;
        for (int k = 0; k < K; ++k) {
          size_t i = tr ? size_t(n) * K + k : size_t(k) * N + n;
          E += std::fabs(xv[m * K + k]) * (std::fabs(sv[i / gs] * code_at(words, i, bits)) + std::fabs(bv[i / gs]));
        }
        double bound = ((K + 6) * u + K * std::ldexp(1.0, -24)) * E + 2 * u * std::fabs(want[m * N + n]);
        EXPECT_LE(std::fabs(got[m * N + n] - want[m * N + n]), bound) << "y[" << m << "," << n << "]";
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 14);
}
