// output_shapes of every primitive in the graphs of a set of ops equals the
// shape the op recorded on the node, so a shapeless compile can re-infer it.
#include <gtest/gtest.h>

#include <unordered_set>

#include "uma/core/fast.h"
#include "uma/core/primitive.h"
#include "uma/uma.h"

using namespace uma;

namespace {

// Checks every node of out's graph; returns the names of the primitives seen.
void check_graph(const array& out, std::set<std::string>& seen, std::unordered_set<const Primitive*>& visited) {
  if (!out.has_primitive() || !visited.insert(&out.primitive()).second) return;
  Primitive& p = out.primitive();
  seen.insert(p.name());
  EXPECT_EQ(p.output_shapes(out.inputs()).at(0), out.shape()) << p.name();
  for (auto& in : out.inputs()) check_graph(in, seen, visited);
}

}  // namespace

TEST(PrimitiveShapes, OutputShapesMatchTheOps) {
  array x = reshape(astype(arange(24), float32), {2, 3, 4});
  array idx = array({2, 0, 1});
  array q = astype(reshape(arange(2 * 4 * 3 * 8), {2, 4, 3, 8}), float32);
  array kv = slice(q, {0, 0, 0, 0}, {2, 2, 3, 8});
  auto qw = quantize(astype(reshape(arange(8 * 64), {8, 64}), float32), 32, 4);
  std::vector<array> outs{
      transpose(x, {2, 0, 1}),
      broadcast_to(reshape(x, {2, 3, 1, 4}), {2, 3, 5, 4}),
      slice(x, {1, 2, 3}, {0, 0, 0}, {-1, -2, -2}),
      slice(x, {0, 0, 1}, {2, 3, 4}, {1, 2, 2}),
      as_strided(x, {3, 2}, {1, 3}, 2),
      view(x, int16),
      copy(transpose(x)),
      full({2, 2}, array(1.f)),
      arange(0.5, 7.0, 1.5),
      concatenate({x, x, slice(x, {0, 0, 0}, {2, 3, 1})}, 2),
      pad(x, std::vector<int>{0, 2}, Shape{1, 0}, Shape{2, 3}),
      slice_update(x, ones({2, 1, 2}), {0, 1, 0}, {2, 2, 4}, {1, 1, 2}),
      dynamic_slice(x, array({1}), {1}, {2, 1, 3}),
      dynamic_slice_update(x, ones({1, 2, 4}), array({1}), {1}),
      diagonal(x, 1, 0, 2),
      diagonal(x, -1, 2, 1),
      take(x, idx, 1),
      gather(x, {idx, idx}, {1, 2}, {2, 1, 1}),
      scatter_add(x, idx, ones({3, 2, 1, 4}), 1),
      take_along_axis(x, reshape(idx, {1, 3, 1}), 1),
      put_along_axis(x, reshape(idx, {1, 3, 1}), zeros({2, 3, 1}), 1),
      sum(x, {0, 2}, true),
      logsumexp(x, -1, true),
      argmax(x, 1, true),
      cumsum(x, 1, true, false),
      softmax(x, -1),
      sort(x, 0),
      argpartition(x, 1, 1),
      matmul(x, transpose(x, {0, 2, 1})),
      addmm(ones({3, 3}), ones({3, 4}), ones({4, 3}), 2.f, 1.f),
      conv2d(ones({2, 7, 6, 4}), ones({6, 3, 2, 2}), {2, 1}, {1, 0}, {1, 2}, 2),
      conv_transpose1d(ones({1, 5, 3}), ones({4, 3, 3}), 2, 1, 1, 1),
      exp(x),
      where(greater(x, array(3.f)), x, array(0.f)),
      array_equal(x, x, true),
      random::bits({3, 5}, 2, random::key(0)),
      fast::rms_norm(x, ones({4}), 1e-5f),
      fast::layer_norm(x, std::nullopt, ones({4}), 1e-5f),
      fast::rope(q, 4, false, 1e4f, 1.f, 3),
      fast::scaled_dot_product_attention(q, kv, slice(kv, {0, 0, 0, 0}, {2, 2, 3, 5}), 0.5f, "causal"),
      dequantize(qw[0], qw[1], qw[2], 32, 4),
      quantized_matmul(ones({3, 64}), qw[0], qw[1], qw[2], true, 32, 4),
      quantized_matmul(ones({3, 8}), qw[0], qw[1], qw[2], false, 32, 4),
      quantize(ones({4, 16}), 16, 4, "nvfp4")[0],
      quantize(ones({4, 32}), 32, 8, "mxfp8")[0],
      gather_qmm(ones({2, 3, 64}), expand_dims(qw[0], 0), expand_dims(qw[1], 0), expand_dims(qw[2], 0), array({1, 0}),
                 array({0}), true, 32, 4),
      hadamard_transform(ones({3, 24})),
      gather_mm(ones({4, 2, 5}), ones({3, 5, 6}), reshape(array({0, 3}), {2, 1}), array({2, 1, 0})),
      segmented_mm(ones({3, 8}), ones({8, 2}), reshape(array({0, 3, 3, 8}), {2, 2})),
      block_masked_mm(ones({2, 40, 33}), ones({33, 7}), 32, ones({2, 1}, bool_), ones({2, 2}), ones({2, 1})),
  };
  std::set<std::string> seen;
  std::unordered_set<const Primitive*> visited;
  for (auto& o : outs) check_graph(o, seen, visited);
  // The graphs above reach every family; spot-check that they did.
  for (const char* n : {"Transpose", "Slice", "View", "Arange", "Pad", "Diagonal", "Gather", "ScatterAdd", "GatherAxis",
                        "Sum", "ArgMax", "CumSum", "Sort", "AddMM", "Select", "RandomBits", "RoPE",
                        "ScaledDotProductAttention", "DynamicSlice", "DynamicSliceUpdate", "SliceUpdate", "Quantize",
                        "Dequantize", "QuantizedMatmul", "GatherQMM", "Convolution", "Hadamard", "GatherMM",
                        "SegmentedMM", "BlockMaskedMM"}) {
    EXPECT_TRUE(seen.count(n)) << n << " not reached";
  }
}
