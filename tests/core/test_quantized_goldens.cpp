// quantize / dequantize byte for byte against MLX 846d176's own outputs
// (tests/fixtures/quantization, made by make_quant_goldens.cpp there; see its
// README), for the affine and the fp modes (mxfp4, nvfp4, mxfp8), and
// quantized_matmul and gather_qmm against MLX's within the error bound of
// the two summation orders (MLX's CPU path sums in the result dtype, uma in
// float32, so the outputs are not byte-equal).
#include <gtest/gtest.h>

#include <optional>
#include <set>

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

std::optional<array> maybe(const std::map<std::string, array>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::nullopt : std::optional<array>(it->second);
}

// The prefixes of the cases in a fixture: keys "<prefix>.out" that start
// with `start`.
std::vector<std::string> cases_of(const std::map<std::string, array>& f, const std::string& start) {
  std::vector<std::string> out;
  for (auto& [key, v] : f) {
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".out") == 0 && key.rfind(start, 0) == 0) {
      out.push_back(key.substr(0, key.size() - 4));
    }
  }
  return out;
}

// The packed matrices of a case, each as a[n * K + k] = |W(k, n)| terms of
// the products x_k W(k, n): |s q| + |b| (affine) or |w| (fp).
struct PackedCase {
  std::string mode;
  int bits, gs;
  bool transpose;
};
PackedCase parse_case(const std::string& p, const std::string& head) {
  // <head>_<b<bits>|mxfp4>_g<group>_<t|n>_...
  std::string rest = p.substr(head.size() + 1);
  PackedCase c{"affine", 0, 0, rest.find("_t_") != std::string::npos};
  if (rest.rfind("mxfp4", 0) == 0) {
    c.mode = "mxfp4";
    c.bits = 4;
  } else {
    c.bits = std::stoi(rest.substr(1));
  }
  c.gs = std::stoi(rest.substr(rest.find("_g") + 2));
  return c;
}
std::vector<double> weight_terms(const PackedCase& c, array wq, array scales,
                                 std::optional<array> biases, int64_t K, int64_t N) {
  const int64_t mats = wq.size() / (wq.shape(-2) * int64_t(wq.shape(-1))), per = K * N;
  auto words = wq.to_vector<uint32_t>();
  std::vector<double> vals(size_t(mats * per)), terms(vals.size());
  if (c.mode == "affine") {
    auto s = scales.to_vector<double>(), b = biases->to_vector<double>();
    for (size_t i = 0; i < vals.size(); ++i) {
      vals[i] = std::fabs(s[i / c.gs] * code_at(words, i, c.bits)) + std::fabs(b[i / c.gs]);
    }
  } else {
    vals = fp_matrix(words, scales.to_vector<uint8_t>(), c.mode, size_t(mats), size_t(per));
    for (auto& v : vals) v = std::fabs(v);
  }
  // Stored (N, K) when transposed, else (K, N).
  for (int64_t m = 0; m < mats; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t k = 0; k < K; ++k) {
        terms[m * per + n * K + k] = vals[m * per + (c.transpose ? n * K + k : k * N + n)];
      }
    }
  }
  return terms;
}

// Both sides sum products of the same weights: MLX in the dtype, one
// rounding per operation (<= (K + 3) u E), uma in float32 (<= (3u + K
// 2^-24) E + u |y|); E = sum_k |x_k| a_nk. Checks one (M, N) product.
void expect_within_sum_bound(const double* got, const double* want, const double* x,
                             const double* a, int64_t M, int64_t N, int64_t K, double u) {
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double E = 0;
      for (int64_t k = 0; k < K; ++k) E += std::fabs(x[m * K + k]) * a[n * K + k];
      double bound =
          ((K + 6) * u + K * std::ldexp(1.0, -24)) * E + 2 * u * std::fabs(want[m * N + n]);
      EXPECT_LE(std::fabs(got[m * N + n] - want[m * N + n]), bound) << "y[" << m << "," << n << "]";
    }
  }
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

TEST(QuantizeGoldens, FpQuantizeAndDequantizeAreByteExact) {
  auto f = load_fixture("fp.safetensors");
  struct Mode {
    const char* name;
    int gs, bits;
  };
  int cases = 0;
  for (Mode m : {Mode{"mxfp4", 32, 4}, Mode{"nvfp4", 16, 4}, Mode{"mxfp8", 32, 8}}) {
    for (const char* t : {"float32", "float16", "bfloat16"}) {
      std::string p = std::string(m.name) + "_g" + std::to_string(m.gs) + "_" + t;
      SCOPED_TRACE(p);
      const array& w = get(f, p + ".w");
      // Defaults are the mode's group size and bits.
      auto q = quantize(w, std::nullopt, std::nullopt, m.name);
      ASSERT_EQ(q.size(), 2u);
      EXPECT_EQ(q[0].shape(), get(f, p + ".wq").shape());
      EXPECT_EQ(bytes_of(q[0]), bytes_of(get(f, p + ".wq")));
      EXPECT_EQ(q[1].dtype(), uint8);
      EXPECT_EQ(bytes_of(q[1]), bytes_of(get(f, p + ".scales")));
      // dequantize of MLX's packed tensors: bfloat16 by default, or w's dtype.
      const array& wq = get(f, p + ".wq");
      const array& sc = get(f, p + ".scales");
      array d = dequantize(wq, sc, std::nullopt, m.gs, m.bits, m.name);
      EXPECT_EQ(d.dtype(), bfloat16);
      EXPECT_EQ(bytes_of(d), bytes_of(get(f, p + ".deq")));
      array dw = dequantize(wq, sc, std::nullopt, m.gs, m.bits, m.name, std::nullopt, w.dtype());
      EXPECT_EQ(dw.dtype(), w.dtype());
      EXPECT_EQ(bytes_of(dw), bytes_of(get(f, p + ".deq_wdtype")));
      ++cases;
    }
  }
  // nvfp4 with a global scale.
  std::string p = "nvfp4_g16_float32_gs";
  const array& gs = get(f, p + ".global_scale");
  auto q = quantize(get(f, p + ".w"), 16, 4, "nvfp4", gs);
  EXPECT_EQ(bytes_of(q[0]), bytes_of(get(f, p + ".wq")));
  EXPECT_EQ(bytes_of(q[1]), bytes_of(get(f, p + ".scales")));
  array d = dequantize(get(f, p + ".wq"), get(f, p + ".scales"), std::nullopt, 16, 4, "nvfp4", gs,
                       float32);
  EXPECT_EQ(bytes_of(d), bytes_of(get(f, p + ".deq_wdtype")));
  // The global scale changes the codes (else the case would test nothing).
  EXPECT_NE(bytes_of(q[1]), bytes_of(get(f, "nvfp4_g16_float32.scales")));
  EXPECT_EQ(cases, 9);
}

TEST(QuantizeGoldens, QuantizedMatmulWithinTheSummationBound) {
  // MLX's arithmetic: x in float (the int8 path is checked against its own
  // model in test_quantized_matmul.cpp).
  Float32QmmScope exact;
  auto f = load_fixture("qmm.safetensors");
  int cases = 0, fp_cases = 0;
  for (const std::string& p : cases_of(f, "qmm_")) {
    SCOPED_TRACE(p);
    PackedCase c = parse_case(p, "qmm");
    array x = get(f, p + ".x"), w = get(f, p + ".w"), out = get(f, p + ".out");
    array wq = get(f, p + ".wq"), s = get(f, p + ".scales");
    std::optional<array> b = maybe(f, p + ".biases");
    // The packed operands are MLX's quantize of w, byte for byte.
    auto q = quantize(w, c.gs, c.bits, c.mode);
    EXPECT_EQ(bytes_of(q[0]), bytes_of(wq));
    EXPECT_EQ(bytes_of(q[1]), bytes_of(s));
    if (b) {
      EXPECT_EQ(bytes_of(q.at(2)), bytes_of(*b));
    }
    array y = quantized_matmul(x, wq, s, b, c.transpose, c.gs, c.bits, c.mode);
    ASSERT_EQ(y.shape(), out.shape());
    ASSERT_EQ(y.dtype(), out.dtype());
    int64_t M = x.shape(0), K = x.shape(1), N = out.shape(1);
    auto a = weight_terms(c, wq, s, b, K, N);
    auto xv = x.to_vector<double>(), got = y.to_vector<double>(), want = out.to_vector<double>();
    expect_within_sum_bound(got.data(), want.data(), xv.data(), a.data(), M, N, K,
                            unit_roundoff(x.dtype()));
    ++cases;
    fp_cases += c.mode != "affine";
  }
  EXPECT_EQ(cases, 17);
  EXPECT_EQ(fp_cases, 3);
}

namespace {

// Entry i of `v` (shape `shape`) broadcast to `to` (NumPy rules).
int64_t broadcast_entry(const std::vector<int64_t>& v, const Shape& shape, const Shape& to,
                        int64_t i) {
  int64_t off = 0, stride = 1;
  for (int d = int(to.size()) - 1, sd = int(shape.size()) - 1; d >= 0; --d, --sd) {
    int64_t pos = i % to[d];
    i /= to[d];
    if (sd >= 0) {
      if (shape[sd] != 1) off += pos * stride;
      stride *= shape[sd];
    }
  }
  return v[size_t(off)];
}

// An index array as given, or the default: every matrix of a (shape a's batch dims).
std::pair<std::vector<int64_t>, Shape> indices_or_all(std::optional<array> idx, const array& a) {
  if (idx) return {idx->to_vector<int64_t>(), idx->shape()};
  Shape batch(a.shape().begin(), a.shape().end() - 2);
  int64_t n = 1;
  for (auto d : batch) n *= d;
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[size_t(i)] = i;
  return {all, batch};
}

}  // namespace

TEST(QuantizeGoldens, GatherQmmWithinTheSummationBound) {
  Float32QmmScope exact;  // MLX's arithmetic, as above
  auto f = load_fixture("gather_qmm.safetensors");
  int cases = 0, fp_cases = 0, repeated = 0;
  for (const std::string& p : cases_of(f, "gqmm_")) {
    SCOPED_TRACE(p);
    PackedCase c = parse_case(p, "gqmm");
    array x = get(f, p + ".x"), wq = get(f, p + ".wq"), s = get(f, p + ".scales"),
          out = get(f, p + ".out");
    std::optional<array> b = maybe(f, p + ".biases"), lhs = maybe(f, p + ".lhs_indices"),
                         rhs = maybe(f, p + ".rhs_indices");
    array y = gather_qmm(x, wq, s, b, lhs, rhs, c.transpose, c.gs, c.bits, c.mode,
                         p.find("_rhs") != std::string::npos);
    ASSERT_EQ(y.shape(), out.shape());
    ASSERT_EQ(y.dtype(), out.dtype());
    const int64_t M = x.shape(-2), K = x.shape(-1), N = out.shape(-1);
    auto a = weight_terms(c, wq, s, b, K, N);
    auto xv = x.to_vector<double>(), got = y.to_vector<double>(), want = out.to_vector<double>();
    auto [lv, ls] = indices_or_all(lhs, x);
    auto [rv, rs] = indices_or_all(rhs, wq);
    Shape batch(out.shape().begin(), out.shape().end() - 2);
    std::set<int64_t> experts;
    for (int64_t i = 0; i < int64_t(out.size() / (M * N)); ++i) {
      int64_t xi = broadcast_entry(lv, ls, batch, i), wi = broadcast_entry(rv, rs, batch, i);
      repeated += !experts.insert(wi).second;
      expect_within_sum_bound(got.data() + i * M * N, want.data() + i * M * N,
                              xv.data() + xi * M * K, a.data() + wi * N * K, M, N, K,
                              unit_roundoff(x.dtype()));
    }
    ++cases;
    fp_cases += c.mode != "affine";
  }
  EXPECT_EQ(cases, 7);
  EXPECT_EQ(fp_cases, 3);
  EXPECT_GT(repeated, 0);  // the cases reuse experts
}
