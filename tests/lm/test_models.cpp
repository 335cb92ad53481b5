// Each architecture against Hugging Face transformers on tiny random
// checkpoints (tests/fixtures/models, made by make_model_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>

#include "uma/core/io/safetensors.h"
#include "lm/model_util.h"
#include "uma/uma.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"

using namespace uma;
using namespace uma::lm;
using uma::test::rel_err;

namespace {

std::string fixture(const std::string& arch) { return test::model_fixture(arch); }

struct Reference {
  std::vector<int> input_ids;
  std::vector<int> greedy;
  array logits{0.0f};
};

Reference load_reference(const std::string& arch) {
  auto tensors = load_safetensors(fixture(arch) + "/reference.safetensors").first;
  Reference r;
  r.input_ids = tensors.at("input_ids").to_vector<int>();
  r.greedy = tensors.at("greedy").to_vector<int>();
  r.logits = tensors.at("logits");
  return r;
}

array forward(Model& m, const std::vector<int>& ids, CacheList* cache = nullptr) {
  array in(ids, {1, int(ids.size())});
  array logits = m(in, cache);
  return reshape(logits, {int(ids.size()), logits.shape(-1)});
}

class ModelFixture : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(ModelFixture, LogitsMatchTransformersFloat32) {
  auto ref = load_reference(GetParam());
  auto lm = load_model(fixture(GetParam()));
  EXPECT_EQ(lm.dtype, float32);
  array logits = forward(*lm.model, ref.input_ids);
  EXPECT_LE(rel_err(logits, ref.logits), 1e-4) << GetParam();
}

TEST_P(ModelFixture, LastLogitsAreTheLastRowOfTheReference) {
  auto ref = load_reference(GetParam());
  auto lm = load_model(fixture(GetParam()));
  int T = int(ref.input_ids.size()), V = ref.logits.shape(-1);
  array last = lm.model->last_logits(array(ref.input_ids, {1, T}), nullptr);
  ASSERT_EQ(last.shape(), (Shape{1, V}));
  array want = slice(reshape(ref.logits, {T, V}), {T - 1, 0}, {T, V});
  EXPECT_LE(rel_err(last, want), 1e-4) << GetParam();
}

TEST_P(ModelFixture, GreedyTokensMatchTransformers) {
  auto ref = load_reference(GetParam());
  auto lm = load_model(fixture(GetParam()));
  GenerateOptions opts;
  opts.max_tokens = int(ref.greedy.size());
  std::vector<int> got;
  generate_tokens(*lm.model, ref.input_ids, opts, [&](int t, const StepStats&) {
    got.push_back(t);
    return true;
  });
  EXPECT_EQ(got, ref.greedy) << GetParam();
}

TEST_P(ModelFixture, CachedDecodingEqualsFullRecomputation) {
  auto ref = load_reference(GetParam());
  auto lm = load_model(fixture(GetParam()));
  // Prefill 17 tokens in one chunk, then one token at a time through the cache.
  CacheList cache = lm.model->make_cache();
  // 17 tokens: past Phi-3's original context, so longrope uses its long factors
  // throughout, as transformers does when the sequence is that long.
  std::vector<int> head(ref.input_ids.begin(), ref.input_ids.begin() + 17);
  std::vector<array> rows{forward(*lm.model, head, &cache)};
  for (size_t i = 17; i < ref.input_ids.size(); ++i) rows.push_back(forward(*lm.model, {ref.input_ids[i]}, &cache));
  array cached = concatenate(rows, 0);
  array full = forward(*lm.model, ref.input_ids);
  EXPECT_LE(rel_err(cached, full), 2e-5) << GetParam();
  EXPECT_LE(rel_err(cached, ref.logits), 1e-4) << GetParam();
}

TEST_P(ModelFixture, HalfPrecisionWithinStatedBounds) {
  auto ref = load_reference(GetParam());
  for (Dtype t : {bfloat16, float16}) {
    LoadOptions o;
    o.dtype = t;
    auto lm = load_model(fixture(GetParam()), o);
    EXPECT_EQ(lm.dtype, t);
    array logits = forward(*lm.model, ref.input_ids);
    EXPECT_EQ(logits.dtype(), t);
    // bfloat16 keeps 8 bits of mantissa through 2 layers: 6% of the largest
    // logit; float16 keeps 11: 1%.
    EXPECT_LE(rel_err(logits, ref.logits), t == bfloat16 ? 6e-2 : 1e-2) << GetParam() << " " << dtype_name(t);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, ModelFixture,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"));

TEST(ModelLoading, ClearErrors) {
  EXPECT_THROW(
      {
        try {
          load_model("/nonexistent/model");
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("/nonexistent/model"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
  json bad = {{"model_type", "mamba9"}};
  EXPECT_THROW(
      {
        try {
          create_model(bad);
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("mamba9"), std::string::npos);
          throw;
        }
      },
      std::invalid_argument);
  // Missing and unexpected keys are listed by name.
  auto lm = load_model(fixture("llama"));
  auto params = lm.model->parameters();
  params.erase("model.norm.weight");
  params.emplace("model.extra.weight", zeros({2}));
  try {
    lm.model->load_weights(params);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("model.norm.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.extra.weight"), std::string::npos) << msg;
  }
}
