// nn::QuantizedLinear, nn::QuantizedEmbedding and nn::quantize: parameter
// names as MLX checkpoints have them, outputs equal to the ops they stand for
// (quantized_matmul / dequantize of the rows), in-place swapping with class
// predicates and per-layer settings. (Here, not in tests/core: the core suite
// links the core layer only.)
#include <gtest/gtest.h>

#include <random>

#include "uma/nn/quantized.h"
#include "uma/uma.h"

using namespace uma;

namespace {

array random_normal(Shape shape, uint32_t seed) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return array(v, shape);
}

bool same_values(array a, array b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         astype(a, float32).to_vector<float>() == astype(b, float32).to_vector<float>();
}

// A small model: an Embedding, a Linear and a norm at the top, two more
// Linears one level down.
struct Block : nn::Module {
  std::shared_ptr<nn::Linear> up, down;
  Block() : up(std::make_shared<nn::Linear>(64, 128, false)), down(std::make_shared<nn::Linear>(128, 64, true)) {
    up->weight = random_normal({128, 64}, 1);
    down->weight = random_normal({64, 128}, 2);
    *down->bias_ = random_normal({64}, 3);
    register_module("up_proj", up);
    register_module("down_proj", down);
  }
};

struct Tiny : nn::Module {
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<Block> mlp;
  std::shared_ptr<nn::Linear> head;
  std::shared_ptr<nn::RMSNorm> norm;
  Tiny()
      : embed(std::make_shared<nn::Embedding>(10, 64)),
        mlp(std::make_shared<Block>()),
        head(std::make_shared<nn::Linear>(64, 10, false)),
        norm(std::make_shared<nn::RMSNorm>(64)) {
    embed->weight = random_normal({10, 64}, 4);
    head->weight = random_normal({10, 64}, 5);
    register_module("embed_tokens", embed);
    register_module("mlp", mlp);
    register_module("lm_head", head);
    register_module("norm", norm);
  }
};

std::vector<std::string> keys(const nn::Module& m) {
  std::vector<std::string> k;
  for (auto& [name, _] : m.parameters()) k.push_back(name);
  return k;
}

}  // namespace

TEST(QuantizedLinear, FromLinearMatchesTheOpsAndNamesItsParameters) {
  nn::Linear lin(64, 24, true);
  lin.weight = random_normal({24, 64}, 7);
  *lin.bias_ = random_normal({24}, 8);
  auto q = nn::QuantizedLinear::from_linear(lin, {32, 8});
  EXPECT_EQ(keys(*q), (std::vector<std::string>{"bias", "biases", "scales", "weight"}));
  EXPECT_EQ(q->weight.shape(), (Shape{24, 16}));
  EXPECT_EQ(q->weight.dtype(), uint32);
  EXPECT_EQ(q->scales.shape(), (Shape{24, 2}));
  auto packed = quantize(lin.weight, 32, 8);
  EXPECT_TRUE(same_values(q->weight, packed[0]));
  array x = random_normal({2, 5, 64}, 9);
  array want = add(quantized_matmul(x, packed[0], packed[1], packed[2], true, 32, 8), *lin.bias_);
  EXPECT_TRUE(same_values((*q)(x), want));
  // And close to the float layer: each weight is off by at most 1.5 steps
  // (half a step inside the codes' range, the far extreme up to one more).
  auto y = (*q)(x).to_vector<float>(), yf = lin(x).to_vector<float>();
  auto xv = x.to_vector<float>(), sv = q->scales.to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i) {
    size_t row = i / 24, n = i % 24;
    double bound = 1e-4;
    for (int k = 0; k < 64; ++k) bound += 1.5 * std::abs(xv[row * 64 + k]) * std::abs(sv[n * 2 + k / 32]);
    EXPECT_NEAR(y[i], yf[i], bound) << i;
  }
  EXPECT_THROW((*q)(random_normal({2, 32}, 1)), std::invalid_argument);
}

TEST(QuantizedLinear, LoadableShapesForCheckpoints) {
  nn::QuantizedLinear q(128, 48, false, {64, 4}, bfloat16);
  EXPECT_EQ(keys(q), (std::vector<std::string>{"biases", "scales", "weight"}));
  EXPECT_EQ(q.weight.shape(), (Shape{48, 16}));
  EXPECT_EQ(q.scales.shape(), (Shape{48, 2}));
  EXPECT_EQ(q.scales.dtype(), bfloat16);
  // A strict load by name, as from an mlx-community checkpoint.
  nn::Linear src(128, 48, false, bfloat16);
  src.weight = astype(random_normal({48, 128}, 3), bfloat16);
  auto p = quantize(src.weight, 64, 4);
  q.load_weights({{"weight", p[0]}, {"scales", p[1]}, {"biases", p[2]}});
  array x = astype(random_normal({1, 128}, 4), bfloat16);
  EXPECT_TRUE(same_values(q(x), quantized_matmul(x, p[0], p[1], p[2], true, 64, 4)));
  EXPECT_THROW(nn::QuantizedLinear(100, 8, true, {64, 4}), std::invalid_argument);
  EXPECT_THROW(nn::QuantizedLinear(128, 8, true, {64, 4, "mxfp4"}), std::invalid_argument);
}

// mxfp4, nvfp4 and mxfp8: uint8 scales, no biases, the mode's own group
// size and bits (the defaults of nn::default_spec); the layers are the ops.
TEST(QuantizedLinear, FpModesMatchTheOpsWithoutBiases) {
  for (const char* mode : {"mxfp4", "nvfp4", "mxfp8"}) {
    SCOPED_TRACE(mode);
    nn::QuantizeSpec spec = nn::default_spec(mode);
    nn::Linear lin(64, 24, true);
    lin.weight = random_normal({24, 64}, 17);
    *lin.bias_ = random_normal({24}, 18);
    auto q = nn::QuantizedLinear::from_linear(lin, spec);
    EXPECT_EQ(keys(*q), (std::vector<std::string>{"bias", "scales", "weight"}));
    EXPECT_EQ(q->scales.dtype(), uint8);
    auto packed = quantize(lin.weight, spec.group_size, spec.bits, mode);
    ASSERT_EQ(packed.size(), 2u);
    EXPECT_TRUE(same_values(q->weight, packed[0]));
    EXPECT_TRUE(same_values(q->scales, packed[1]));
    array x = random_normal({3, 64}, 19);
    array want = add(quantized_matmul(x, packed[0], packed[1], std::nullopt, true, spec.group_size, spec.bits, mode),
                     *lin.bias_);
    EXPECT_TRUE(same_values((*q)(x), want));
    // A checkpoint's shapes load by name.
    nn::QuantizedLinear blank(64, 24, true, spec, float32);
    EXPECT_EQ(keys(blank), (std::vector<std::string>{"bias", "scales", "weight"}));
    EXPECT_EQ(blank.scales.shape(), packed[1].shape());
    blank.load_weights({{"weight", packed[0]}, {"scales", packed[1]}, {"bias", *lin.bias_}});
    EXPECT_TRUE(same_values(blank(x), want));

    nn::Embedding emb(10, 64);
    emb.weight = random_normal({10, 64}, 20);
    auto qe = nn::QuantizedEmbedding::from_embedding(emb, spec);
    EXPECT_EQ(keys(*qe), (std::vector<std::string>{"scales", "weight"}));
    auto pe = quantize(emb.weight, spec.group_size, spec.bits, mode);
    array ids = array(std::vector<int32_t>{3, 0, 9}, {3});
    array full = dequantize(pe[0], pe[1], std::nullopt, spec.group_size, spec.bits, mode);
    EXPECT_EQ((*qe)(ids).dtype(), bfloat16);  // as MLX's dequantize of fp modes
    EXPECT_TRUE(same_values((*qe)(ids), take(full, ids, 0)));
    EXPECT_TRUE(same_values(qe->as_linear(x), quantized_matmul(x, pe[0], pe[1], std::nullopt, true, spec.group_size,
                                                               spec.bits, mode)));
  }
  // Only the mode's settings.
  EXPECT_THROW(nn::QuantizedLinear(64, 8, true, {32, 8, "mxfp4"}), std::invalid_argument);
  EXPECT_THROW(nn::QuantizedLinear(64, 8, true, {32, 4, "nvfp4"}), std::invalid_argument);
  EXPECT_THROW(nn::QuantizedLinear(64, 8, true, {32, 4, "fp4"}), std::invalid_argument);
}

TEST(QuantizedEmbedding, LookupDequantizesRowsAndAsLinearIsQuantizedMatmul) {
  nn::Embedding emb(10, 64);
  emb.weight = random_normal({10, 64}, 11);
  auto q = nn::QuantizedEmbedding::from_embedding(emb, {32, 4});
  EXPECT_EQ(keys(*q), (std::vector<std::string>{"biases", "scales", "weight"}));
  auto packed = quantize(emb.weight, 32, 4);
  array full = dequantize(packed[0], packed[1], packed[2], 32, 4);
  array ids = array(std::vector<int32_t>{3, 0, 9, 3, 7, 1}, {2, 3});
  array got = (*q)(ids);
  EXPECT_EQ(got.shape(), (Shape{2, 3, 64}));
  EXPECT_TRUE(same_values(got, take(full, ids, 0)));
  EXPECT_TRUE(same_values((*q)(array(std::vector<int32_t>{4}, {1})), take(full, array(std::vector<int32_t>{4}, {1}), 0)));
  array x = random_normal({4, 64}, 12);
  EXPECT_TRUE(same_values(q->as_linear(x), quantized_matmul(x, packed[0], packed[1], packed[2], true, 32, 4)));
}

TEST(Quantize, SwapsLinearAndEmbeddingInPlace) {
  Tiny m;
  array x = random_normal({3, 64}, 20);
  nn::quantize(m, 64, 4);
  EXPECT_NE(dynamic_cast<nn::QuantizedEmbedding*>(m.embed.get()), nullptr);
  EXPECT_NE(dynamic_cast<nn::QuantizedLinear*>(m.head.get()), nullptr);
  EXPECT_NE(dynamic_cast<nn::QuantizedLinear*>(m.mlp->up.get()), nullptr);
  EXPECT_NE(dynamic_cast<nn::QuantizedLinear*>(m.mlp->down.get()), nullptr);
  EXPECT_EQ(keys(m), (std::vector<std::string>{
                         "embed_tokens.biases", "embed_tokens.scales", "embed_tokens.weight", "lm_head.biases",
                         "lm_head.scales", "lm_head.weight", "mlp.down_proj.bias", "mlp.down_proj.biases",
                         "mlp.down_proj.scales", "mlp.down_proj.weight", "mlp.up_proj.biases", "mlp.up_proj.scales",
                         "mlp.up_proj.weight", "norm.weight"}));
  // Quantizing again leaves the quantized layers alone.
  auto before = m.head.get();
  nn::quantize(m, 64, 4);
  EXPECT_EQ(m.head.get(), before);
}

TEST(Quantize, PredicateChoosesLayersAndSettings) {
  Tiny m;
  std::vector<std::string> asked;
  nn::quantize(m, 64, 4, "affine", [&](const std::string& path, const nn::Module&) -> nn::QuantizePredicateResult {
    asked.push_back(path);
    if (path == "embed_tokens" || path == "norm") return false;
    if (path == "lm_head") return nn::QuantizeSpec{32, 8};
    return true;
  });
  // Only leaf modules are asked about, by their dotted path.
  EXPECT_EQ(asked, (std::vector<std::string>{"embed_tokens", "mlp.up_proj", "mlp.down_proj", "lm_head", "norm"}) );
  EXPECT_EQ(dynamic_cast<nn::QuantizedEmbedding*>(m.embed.get()), nullptr);
  auto* head = dynamic_cast<nn::QuantizedLinear*>(m.head.get());
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->spec().bits, 8);
  EXPECT_EQ(head->spec().group_size, 32);
  EXPECT_EQ(head->weight.shape(), (Shape{10, 16}));
  auto* up = dynamic_cast<nn::QuantizedLinear*>(m.mlp->up.get());
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->spec().bits, 4);
}

TEST(Quantize, PredicateAcceptingANonQuantizableLeafIsAnError) {
  Tiny m;
  try {
    nn::quantize(m, 64, 4, "affine", [](const std::string&, const nn::Module&) -> nn::QuantizePredicateResult {
      return true;
    });
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "[quantize] unable to quantize module 'norm': only Linear and Embedding layers that are not quantized "
              "yet can be");
  }
}
