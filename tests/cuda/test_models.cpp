// The model fixtures on the GPU (the default device set to it): logits and
// greedy tokens against Hugging Face transformers, as tests/lm/test_models.cpp
// checks them on the CPU. Primitives without a CUDA kernel may run on the
// CPU here; the kernel suites forbid that.
#include <gtest/gtest.h>

#include "cuda/cuda_util.h"
#include "lm/model_util.h"
#include "uma/core/io/safetensors.h"
#include "uma/lm/generate.h"
#include "uma/lm/load.h"

namespace uma::test {
namespace {

struct Reference {
  std::vector<int> input_ids;
  std::vector<int> greedy;
  array logits{0.0f};
};

Reference load_reference(const std::string& arch) {
  auto tensors = load_safetensors(model_fixture(arch) + "/reference.safetensors").first;
  Reference r;
  r.input_ids = tensors.at("input_ids").to_vector<int>();
  r.greedy = tensors.at("greedy").to_vector<int>();
  r.logits = tensors.at("logits");
  return r;
}

class CudaModel : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaModel, LogitsAndGreedyTokensMatchTransformers) {
  auto ref = load_reference(GetParam());
  OnDevice guard(gpu());
  auto lm = lm::load_model(model_fixture(GetParam()));
  int T = int(ref.input_ids.size());
  array logits = (*lm.model)(array(ref.input_ids, {1, T}), nullptr);
  eval(logits);
  EXPECT_TRUE(on_gpu(logits)) << "the logits were not computed on the GPU";
  logits = reshape(logits, {T, logits.shape(-1)});
  EXPECT_LE(rel_err(logits, ref.logits), 1e-4) << GetParam();

  lm::GenerateOptions opts;
  opts.max_tokens = int(ref.greedy.size());
  std::vector<int> got;
  lm::generate_tokens(*lm.model, ref.input_ids, opts, [&](int t, const lm::StepStats&) {
    got.push_back(t);
    return true;
  });
  EXPECT_EQ(got, ref.greedy) << GetParam();
}

TEST_P(CudaModel, HalfPrecisionWithinStatedBounds) {
  auto ref = load_reference(GetParam());
  OnDevice guard(gpu());
  for (Dtype t : {bfloat16, float16}) {
    lm::LoadOptions o;
    o.dtype = t;
    auto lm = lm::load_model(model_fixture(GetParam()), o);
    int T = int(ref.input_ids.size());
    array logits = reshape((*lm.model)(array(ref.input_ids, {1, T}), nullptr), {T, -1});
    EXPECT_EQ(logits.dtype(), t);
    EXPECT_LE(rel_err(logits, ref.logits), t == bfloat16 ? 6e-2 : 1e-2) << GetParam() << " " << dtype_name(t);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, CudaModel,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"));

}  // namespace
}  // namespace uma::test
