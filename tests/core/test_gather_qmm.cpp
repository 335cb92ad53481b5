// gather_qmm: each output matrix equals quantized_matmul of the x matrix and
// the W matrix its indices pick (the same kernels, so bit for bit), in the
// affine and fp modes, both layouts; index defaults, broadcasting and
// dtypes; out-of-range indices and bad arguments are clear errors. MLX's own
// outputs are checked in test_quantized_goldens.cpp.
#include <gtest/gtest.h>

#include "core/quantized_util.h"
#include "core/util.h"
#include "uma/core/primitives/quantized.h"
#include "uma/core/utils.h"

using namespace uma;
using namespace uma::test;

namespace {

// E experts of (N, K) (transpose) or (K, N), quantized in `mode`.
struct Experts {
  std::vector<array> q;  // wq, scales[, biases], each (E, ., .)
  std::optional<array> biases() const {
    return q.size() > 2 ? std::optional<array>(q[2]) : std::nullopt;
  }
};
Experts make_experts(int E, int N, int K, bool transpose, const std::string& mode, int gs, int bits,
                     uint32_t seed) {
  Shape shape = transpose ? Shape{E, N, K} : Shape{E, K, N};
  array w = array(normal_values(size_t(E) * N * K, seed, 0.1f), shape);
  return {quantize(w, gs, bits, mode)};
}

// Matrix i (along axis 0) of a.
array matrix(const array& a, int i) {
  return squeeze(slice(a, {i, 0, 0}, {i + 1, a.shape(1), a.shape(2)}), 0);
}

std::vector<uint8_t> bytes_of(const array& a) { return view(a, uint8).to_vector<uint8_t>(); }

}  // namespace

TEST(GatherQmm, EachPairIsQuantizedMatmulOfItsMatrices) {
  struct Mode {
    const char* name;
    int gs, bits;
  };
  int seed = 1;
  for (Mode m : {Mode{"affine", 64, 4}, Mode{"affine", 32, 3}, Mode{"mxfp4", 32, 4},
                 Mode{"nvfp4", 16, 4}, Mode{"mxfp8", 32, 8}}) {
    for (bool tr : {true, false}) {
      for (Dtype t : {float32, bfloat16}) {
        SCOPED_TRACE(std::string(m.name) + " bits=" + std::to_string(m.bits) +
                     (tr ? " x@W.T " : " x@W ") + dtype_name(t));
        const int E = 3, N = 64, K = 128, M = 2;
        Experts ex = make_experts(E, N, K, tr, m.name, m.gs, m.bits, seed++);
        array x = astype(array(normal_values(4 * M * K, seed++), {4, M, K}), t);
        // Indices with repeats, of three integer dtypes; lhs (2, 1) and rhs
        // (3,) broadcast to (2, 3).
        array lhs = array({3, 0}, {2, 1});
        array rhs = astype(array({2, 2, 0}, {3}), uint32);
        array y = gather_qmm(x, ex.q[0], ex.q[1], ex.biases(), lhs, rhs, tr, m.gs, m.bits, m.name);
        ASSERT_EQ(y.shape(), (Shape{2, 3, M, N}));
        // Affine promotes x with the (float32) scales; fp modes keep x's dtype.
        ASSERT_EQ(y.dtype(), std::string(m.name) == "affine" ? float32 : t);
        const int li[2] = {3, 0}, ri[3] = {2, 2, 0};
        for (int i = 0; i < 2; ++i) {
          for (int j = 0; j < 3; ++j) {
            std::optional<array> b =
                ex.biases() ? std::optional<array>(matrix(*ex.biases(), ri[j])) : std::nullopt;
            array want = quantized_matmul(matrix(x, li[i]), matrix(ex.q[0], ri[j]),
                                          matrix(ex.q[1], ri[j]), b, tr, m.gs, m.bits, m.name);
            array got = squeeze(slice(y, {i, j, 0, 0}, {i + 1, j + 1, M, N}), {0, 1});
            EXPECT_EQ(bytes_of(got), bytes_of(want)) << "pair " << i << "," << j;
          }
        }
        // int64 indices give the same result.
        array y64 = gather_qmm(x, ex.q[0], ex.q[1], ex.biases(), astype(lhs, int64),
                               astype(rhs, int64), tr, m.gs, m.bits, m.name);
        EXPECT_EQ(bytes_of(y64), bytes_of(y));
      }
    }
  }
}

TEST(GatherQmm, DefaultIndicesAndDtypes) {
  Experts ex = make_experts(2, 32, 64, true, "affine", 64, 4, 50);
  array x = array(normal_values(2 * 3 * 64, 51), {2, 3, 64});
  // Neither index: quantized_matmul (x's batch against W's).
  array y0 = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2]);
  EXPECT_EQ(bytes_of(y0), bytes_of(quantized_matmul(x, ex.q[0], ex.q[1], ex.q[2])));
  // Only rhs: lhs defaults to every x matrix (shape (2,)), broadcast with
  // rhs (2, 1) -> (2, 2): out[i][j] = x[j] @ W[rhs[i]].T.
  array y = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({1, 0}, {2, 1}));
  ASSERT_EQ(y.shape(), (Shape{2, 2, 3, 32}));
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      int r = i == 0 ? 1 : 0;
      array want = quantized_matmul(matrix(x, j), matrix(ex.q[0], r), matrix(ex.q[1], r),
                                    matrix(ex.q[2], r));
      EXPECT_EQ(bytes_of(squeeze(slice(y, {i, j, 0, 0}, {i + 1, j + 1, 3, 32}), {0, 1})),
                bytes_of(want));
    }
  }
  // Only lhs: rhs defaults to every expert.
  array yl = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], array({1, 1}));
  ASSERT_EQ(yl.shape(), (Shape{2, 3, 32}));
  EXPECT_EQ(bytes_of(slice(yl, {1, 0, 0}, {2, 3, 32})),
            bytes_of(expand_dims(quantized_matmul(matrix(x, 1), matrix(ex.q[0], 1),
                                                  matrix(ex.q[1], 1), matrix(ex.q[2], 1)),
                                 0)));
  // bfloat16 x with float32 scales gives float32.
  EXPECT_EQ(gather_qmm(astype(x, bfloat16), ex.q[0], ex.q[1], ex.q[2], array({0})).dtype(),
            float32);
  // fp modes keep x's dtype.
  Experts fx = make_experts(2, 32, 64, true, "mxfp4", 32, 4, 52);
  EXPECT_EQ(gather_qmm(astype(x, float16), fx.q[0], fx.q[1], std::nullopt, array({0}), array({1}),
                       true, 32, 4, "mxfp4")
                .dtype(),
            float16);
}

TEST(GatherQmm, PrimitiveEquivalenceAndShapes) {
  Stream s = default_stream(Device{});
  auto eq = [](const Primitive& a, const Primitive& b) { return a.is_equivalent(b); };
  EXPECT_TRUE(eq(GatherQMM(s, 64, 4, QuantizationMode::affine, true),
                 GatherQMM(s, 64, 4, QuantizationMode::affine, true)));
  EXPECT_FALSE(eq(GatherQMM(s, 64, 4, QuantizationMode::affine, true),
                  GatherQMM(s, 64, 4, QuantizationMode::affine, false)));
  EXPECT_FALSE(eq(GatherQMM(s, 32, 4, QuantizationMode::mxfp4, true),
                  GatherQMM(s, 32, 4, QuantizationMode::affine, true)));
  EXPECT_FALSE(eq(GatherQMM(s, 64, 4, QuantizationMode::affine, true, false, true),
                  GatherQMM(s, 64, 4, QuantizationMode::affine, true, false, false)));
  // sorted_indices counts for the one index array given.
  Experts ex = make_experts(2, 32, 64, true, "affine", 32, 4, 53);
  array x = ones({1, 1, 64});
  array a = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0, 1}), true, 32, 4,
                       "affine", true);
  array b = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0, 1}), true, 32, 4,
                       "affine", false);
  EXPECT_FALSE(a.primitive().is_equivalent(b.primitive()));
  EXPECT_EQ(a.primitive().output_shapes(a.inputs()).at(0), a.shape());
  EXPECT_EQ(bytes_of(a), bytes_of(b));
}

TEST(GatherQmm, ClearErrors) {
  Experts ex = make_experts(3, 32, 64, true, "affine", 32, 4, 60);
  array x = ones({2, 1, 64});
  // Out of range and negative indices: found when the result is computed.
  array bad = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0, 3}), true, 32, 4);
  EXPECT_EQ(
      error_of([&] { eval(bad); }),
      "[gather_qmm] rhs_indices holds 3 (flat position 1), out of range for the 3 matrices of w");
  array neg = gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], array({-1}), std::nullopt, true, 32, 4);
  EXPECT_EQ(
      error_of([&] { eval(neg); }),
      "[gather_qmm] lhs_indices holds -1 (flat position 0), out of range for the 2 matrices of x");
  EXPECT_EQ(error_of([&] {
              gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], array({0.f}), std::nullopt, true, 32, 4);
            }),
            "[gather_qmm] lhs_indices must have an integer dtype, got float32");
  EXPECT_NE(
      error_of([&] {
        gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], array({0, 1}), array({0, 1, 2}), true, 32, 4);
      }).find("[gather_qmm]"),
      std::string::npos);
  EXPECT_EQ(error_of([&] {
              gather_qmm(ones({64}), ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0}), true, 32,
                         4);
            }),
            "[gather_qmm] x needs at least 2 dimensions (..., M, K), got shape (64)");
  EXPECT_EQ(error_of([&] {
              gather_qmm(ones({2, 1, 32}), ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0}),
                         true, 32, 4);
            }),
            "[gather_qmm] the last dimension of x (2,1,32) does not match the quantized matrix "
            "(64, 32) that w "
            "(3,32,8) holds with group_size=32, bits=4 and transpose=true");
  EXPECT_EQ(error_of([&] {
              gather_qmm(x, ex.q[0], ex.q[1], std::nullopt, std::nullopt, array({0}), true, 32, 4);
            }),
            "[gather_qmm] biases must be given for affine quantization");
  EXPECT_EQ(error_of([&] {
              gather_qmm(x, ex.q[0], ex.q[1], ex.q[2], std::nullopt, array({0}), true, 32, 4,
                         "mxfp4");
            }),
            "[gather_qmm] mode 'mxfp4' takes no biases, got biases of shape (3,32,2)");
  EXPECT_EQ(error_of([&] {
              gather_qmm(x, ex.q[0], ex.q[1], std::nullopt, std::nullopt, array({0}), true, 32, 4,
                         "mxfp4");
            }),
            "[gather_qmm] scales must be uint8 for mode 'mxfp4' (E8M0 bytes), got float32");
}

TEST(GatherQmm, GradientOfXSumsOverThePairs) {
  for (const char* mode : {"mxfp4", "affine"}) {
    SCOPED_TRACE(mode);
    Experts ex = make_experts(3, 24, 64, true, mode, 32, 4, 70);
    array x = array(normal_values(2 * 3 * 64, 71), {2, 3, 64});
    const int li[4] = {1, 0, 1, 1}, ri[4] = {2, 0, 0, 1};  // x matrix 1 is used three times
    array lhs = array({1, 0, 1, 1}), rhs = array({2, 0, 0, 1});
    array y = gather_qmm(x, ex.q[0], ex.q[1], ex.biases(), lhs, rhs, true, 32, 4, mode);
    ASSERT_EQ(y.shape(), (Shape{4, 3, 24}));
    array cot = array(normal_values(4 * 3 * 24, 72), {4, 3, 24});
    auto vjp = y.primitive().vjp(y.inputs(), {cot}, {0}, {y});
    ASSERT_EQ(vjp.size(), 1u);
    ASSERT_EQ(vjp[0].shape(), x.shape());
    // dx[j] = sum over pairs i with lhs[i] = j of cot[i] @ W[rhs[i]].
    array wd = dequantize(ex.q[0], ex.q[1], ex.biases(), 32, 4, mode, std::nullopt, float32);
    std::vector<double> want(2 * 3 * 64, 0.0);
    for (int i = 0; i < 4; ++i) {
      auto g = matmul(matrix(cot, i), matrix(wd, ri[i])).to_vector<double>();
      for (size_t k = 0; k < g.size(); ++k) want[size_t(li[i]) * g.size() + k] += g[k];
    }
    expect_close(vjp[0], want, 1e-5, 1e-5);
    // The jvp is the same product of the tangent.
    array tan = array(normal_values(2 * 3 * 64, 73), {2, 3, 64});
    auto jvp = y.primitive().jvp(y.inputs(), {tan}, {0});
    EXPECT_EQ(bytes_of(jvp.at(0)), bytes_of(gather_qmm(tan, ex.q[0], ex.q[1], ex.biases(), lhs, rhs,
                                                       true, 32, 4, mode)));
    EXPECT_THROW(y.primitive().vjp(y.inputs(), {cot}, {1}, {y}), not_implemented);
  }
}
