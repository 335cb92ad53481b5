// GGUF files as models (lm/gguf_model.h), against two independent references
// in ../shared/fixtures/gguf and tests/fixtures/gguf:
//  - dequant_refs.json: gguf-py's dequantization of every tensor of the tiny
//    Llama files (first 64 values, sum, sum of squares), for io::gguf's block
//    decoding of every type those files hold;
//  - llama_cpp_logits.json: llama.cpp's own prompt ids, last-position logits
//    and greedy continuation for the same files (tests/fixtures/gguf/README.md
//    says how it was made), for the whole load path: names, metadata, the Q/K
//    row permutation, packed layers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "lm/model_util.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/lm/convert.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/load.h"
#include "uma/nn/quantized.h"
#include "uma/uma.h"

using namespace uma;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string shared_gguf(const std::string& name) { return std::string(UMA_SHARED_DIR) + "/fixtures/gguf/" + name; }

json read_json(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

const json& dequant_refs() {
  static json j = read_json(shared_gguf("dequant_refs.json"));
  return j;
}

const json& llama_cpp() {
  static json j = read_json(std::string(UMA_SOURCE_DIR) + "/tests/fixtures/gguf/llama_cpp_logits.json");
  return j;
}

const char* kFiles[] = {"f16", "bf16", "q8_0", "q4_0", "q4_1", "q4_k_m", "q5_k_m", "q6_k"};

class GgufFile : public ::testing::TestWithParam<const char*> {
 protected:
  std::string name() const { return std::string("tiny-llama-") + GetParam() + ".gguf"; }
};

// Every tensor decodes to gguf-py's values: the first 64 exactly (within
// float32 rounding of the reference's printing), the sums to 1e-6 relative.
TEST_P(GgufFile, DequantizeMatchesGgufPy) {
  auto f = io::gguf::File::open(shared_gguf(name()));
  const json& refs = dequant_refs()[name()]["tensors"];
  ASSERT_FALSE(refs.empty());
  for (const auto& t : f.tensors()) {
    const json* ref = nullptr;
    for (const auto& r : refs) {
      if (r["name"] == std::string(t.name)) ref = &r;
    }
    ASSERT_NE(ref, nullptr) << t.name;
    std::vector<float> v(t.n_elements);
    io::gguf::dequantize(t.type, f.tensor_data(t).data(), int64_t(t.n_elements), v.data());
    const auto& first = (*ref)["first64"];
    for (size_t i = 0; i < first.size(); ++i) {
      EXPECT_NEAR(v[i], first[i].get<double>(), 1e-6 * std::abs(first[i].get<double>()) + 1e-9)
          << t.name << " value " << i;
    }
    double sum = 0, sumsq = 0;
    for (float x : v) {
      sum += x;
      sumsq += double(x) * x;
    }
    double rsum = (*ref)["sum"], rsq = (*ref)["sumsq"];
    EXPECT_NEAR(sum, rsum, 1e-6 * rsq + 1e-9) << t.name;
    EXPECT_NEAR(sumsq, rsq, 1e-6 * rsq) << t.name;
  }
}

// The affine form of the packed types is the same values, bit for bit.
TEST_P(GgufFile, AffineFormIsTheSameValues) {
  auto f = io::gguf::File::open(shared_gguf(name()));
  int checked = 0;
  for (const auto& t : f.tensors()) {
    auto bits = io::gguf::affine_bits(t.type);
    if (!bits || t.dims.size() != 2) continue;
    int64_t cols = int64_t(t.dims[0]), rows = int64_t(t.dims[1]);
    std::vector<float> ref(t.n_elements);
    io::gguf::dequantize(t.type, f.tensor_data(t).data(), int64_t(t.n_elements), ref.data());
    std::vector<uint32_t> codes(size_t(rows * cols * *bits / 32));
    std::vector<float> scales(size_t(rows * cols / 32)), biases(scales.size());
    io::gguf::to_affine(t.type, f.tensor_data(t).data(), rows, cols, codes.data(), scales.data(), biases.data());
    array w = dequantize(array(codes.data(), {int(rows), int(cols * *bits / 32)}, uint32),
                         array(scales.data(), {int(rows), int(cols / 32)}, float32),
                         array(biases.data(), {int(rows), int(cols / 32)}, float32), 32, *bits);
    auto got = w.to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], ref[i]) << t.name << " value " << i;
    ++checked;
  }
  std::string n = GetParam();
  if (n != "f16" && n != "bf16" && n != "q6_k") EXPECT_GT(checked, 0);
}

// The whole model against llama.cpp: the prompt's last logits within the
// two engines' rounding. llama.cpp rounds activations to 8 bits for its
// quantized dot products (per 32 values for Q4_0..Q8_0, per 256 for the
// K-quants), uma keeps them in float16; the weights are the same values
// (AffineFormIsTheSameValues), and loading the K-quant files in float32 gives
// the same differences (0.069 of the largest logit for q4_k_m, 0.018 for
// q6_k), so they are llama.cpp's activation rounding.
TEST_P(GgufFile, LogitsMatchLlamaCpp) {
  const json& ref = llama_cpp()["files"][name()];
  auto lm = lm::load(shared_gguf(name()));
  auto ids = lm.tokenizer.tokenizer->encode(llama_cpp()["prompt"].get<std::string>(), true);
  std::vector<int32_t> want_ids = ref["prompt_ids"].get<std::vector<int32_t>>();
  ASSERT_EQ(std::vector<int32_t>(ids.begin(), ids.end()), want_ids);
  lm::Model& model = *lm.model;
  auto cache = model.make_cache();
  array x(want_ids.data(), {1, int(want_ids.size())}, int32);
  auto logits = astype(model.last_logits(x, &cache), float32).to_vector<float>();
  auto want = ref["last_logits"].get<std::vector<float>>();
  ASSERT_EQ(logits.size(), want.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, double(std::abs(logits[i] - want[i])));
    scale = std::max(scale, double(std::abs(want[i])));
  }
  std::string n = GetParam();
  double tol = (n == "f16" || n == "bf16") ? 0.01 : n.find("_k") != std::string::npos ? 0.1 : 0.05;
  EXPECT_LT(err / scale, tol) << "max |uma - llama.cpp| " << err << " of max |logit| " << scale;
}

INSTANTIATE_TEST_SUITE_P(TinyLlama, GgufFile, ::testing::ValuesIn(kFiles));

// The block-quantized matrices (Q4_0 ... Q8_0 and Q4_K, Q5_K, Q6_K) stay the
// file's blocks (gguf_matmul reads them as stored: no dense or affine copy),
// and the model's logits equal those of the same model with those layers
// decoded to float matrices, within the int8 rounding of the activations in
// the kernels (per 256 values for the K-quants, as llama.cpp's Q8_K: 3.7-3.8%
// of the largest logit on the Q4_K_M/Q5_K_M files; per 32 for the others).
TEST(GgufBlocks, LayersKeepTheFileBlocks) {
  for (const char* file : {"q8_0", "q4_0", "q4_1", "q4_k_m", "q5_k_m", "q6_k"}) {
    const std::string path = shared_gguf(std::string("tiny-llama-") + file + ".gguf");
    auto f = io::gguf::File::open(path);
    size_t kquant_bytes = 0;
    int kquant_tensors = 0;
    for (const auto& t : f.tensors()) {
      using io::gguf::GgmlType;
      const auto type = GgmlType(t.type);
      const bool blocks = type == GgmlType::Q4_0 || type == GgmlType::Q4_1 || type == GgmlType::Q5_0 ||
                          type == GgmlType::Q5_1 || type == GgmlType::Q8_0 || type == GgmlType::Q4_K ||
                          type == GgmlType::Q5_K || type == GgmlType::Q6_K;
      if (t.dims.size() == 2 && blocks) {
        kquant_bytes += f.tensor_data(t).size();
        ++kquant_tensors;
      }
    }
    ASSERT_GT(kquant_tensors, 0) << file;
    auto lm = lm::load(path);
    size_t held = 0;
    int layers = 0;
    lm.model->visit_modules([&](const std::string&, nn::Module& m) {
      const array* w = nullptr;
      if (auto* l = dynamic_cast<nn::QuantizedLinear*>(&m); l && l->spec().gguf()) w = &l->weight;
      if (auto* e = dynamic_cast<nn::QuantizedEmbedding*>(&m); e && e->spec().gguf()) w = &e->weight;
      if (!w) return;
      EXPECT_EQ(w->dtype(), uint8);
      held += w->nbytes();
      ++layers;
    });
    EXPECT_EQ(layers, kquant_tensors) << file;
    EXPECT_EQ(held, kquant_bytes) << file;
    if (std::string(file) == "q4_0") {
      // Q4_0 linear layers hold the file's rows interleaved in eights
      // (kGgufQ4_0x8); ffn_down's rows are the file's in order.
      int x8 = 0;
      lm.model->visit_modules([&](const std::string& name, nn::Module& m) {
        auto* l = dynamic_cast<nn::QuantizedLinear*>(&m);
        if (!l || !l->spec().gguf() || l->spec().gguf_type != kGgufQ4_0x8) return;
        ++x8;
        if (name != "model.layers.0.mlp.down_proj") return;
        const auto* t = f.tensor("blk.0.ffn_down.weight");
        ASSERT_NE(t, nullptr);
        auto src = f.tensor_data(*t);
        const int64_t rows = l->weight.shape(0), row_bytes = l->weight.shape(1);
        std::vector<uint8_t> want(src.size());
        gguf_interleave_x8(kGgufQ4_0x8, [&](int64_t n) { return src.data() + n * row_bytes; }, row_bytes, 0,
                           rows / 8, want.data());
        auto got = l->weight.to_vector<uint8_t>();
        EXPECT_EQ(got, want);
      });
      EXPECT_GE(x8, 7 * 2) << "every Q4_0 projection of both layers";
      // Mapped (--mmap), the layers stay views of the file as stored.
      lm::LoadOptions mapped;
      mapped.mmap = true;
      auto lmm = lm::load(path, mapped);
      int stored = 0;
      lmm.model->visit_modules([&](const std::string&, nn::Module& m) {
        auto* l = dynamic_cast<nn::QuantizedLinear*>(&m);
        if (!l || !l->spec().gguf()) return;
        EXPECT_NE(l->spec().gguf_type, kGgufQ4_0x8);
        stored += l->spec().gguf_type == uint32_t(io::gguf::GgmlType::Q4_0);
      });
      EXPECT_GE(stored, 7 * 2);
    }

    std::vector<int32_t> ids = {1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203};
    array x(ids.data(), {1, int(ids.size())}, int32);
    auto cache = lm.model->make_cache();
    // The block layers compute in the model's dtype: a float32 embedding
    // made a float16 model convert every affine layer's scales every step.
    EXPECT_EQ(lm.dtype, float16) << file;
    EXPECT_EQ(lm.model->last_logits(x, &cache).dtype(), lm.dtype) << file;
    // The kernels' own rounding, in float32 activations.
    lm::LoadOptions f32;
    f32.dtype = float32;
    auto lm32 = lm::load(path, f32);
    auto cache1 = lm32.model->make_cache();
    auto got = astype(lm32.model->last_logits(x, &cache1), float32).to_vector<float>();
    lm::dequantize_layers(*lm32.model);
    auto cache2 = lm32.model->make_cache();
    auto want = astype(lm32.model->last_logits(x, &cache2), float32).to_vector<float>();
    double err = 0, scale = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      err = std::max(err, double(std::abs(got[i] - want[i])));
      scale = std::max(scale, double(std::abs(want[i])));
    }
    EXPECT_LT(err / scale, 0.05) << file << ": max |blocks - decoded| " << err << " of max |logit| " << scale;
    EXPECT_GT(err, 0.0) << file << ": the dot kernels round x, so some logit differs";
  }
}

// Every architecture: tests/fixtures/gguf/arch/<arch>-{f32,q8_0}.gguf are
// llama.cpp's converter's copies of the tiny checkpoints in
// tests/fixtures/models (make_arch_ggufs.py), whose reference.safetensors
// holds Hugging Face transformers' logits. The f32 copy must give those
// logits as the safetensors folder does; the q8_0 one within 8-bit rounding.
class GgufArch : public ::testing::TestWithParam<const char*> {};

// Gemma 3's converter writes no sliding_window_pattern, so llama.cpp (and
// uma) take Gemma 3's period of 6: both layers of the 2-layer fixture are
// local, where its config.json makes the second global. Its reference is the
// folder with that layer pattern, which uma computes as transformers does
// (test_models.cpp).
array reference_logits(const std::string& arch, const std::vector<int>& ids) {
  auto ref = load_safetensors(test::model_fixture(arch) + "/reference.safetensors").first;
  if (arch != "gemma3") return ref.at("logits");
  auto dir = fs::temp_directory_path() / ("uma_gguf_gemma3_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* f : {"model.safetensors", "generation_config.json"}) {
    fs::copy_file(test::model_fixture(arch) + "/" + f, dir / f, fs::copy_options::overwrite_existing);
  }
  json config = read_json(test::model_fixture(arch) + "/config.json");
  config["layer_types"] = {"sliding_attention", "sliding_attention"};
  std::ofstream(dir / "config.json") << config.dump();
  auto lm = lm::load_model(dir.string());
  array logits = (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
  fs::remove_all(dir);
  return reshape(logits, {int(ids.size()), logits.shape(-1)});
}

TEST_P(GgufArch, LogitsMatchTransformers) {
  std::string arch = GetParam();
  auto ids = load_safetensors(test::model_fixture(arch) + "/reference.safetensors").first.at("input_ids").to_vector<int>();
  array want = reference_logits(arch, ids);
  for (const char* type : {"f32", "q8_0"}) {
    std::string path = std::string(UMA_SOURCE_DIR) + "/tests/fixtures/gguf/arch/" + arch + "-" + type + ".gguf";
    lm::LoadOptions opts;
    opts.dtype = float32;
    auto lm = lm::load_model(path, opts);
    array logits = (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
    logits = reshape(logits, {int(ids.size()), logits.shape(-1)});
    double err = test::rel_err(logits, want);
    EXPECT_LE(err, std::string(type) == "f32" ? 1e-4 : 5e-2) << arch << " " << type;
  }
}

INSTANTIATE_TEST_SUITE_P(Tiny, GgufArch,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"));

// A copy of the f16 file with `edit` applied to its bytes.
std::string edited_copy(const std::string& tag, const std::function<void(std::string&)>& edit) {
  std::ifstream in(shared_gguf("tiny-llama-f16.gguf"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  edit(bytes);
  auto path = fs::temp_directory_path() / ("uma_gguf_" + tag + "_" + std::to_string(::getpid()) + ".gguf");
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

void expect_load_error(const std::string& path, const std::string& needle) {
  try {
    lm::load_model(path);
    ADD_FAILURE() << "loaded " << path;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  fs::remove(path);
}

TEST(GgufModel, UnsupportedArchitectureIsNamed) {
  auto path = edited_copy("arch", [](std::string& b) {
    size_t k = b.find("general.architecture");
    ASSERT_NE(k, std::string::npos);
    size_t v = b.find("llama", k);  // the value follows the key, type and length
    b[v + 4] = 'x';
  });
  expect_load_error(path, "architecture 'llamx' is not supported");
}

TEST(GgufModel, UnknownTensorTypeIsNamed) {
  // The first tensor-info entry's type field (after its name and dims).
  auto f = io::gguf::File::open(shared_gguf("tiny-llama-f16.gguf"));
  const auto& t0 = f.tensors()[0];
  std::string name(t0.name);
  size_t ndims = t0.dims.size();
  auto path = edited_copy("type", [&](std::string& b) {
    size_t at = b.find(name + std::string(1, char(ndims)));
    ASSERT_NE(at, std::string::npos);
    size_t type_at = at + name.size() + 4 + 8 * ndims;
    uint32_t iq2 = uint32_t(io::gguf::GgmlType::IQ2_XXS);
    std::memcpy(&b[type_at], &iq2, 4);
  });
  // The parser checks extents by type first; either error names the tensor.
  expect_load_error(path, name);
}

TEST(GgufModel, TruncatedFileIsAnError) {
  auto path = edited_copy("trunc", [](std::string& b) { b.resize(b.size() / 2); });
  expect_load_error(path, "[gguf]");
}

// Split files as gguf-split writes them (tests/fixtures/gguf/split,
// make_split.py): any part loads the whole model, with the same logits
// as the single file, bit for bit.
TEST(GgufModel, SplitFileLoadsAsTheWhole) {
  std::string dir = std::string(UMA_SOURCE_DIR) + "/tests/fixtures/gguf/";
  std::vector<int> ids = {1, 15, 27, 3, 99, 42};
  array x(ids, {1, int(ids.size())});
  auto whole = lm::load_model(dir + "arch/llama-q8_0.gguf");
  array want = astype((*whole.model)(x, nullptr), float32);
  for (const char* part : {"llama-q8_0-00001-of-00006.gguf", "llama-q8_0-00004-of-00006.gguf"}) {
    auto split = lm::load_model(dir + "split/" + part);
    EXPECT_EQ(split.num_parameters, whole.num_parameters) << part;
    array got = astype((*split.model)(x, nullptr), float32);
    EXPECT_TRUE(array_equal(got, want).item<bool>()) << part;
  }
}

TEST(GgufModel, MissingSplitPartIsNamed) {
  auto dir = fs::temp_directory_path() / ("uma_gguf_split_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(shared_gguf("tiny-llama-f16.gguf"), dir / "m-00001-of-00002.gguf");
  expect_load_error((dir / "m-00001-of-00002.gguf").string(), "m-00002-of-00002.gguf is missing");
  fs::remove_all(dir);
}

}  // namespace
