// The one shape of every primitive: each class of each family list names
// itself, throws by name from eval_gpu (no GPU backend in this build) and
// from the transforms it has no rule for, tells equal parameters from
// different ones, and infers the output shapes its op recorded.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/util.h"
#include "uma/core/primitive.h"
#include "uma/core/primitives/all.h"
#include "uma/uma.h"

using namespace uma;

namespace {

Stream cpu() { return default_stream(Device{}); }

using Prim = std::shared_ptr<Primitive>;

// One instance of each parameterized primitive; a class added to a family
// list without a sample here fails to link.
template <typename P>
Prim sample_with_params();

template <typename P>
Prim sample() {
  if constexpr (std::is_constructible_v<P, Stream>) {
    return std::make_shared<P>(cpu());
  } else {
    return sample_with_params<P>();
  }
}

#define UMA_SAMPLE(P, ...) \
  template <>              \
  Prim sample_with_params<P>() { return std::make_shared<P>(cpu(), __VA_ARGS__); }
UMA_SAMPLE(Reshape, Shape{2, 3})
UMA_SAMPLE(Transpose, std::vector<int>{1, 0})
UMA_SAMPLE(Broadcast, Shape{2, 3})
UMA_SAMPLE(AsStrided, Shape{2}, Strides{1}, 0)
UMA_SAMPLE(Slice, Shape{0}, Shape{2}, Shape{1})
UMA_SAMPLE(AsType, float32)
UMA_SAMPLE(View, int32)
UMA_SAMPLE(Full, Shape{2, 3})
UMA_SAMPLE(Arange, 0.0, 4.0, 1.0)
UMA_SAMPLE(Concatenate, 0)
UMA_SAMPLE(Pad, std::vector<int>{0}, Shape{1}, Shape{1})
UMA_SAMPLE(SliceUpdate, Shape{0}, Shape{2}, Shape{1})
UMA_SAMPLE(DynamicSlice, std::vector<int>{0}, Shape{2})
UMA_SAMPLE(DynamicSliceUpdate, std::vector<int>{0})
UMA_SAMPLE(Diagonal, 0, 0, 1)
UMA_SAMPLE(Gather, std::vector<int>{0}, Shape{1})
UMA_SAMPLE(Scatter, ScatterReduce::none, std::vector<int>{0})
UMA_SAMPLE(GatherAxis, 0)
UMA_SAMPLE(ScatterAxis, ScatterReduce::none, 0)
UMA_SAMPLE(Reduce, Reduce::Type::sum, std::vector<int>{0})
UMA_SAMPLE(ArgReduce, ArgReduce::Type::argmax, 0)
UMA_SAMPLE(Scan, Scan::Type::sum, 0, false, true)
UMA_SAMPLE(Softmax, false)
UMA_SAMPLE(AddMM, 1.f, 0.f)
UMA_SAMPLE(Hadamard, 0.5f)
UMA_SAMPLE(BlockMaskedMM, 32)
UMA_SAMPLE(Convolution, std::vector<int>{1}, std::vector<int>{0}, std::vector<int>{0}, std::vector<int>{1},
           std::vector<int>{1}, 1, false)
UMA_SAMPLE(Sort, 0)
UMA_SAMPLE(ArgSort, 0)
UMA_SAMPLE(Partition, 1, 0)
UMA_SAMPLE(ArgPartition, 1, 0)
UMA_SAMPLE(RandomBits, Shape{4}, 4)
UMA_SAMPLE(Quantize, 64, 4, QuantizationMode::affine)
UMA_SAMPLE(FFT, std::vector<int>{0}, Shape{4}, false, false)
UMA_SAMPLE(Dequantize, 64, 4, QuantizationMode::affine, float32)
UMA_SAMPLE(QuantizedMatmul, 64, 4, QuantizationMode::affine, true)
UMA_SAMPLE(GatherQMM, 64, 4, QuantizationMode::affine, true)
UMA_SAMPLE(GgufMatmul, 14u)
UMA_SAMPLE(GgufDequantize, 14u, float32)
UMA_SAMPLE(fast::RMSNorm, fast::Custom::Fallback{}, 1e-5f, true)
UMA_SAMPLE(fast::LayerNorm, fast::Custom::Fallback{}, 1e-5f, true, false)
UMA_SAMPLE(fast::RoPE, fast::Custom::Fallback{}, 4, false, 10000.f, 1.f, false)
UMA_SAMPLE(fast::ScaledDotProductAttention, fast::Custom::Fallback{}, 0.5f, true, false)
UMA_SAMPLE(CustomTransforms, 1, CustomTransforms::Fn{}, CustomTransforms::VjpFn{}, CustomTransforms::JvpFn{},
           CustomTransforms::VmapFn{})
UMA_SAMPLE(Depends, 1)
UMA_SAMPLE(Inverse, false, false)
UMA_SAMPLE(SVD, true)
UMA_SAMPLE(Eigh, true)
UMA_SAMPLE(Eig, true)
UMA_SAMPLE(Compiled, 1, std::vector<Compiled::Step>{}, std::vector<int>{})
#undef UMA_SAMPLE

struct Entry {
  std::string cls;  // the class name as listed
  Prim prim;
};

std::vector<Entry> every_primitive() {
  std::vector<Entry> all;
#define UMA_ENTRY(P) all.push_back({#P, sample<P>()});
  UMA_CORE_PRIMITIVES(UMA_ENTRY)
  UMA_CORE_MULTI_PRIMITIVES(UMA_ENTRY)
#undef UMA_ENTRY
#define UMA_ENTRY(P) all.push_back({#P, sample<fast::P>()});
  UMA_FAST_PRIMITIVES(UMA_ENTRY)
#undef UMA_ENTRY
  return all;
}

// The message of the not_implemented that f throws ("" if it throws none).
template <typename F>
std::string not_implemented_message(F&& f) {
  try {
    f();
  } catch (const not_implemented& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Primitives, EveryListedPrimitiveNamesItself) {
  // Classes whose name follows a parameter, for the samples above.
  const std::map<std::string, std::string> by_parameter{{"Reduce", "Sum"}, {"ArgReduce", "ArgMax"}, {"Scan", "CumSum"}};
  auto all = every_primitive();
  EXPECT_GE(all.size(), 90u);
  std::set<std::string> names;
  for (auto& [cls, p] : all) {
    auto it = by_parameter.find(cls);
    EXPECT_EQ(p->name(), it == by_parameter.end() ? cls : it->second);
    names.insert(p->name());
  }
  EXPECT_EQ(names.size(), all.size()) << "two listed primitives share a name";
}

TEST(Primitives, NamesFollowParameters) {
  std::vector<std::pair<Reduce::Type, const char*>> reduces{{Reduce::Type::sum, "Sum"}, {Reduce::Type::prod, "Prod"},
                                                            {Reduce::Type::max, "Max"}, {Reduce::Type::min, "Min"},
                                                            {Reduce::Type::all, "All"}, {Reduce::Type::any, "Any"}};
  for (auto [t, n] : reduces) EXPECT_STREQ(Reduce(cpu(), t, {0}).name(), n);
  std::vector<std::pair<Scan::Type, const char*>> scans{{Scan::Type::sum, "CumSum"}, {Scan::Type::prod, "CumProd"},
                                                        {Scan::Type::max, "CumMax"}, {Scan::Type::min, "CumMin"},
                                                        {Scan::Type::logaddexp, "CumLogSumExp"}};
  for (auto [t, n] : scans) EXPECT_STREQ(Scan(cpu(), t, 0, false, true).name(), n);
  EXPECT_STREQ(ArgReduce(cpu(), ArgReduce::Type::argmin, 0).name(), "ArgMin");
  std::vector<std::pair<ScatterReduce, const char*>> scatters{
      {ScatterReduce::none, "Scatter"}, {ScatterReduce::sum, "ScatterAdd"}, {ScatterReduce::prod, "ScatterProd"},
      {ScatterReduce::max, "ScatterMax"}, {ScatterReduce::min, "ScatterMin"}};
  for (auto [r, n] : scatters) EXPECT_STREQ(Scatter(cpu(), r, {0}).name(), n);
  EXPECT_STREQ(ScatterAxis(cpu(), ScatterReduce::sum, 0).name(), "ScatterAddAxis");
  EXPECT_STREQ(Equal(cpu(), true).name(), "NaNEqual");
}

TEST(Primitives, EvalGpuThrowsByNameWithoutAGpuBackend) {
  for (auto& [cls, p] : every_primitive()) {
    std::vector<array> outs{array(0.f)};
    std::string msg = not_implemented_message([&] { p->eval_gpu({}, outs); });
    EXPECT_EQ(msg, std::string("[") + p->name() + "] no GPU backend built (configure with -DUMA_CUDA=ON)") << cls;
  }
}

TEST(Primitives, MissingTransformRulesThrowByName) {
  std::vector<array> none;
  auto vjp = [&](Primitive& p) { return not_implemented_message([&] { p.vjp(none, none, {}, none); }); };
  auto jvp = [&](Primitive& p) { return not_implemented_message([&] { p.jvp(none, none, {}); }); };
  EXPECT_EQ(vjp(*sample<View>()), "[View] has no vjp rule yet");
  EXPECT_EQ(jvp(*sample<View>()), "[View] has no jvp rule yet");
  EXPECT_EQ(jvp(*sample<Quantize>()), "[Quantize] has no jvp rule yet");
  EXPECT_EQ(vjp(*sample<Quantize>()), "[Quantize] has no vjp rule yet");
  EXPECT_EQ(vjp(*sample<Eig>()), "[Eig] has no vjp rule yet");
  EXPECT_EQ(jvp(*sample<LUF>()), "[LUF] has no jvp rule yet");
}

TEST(Primitives, ExistingRulesStillApply) {
  array a = array({1.0, 2.0, 3.0, 4.0}, {2, 2}), b = array({1.0, 0.0, 0.0, 1.0}, {2, 2});
  array m = matmul(a, b);
  // d(a @ b)/da applied to cotangent ones: ones @ b^T.
  auto g = m.primitive().vjp(m.inputs(), {ones({2, 2}, float64)}, {0}, {m});
  test::expect_close(g.at(0), {1, 1, 1, 1});
  array c = concatenate({a, b}, 0);
  auto t = c.primitive().jvp(c.inputs(), {b}, {1});
  test::expect_close(t.at(0), {0, 0, 0, 0, 1, 0, 0, 1});
}

TEST(Primitives, EquivalenceComparesKindAndParameters) {
  Stream s = cpu();
  auto eq = [](const Primitive& a, const Primitive& b) { return a.is_equivalent(b); };
  // elementwise
  EXPECT_TRUE(eq(Exp(s), Exp(s)));
  EXPECT_FALSE(eq(Exp(s), Log(s)));
  EXPECT_TRUE(eq(Equal(s, true), Equal(s, true)));
  EXPECT_FALSE(eq(Equal(s, true), Equal(s, false)));
  // shape
  EXPECT_TRUE(eq(Reshape(s, {2, 3}), Reshape(s, {2, 3})));
  EXPECT_FALSE(eq(Reshape(s, {2, 3}), Reshape(s, {3, 2})));
  EXPECT_FALSE(eq(Reshape(s, {2, 3}), Broadcast(s, {2, 3})));
  EXPECT_FALSE(eq(Slice(s, {0}, {4}, {1}), Slice(s, {0}, {4}, {2})));
  EXPECT_TRUE(eq(View(s, int32), View(s, int32)));
  EXPECT_FALSE(eq(View(s, int32), View(s, float32)));
  EXPECT_FALSE(eq(AsType(s, int32), AsType(s, float32)));
  EXPECT_FALSE(eq(Copy(s), Full(s, {})));  // kinds differ
  EXPECT_FALSE(eq(Full(s, {2}), Full(s, {3})));
  EXPECT_FALSE(eq(Arange(s, 0, 4, 1), Arange(s, 0, 4, 2)));
  // manipulation
  EXPECT_TRUE(eq(Concatenate(s, 0), Concatenate(s, 0)));
  EXPECT_FALSE(eq(Concatenate(s, 0), Concatenate(s, 1)));
  EXPECT_FALSE(eq(Pad(s, {0}, {1}, {1}), Pad(s, {0}, {1}, {2})));
  EXPECT_FALSE(eq(Diagonal(s, 0, 0, 1), Diagonal(s, 1, 0, 1)));
  // indexing
  EXPECT_TRUE(eq(Gather(s, {0}, {1}), Gather(s, {0}, {1})));
  EXPECT_FALSE(eq(Gather(s, {0}, {1}, true), Gather(s, {0}, {1}, false)));
  EXPECT_FALSE(eq(Scatter(s, ScatterReduce::sum, {0}), Scatter(s, ScatterReduce::max, {0})));
  EXPECT_FALSE(eq(GatherAxis(s, 0), GatherAxis(s, 1)));
  // reduction
  EXPECT_TRUE(eq(Reduce(s, Reduce::Type::sum, {0, 1}), Reduce(s, Reduce::Type::sum, {0, 1})));
  EXPECT_FALSE(eq(Reduce(s, Reduce::Type::sum, {0}), Reduce(s, Reduce::Type::prod, {0})));
  EXPECT_FALSE(eq(Reduce(s, Reduce::Type::sum, {0}), Reduce(s, Reduce::Type::sum, {1})));
  EXPECT_FALSE(eq(Softmax(s, true), Softmax(s, false)));
  EXPECT_TRUE(eq(LogSumExp(s), LogSumExp(s)));
  // linalg
  EXPECT_TRUE(eq(Matmul(s), Matmul(s)));
  EXPECT_TRUE(eq(AddMM(s, 1.f, 2.f), AddMM(s, 1.f, 2.f)));
  EXPECT_FALSE(eq(AddMM(s, 1.f, 2.f), AddMM(s, 2.f, 2.f)));
  EXPECT_FALSE(eq(Matmul(s), AddMM(s, 1.f, 0.f)));
  EXPECT_TRUE(eq(Hadamard(s, 0.5f), Hadamard(s, 0.5f)));
  EXPECT_FALSE(eq(Hadamard(s, 0.5f), Hadamard(s, 0.25f)));
  EXPECT_FALSE(eq(Hadamard(s, 0.5f), Hadamard(s, 0.5f, true)));
  EXPECT_TRUE(eq(GatherMM(s), GatherMM(s)));
  EXPECT_FALSE(eq(GatherMM(s, false, true), GatherMM(s)));
  EXPECT_TRUE(eq(SegmentedMM(s), SegmentedMM(s)));
  EXPECT_FALSE(eq(SegmentedMM(s), GatherMM(s)));
  EXPECT_TRUE(eq(BlockMaskedMM(s, 32), BlockMaskedMM(s, 32)));
  EXPECT_FALSE(eq(BlockMaskedMM(s, 32), BlockMaskedMM(s, 64)));
  // conv
  auto conv = [&](std::vector<int> st, std::vector<int> lo, std::vector<int> hi, std::vector<int> kd,
                  std::vector<int> id, int g, bool f) { return Convolution(s, st, lo, hi, kd, id, g, f); };
  EXPECT_TRUE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {0}, {1}, {1}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({1}, {1}, {0}, {1}, {1}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {0}, {0}, {1}, {1}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {1}, {1}, {1}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {0}, {2}, {1}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {0}, {1}, {2}, 1, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {0}, {1}, {1}, 2, false)));
  EXPECT_FALSE(eq(conv({2}, {1}, {0}, {1}, {1}, 1, false), conv({2}, {1}, {0}, {1}, {1}, 1, true)));
  // LAPACK
  EXPECT_TRUE(eq(Inverse(s, true, false), Inverse(s, true, false)));
  EXPECT_FALSE(eq(Inverse(s, true, false), Inverse(s, true, true)));
  EXPECT_FALSE(eq(Inverse(s, false, false), Inverse(s, true, false)));
  EXPECT_FALSE(eq(SVD(s, true), SVD(s, false)));
  EXPECT_FALSE(eq(Eigh(s, true), Eigh(s, false)));
  EXPECT_FALSE(eq(Eig(s, true), Eig(s, false)));
  EXPECT_TRUE(eq(QRF(s), QRF(s)));
  EXPECT_FALSE(eq(QRF(s), LUF(s)));
  EXPECT_FALSE(eq(Cholesky(s), Inverse(s, false, false)));
  // sort
  EXPECT_TRUE(eq(Partition(s, 2, 0), Partition(s, 2, 0)));
  EXPECT_FALSE(eq(Partition(s, 2, 0), Partition(s, 1, 0)));
  EXPECT_FALSE(eq(Sort(s, 0), ArgSort(s, 0)));
  // random
  EXPECT_TRUE(eq(RandomBits(s, {4}, 4), RandomBits(s, {4}, 4)));
  EXPECT_FALSE(eq(RandomBits(s, {4}, 4), RandomBits(s, {4}, 2)));
  // quantized
  EXPECT_TRUE(eq(Quantize(s, 64, 4, QuantizationMode::affine), Quantize(s, 64, 4, QuantizationMode::affine)));
  EXPECT_FALSE(eq(Quantize(s, 64, 4, QuantizationMode::affine), Quantize(s, 32, 4, QuantizationMode::affine)));
  EXPECT_FALSE(eq(Quantize(s, 64, 4, QuantizationMode::affine), Quantize(s, 64, 8, QuantizationMode::affine)));
  EXPECT_FALSE(eq(Dequantize(s, 64, 4, QuantizationMode::affine, float32),
                  Dequantize(s, 64, 4, QuantizationMode::affine, float16)));
  EXPECT_FALSE(eq(QuantizedMatmul(s, 64, 4, QuantizationMode::affine, true),
                  QuantizedMatmul(s, 64, 4, QuantizationMode::affine, false)));
  EXPECT_FALSE(eq(QuantizedMatmul(s, 64, 4, QuantizationMode::affine, true),
                  QuantizedMatmul(s, 128, 4, QuantizationMode::affine, true)));
  // fast: the fallback is a function of the parameters, so it is not compared
  auto ref = [](const std::vector<array>& in) { return in; };
  EXPECT_TRUE(eq(fast::RMSNorm(s, ref, 1e-5f, true), fast::RMSNorm(s, {}, 1e-5f, true)));
  EXPECT_FALSE(eq(fast::RMSNorm(s, ref, 1e-5f, true), fast::RMSNorm(s, ref, 1e-6f, true)));
  EXPECT_FALSE(eq(fast::RoPE(s, ref, 4, false, 1e4f, 1.f, false), fast::RoPE(s, ref, 4, true, 1e4f, 1.f, false)));
}
