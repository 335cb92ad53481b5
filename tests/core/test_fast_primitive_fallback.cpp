// Each fast primitive carries its reference composed of ops (as MLX's
// Custom): on the CPU the op builds the fused primitive and its fallback
// computes the same values from the primitive's own inputs; on a stream
// whose backend has no fast kernel (GPU) the op builds the reference graph.
#include <gtest/gtest.h>

#include "core/util.h"
#include "uma/core/fast.h"
#include "uma/core/primitives/fast.h"
#include "uma/uma.h"

using namespace uma;

namespace {

array ramp(const Shape& shape, float scale) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return reshape(multiply(sin(astype(arange(0, int(n)), float32)), array(scale)), shape);
}

// One instance of each fast op, built on stream-or-device s.
std::vector<array> fast_ops(StreamOrDevice s) {
  array x = ramp({2, 3, 8}, 2.f), w = ramp({8}, 1.f);
  array q = ramp({1, 4, 3, 8}, 1.f), k = ramp({1, 2, 5, 8}, 0.5f), v = ramp({1, 2, 5, 6}, 1.5f);
  return {
      fast::rms_norm(x, w, 1e-5f, s),
      fast::layer_norm(x, w, ramp({8}, 0.1f), 1e-5f, s),
      fast::rope(x, 6, false, 10000.f, 1.f, 2, std::nullopt, s),
      fast::rope(x, 8, true, std::nullopt, 0.5f, 1, array({1.f, 2.f, 4.f, 8.f}), s),
      fast::scaled_dot_product_attention(q, k, v, 0.35f, "causal", std::nullopt, s),
      fast::scaled_dot_product_attention(q, k, v, 0.35f, "", greater(ramp({3, 5}, 1.f), array(-0.5f)), s),
  };
}

}  // namespace

TEST(FastPrimitiveFallback, CpuBuildsTheKernelAndItsFallbackAgrees) {
  std::vector<std::string> names;
  for (array& out : fast_ops(Device{})) {
    auto* custom = dynamic_cast<fast::Custom*>(&out.primitive());
    ASSERT_NE(custom, nullptr) << out.primitive().name();
    names.push_back(custom->name());
    ASSERT_TRUE(custom->fallback());
    std::vector<array> ref = custom->fallback()(out.inputs());
    ASSERT_EQ(ref.size(), 1u);
    EXPECT_EQ(dynamic_cast<fast::Custom*>(&ref[0].primitive()), nullptr) << "the fallback must not recurse";
    EXPECT_EQ(ref[0].shape(), out.shape());
    EXPECT_EQ(ref[0].dtype(), out.dtype());
    test::expect_close(out, ref[0].to_vector<double>(), 1e-5, 1e-5);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"RMSNorm", "LayerNorm", "RoPE", "RoPE", "ScaledDotProductAttention",
                                             "ScaledDotProductAttention"}));
}

TEST(FastPrimitiveFallback, AGpuStreamGetsTheFastPrimitivesToo) {
  // Built only, never evaluated here (the CUDA suite runs them): every
  // backend has the fast kernels, so the graph holds the fused primitive.
  Stream gpu{0, Device{Device::gpu, 0}};
  for (array& out : fast_ops(gpu)) {
    ASSERT_TRUE(out.has_primitive());
    EXPECT_NE(dynamic_cast<fast::Custom*>(&out.primitive()), nullptr) << out.primitive().name();
    EXPECT_EQ(out.primitive().device().type, Device::gpu) << out.primitive().name();
  }
}
