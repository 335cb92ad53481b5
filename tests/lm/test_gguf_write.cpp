// `uma convert --gguf-path` (lm/convert_gguf.cpp) against llama.cpp's own
// converter and against the folder it converts:
//  - tests/fixtures/gguf/arch/<arch>-{f32,q8_0}.gguf were written by
//    llama.cpp's convert_hf_to_gguf.py from the same checkpoints: uma's files
//    have the same tensors (names, shapes, types, bytes) and model metadata;
//  - every --gguf-type loads back (lm::load_model) to the folder's logits,
//    exactly for f32 and within the type's rounding otherwise;
//  - with a real tokenizer, the GGUF vocabulary encodes the fixture corpus to
//    the folder tokenizer's ids, and the chat template survives.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "lm/model_util.h"
#include "text/tokenizer/test_util.h"
#include "uma/core/io/gguf.h"
#include "uma/core/io/gguf_quants.h"
#include "uma/lm/convert.h"
#include "uma/lm/gguf_model.h"
#include "uma/lm/load.h"
#include "uma/text/tokenizer/load.h"
#include "uma/uma.h"

using namespace uma;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kArchs[] = {"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"};

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = fs::temp_directory_path() / ("uma_gguf_write_" + std::to_string(::getpid()) + "_" + tag);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(const std::string& n) const { return path_ / n; }

 private:
  fs::path path_;
};

std::string write_gguf(const std::string& src, const std::string& type, const fs::path& out) {
  lm::ConvertOptions o;
  o.hf_path = src;
  o.gguf_path = out.string();
  o.gguf_type = type;
  lm::convert(o);
  return out.string();
}

std::string llama_cpp_file(const std::string& arch, const std::string& type) {
  return std::string(UMA_SOURCE_DIR) + "/tests/fixtures/gguf/arch/" + arch + "-" + type + ".gguf";
}

// A value as comparable text: scalars printed, arrays by their raw bytes or strings.
std::string value_text(const io::gguf::Value& v) {
  using VT = io::gguf::ValueType;
  std::string t = std::string(io::gguf::value_type_name(v.type())) + ":";
  if (v.type() == VT::STRING) return t + std::string(v.as_string());
  if (v.type() == VT::BOOL) return t + (v.as_bool() ? "true" : "false");
  if (v.type() == VT::FLOAT32 || v.type() == VT::FLOAT64) return t + std::to_string(v.as_float());
  if (v.is_array()) {
    t += io::gguf::value_type_name(v.element_type());
    if (v.element_type() == VT::STRING) {
      for (auto s : v.as_strings()) t += "|" + std::string(s);
      return t;
    }
    auto raw = v.raw();
    return t + std::string(raw.begin(), raw.end());
  }
  return t + std::to_string(v.as_int());
}

// The keys that describe the model (not its name, size label or vocabulary).
bool model_key(const std::string& k) {
  return k != "general.name" && k != "general.size_label" && k != "general.alignment" && k.rfind("tokenizer.", 0) != 0;
}

void expect_same_file(const std::string& ours_path, const std::string& theirs_path, bool bytes) {
  auto ours = io::gguf::File::open(ours_path), theirs = io::gguf::File::open(theirs_path);
  for (const auto& v : theirs.metadata()) {
    if (!model_key(v.key())) continue;
    const auto* mine = ours.get(v.key());
    ASSERT_NE(mine, nullptr) << "missing key " << v.key();
    EXPECT_EQ(value_text(*mine), value_text(v)) << v.key();
  }
  for (const auto& v : ours.metadata()) {
    if (model_key(v.key())) EXPECT_NE(theirs.get(v.key()), nullptr) << "extra key " << v.key();
  }
  EXPECT_EQ(ours.tensors().size(), theirs.tensors().size());
  for (const auto& t : theirs.tensors()) {
    const auto* mine = ours.tensor(t.name);
    ASSERT_NE(mine, nullptr) << "missing tensor " << t.name;
    EXPECT_EQ(mine->dims, t.dims) << t.name;
    EXPECT_EQ(io::gguf::type_traits(mine->type)->name, std::string(io::gguf::type_traits(t.type)->name)) << t.name;
    if (bytes && mine->n_bytes == t.n_bytes) {
      auto a = ours.tensor_data(*mine), b = theirs.tensor_data(t);
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << t.name << " bytes differ";
    }
  }
}

// The folder's logits for the reference prompt, as uma computes them. Gemma
// 3's GGUF has no sliding_window_pattern (llama.cpp's converter writes none),
// so readers take Gemma 3's period of 6: both layers of the 2-layer fixture
// local; its reference is the folder with that layer pattern.
array folder_logits(const std::string& arch, const std::vector<int>& ids, const TempDir& tmp) {
  std::string dir = test::model_fixture(arch);
  if (arch == "gemma3") {
    fs::path d = tmp / "gemma3_local";
    fs::create_directories(d);
    for (const char* f : {"model.safetensors", "generation_config.json"}) {
      fs::copy_file(dir + "/" + f, d / f, fs::copy_options::overwrite_existing);
    }
    json config = text::tokenizer::testing::read_json(dir + "/config.json");
    config["layer_types"] = {"sliding_attention", "sliding_attention"};
    std::ofstream(d / "config.json") << config.dump();
    dir = d.string();
  }
  auto lm = lm::load_model(dir);
  return (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
}

std::string lowercase(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class GgufWrite : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufWrite, F32AndQ8_0AreLlamaCppsFiles) {
  std::string arch = GetParam();
  TempDir tmp(arch + "_same");
  for (const char* type : {"f32", "q8_0"}) {
    SCOPED_TRACE(type);
    auto out = write_gguf(test::model_fixture(arch), type, tmp / (std::string(type) + ".gguf"));
    expect_same_file(out, llama_cpp_file(arch, type), /*bytes=*/true);
  }
}

// The folder's model with every 2-D weight rounded as the typed file
// stores it (io::gguf quantize then dequantize, row by row, in the type the
// file gives that tensor): what the file holds, since the Q/K interleaving
// moves whole rows.
array rounded_logits(const std::string& f32_gguf, const std::string& typed_gguf, const std::vector<int>& ids) {
  auto types = lm::read_gguf_checkpoint(typed_gguf, float32, true).types;
  lm::LoadOptions opts;
  opts.dtype = float32;
  auto lm = lm::load_model(f32_gguf, opts);
  lm.model->visit_parameters([&](const std::string& name, array& a) {
    if (a.ndim() != 2) return;
    uint32_t rt = 0;
    for (uint32_t i = 0; i < 40; ++i) {
      const auto* tr = io::gguf::type_traits(i);
      if (tr && types.count(name) && tr->name == types.at(name)) rt = i;
    }
    ASSERT_TRUE(types.count(name)) << name;
    int64_t cols = a.shape(1);
    const auto* rtr = io::gguf::type_traits(rt);
    auto v = astype(a, float32).to_vector<float>();
    std::vector<uint8_t> q(size_t(cols / rtr->block_size * rtr->type_size));
    for (size_t r = 0; r < v.size(); r += size_t(cols)) {
      io::gguf::quantize(rt, v.data() + r, cols, q.data());
      io::gguf::dequantize(rt, q.data(), cols, v.data() + r);
    }
    a = array(v.data(), a.shape(), float32);
  });
  return (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
}

// f32: the folder's logits; every other type: the folder's model with its
// weights rounded as that type rounds them (so a misplaced row or scale
// shows, however coarse the type).
TEST_P(GgufWrite, EveryTypeLoadsBackToTheFoldersLogits) {
  std::string arch = GetParam();
  TempDir tmp(arch + "_logits");
  auto ids = load_safetensors(test::model_fixture(arch) + "/reference.safetensors").first.at("input_ids").to_vector<int>();
  array want = folder_logits(arch, ids, tmp);
  auto f32 = write_gguf(test::model_fixture(arch), "f32", tmp / "f32.gguf");
  EXPECT_EQ(io::gguf::File::open(f32).get("tokenizer.ggml.model"), nullptr);  // the fixture has no tokenizer
  // The K-quant mixes too: the fixtures' 64-wide rows are not whole 256-value
  // super-blocks, so these exercise llama-quantize's fallbacks (GgufWriteMix
  // and GgufWriteKQuant below have wide rows).
  for (const char* type : {"f32", "f16", "bf16", "q8_0", "q5_0", "q5_1", "q4_0", "q4_1", "q4_k_m", "q2_k"}) {
    SCOPED_TRACE(type);
    std::string out = std::string(type) == "f32" ? f32 : write_gguf(test::model_fixture(arch), type, tmp / (std::string(type) + ".gguf"));
    lm::LoadOptions opts;
    opts.dtype = float32;
    auto lm = lm::load_model(out, opts);
    // The legacy types load as exact affine layers; dense again, the check is
    // of the file's values and not of the quantized kernels' own rounding.
    lm::dequantize_layers(*lm.model);
    array got = (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
    array ref = std::string(type) == "f32" ? want : rounded_logits(f32, out, ids);
    ASSERT_EQ(got.shape(), ref.shape());
    double err = test::rel_err(got, ref);
    EXPECT_LE(err, 1e-5) << arch << " " << type << " (against the unrounded folder: " << test::rel_err(got, want) << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, GgufWrite, ::testing::ValuesIn(kArchs));

// A tiny checkpoint (qwen3: tied embeddings) grown to a real tokenizer's
// vocabulary: new random embedding (and output) rows.
// A model folder of the given config.json fields, with N(0, std) weights
// (std 0: zeros) and norms of one.
fs::path write_model(const fs::path& dir, json config, float std, uint64_t seed) {
  fs::create_directories(dir);
  config["rms_norm_eps"] = 1e-5;
  config["rope_theta"] = 10000.0;
  config["max_position_embeddings"] = 256;
  config["torch_dtype"] = "float32";
  std::ofstream(dir / "config.json") << config.dump();
  auto model = lm::create_model(config);
  std::map<std::string, array> weights;
  array key = random::key(seed);
  for (auto& [name, p] : model->parameters()) {
    auto ks = random::split(key);
    key = ks.first;
    if (name.find("norm") != std::string::npos) {
      weights.emplace(name, ones(p.shape(), float32));
    } else {
      weights.emplace(name, std == 0 ? zeros(p.shape(), float32) : random::normal(p.shape(), float32, 0.0f, std, ks.second));
    }
  }
  save_safetensors((dir / "model.safetensors").string(), weights);
  return dir;
}

fs::path model_with_tokenizer(const TempDir& tmp, const std::string& tokenizer, const std::string& arch = "qwen3") {
  // general.name is the folder's name; llama.cpp gives a name with "phi3" in
  // it Phi-3's special tokens, which the other tokenizers lack.
  fs::path dir = tmp / ("tiny_" + tokenizer);
  fs::create_directories(dir);
  fs::path tok = text::tokenizer::testing::npm_model_dir(tokenizer);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(tok / f, dir / f);
  json tj = text::tokenizer::testing::read_json(tok / "tokenizer.json");
  int64_t n = 0;
  for (auto& [t, id] : tj["model"]["vocab"].items()) n = std::max<int64_t>(n, id.get<int64_t>() + 1);
  for (auto& a : tj["added_tokens"]) n = std::max<int64_t>(n, a["id"].get<int64_t>() + 1);
  if (arch == "wide") {  // a llama with rows of whole K-quant super-blocks
    json config = {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 256},
                   {"intermediate_size", 512}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                   {"num_key_value_heads", 1}, {"vocab_size", n}, {"tie_word_embeddings", true}};
    write_model(dir, config, 0.05f, 5);
    return dir;
  }
  std::string src = test::model_fixture(arch);
  json config = text::tokenizer::testing::read_json(src + "/config.json");
  config["vocab_size"] = n;
  std::ofstream(dir / "config.json") << config.dump();
  auto weights = load_safetensors(src + "/model.safetensors").first;
  int hidden = config["hidden_size"];
  weights.insert_or_assign("model.embed_tokens.weight", random::normal({int(n), hidden}, float32, 0.0f, 0.5f));
  if (weights.count("lm_head.weight")) {
    weights.insert_or_assign("lm_head.weight", random::normal({int(n), hidden}, float32, 0.0f, 0.5f));
  }
  save_safetensors((dir / "model.safetensors").string(), weights);
  std::ofstream(dir / "chat_template.jinja")
      << "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|a|>{% endif %}";
  return dir;
}

class GgufWriteTokenizer : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufWriteTokenizer, EncodesTheCorpusAsTheFolderDoes) {
  std::string name = GetParam();
  TempDir tmp("tok_" + name);
  fs::path dir = model_with_tokenizer(tmp, name);
  auto out = write_gguf(dir.string(), "f16", tmp / "model.gguf");
  auto folder = text::tokenizer::load_tokenizer(dir);
  auto gguf = text::tokenizer::load_tokenizer(out);
  json corpus = text::tokenizer::testing::read_json(text::tokenizer::testing::shared_fixtures() / "tokenizer_corpus.json");
  if (corpus.is_object() && corpus.contains("texts")) corpus = corpus["texts"];
  ASSERT_GT(corpus.size(), 100u);
  int mismatches = 0;
  for (const auto& t : corpus) {
    std::string text = t.get<std::string>();
    for (bool special : {false, true}) {
      auto want = folder.tokenizer->encode(text, special);
      auto got = gguf.tokenizer->encode(text, special);
      if (got != want && ++mismatches <= 5) ADD_FAILURE() << name << " special=" << special << ": " << text.substr(0, 80);
    }
  }
  EXPECT_EQ(mismatches, 0);
  ASSERT_NE(gguf.chat_template(), nullptr);
  EXPECT_EQ(gguf.chat_template()->source, folder.chat_template()->source);
  ASSERT_EQ(gguf.bos.has_value(), folder.bos.has_value());
  if (folder.bos) EXPECT_EQ(gguf.bos->id, folder.bos->id);
  ASSERT_TRUE(gguf.eos && folder.eos);
  EXPECT_EQ(gguf.eos->id, folder.eos->id);
  EXPECT_EQ(gguf.add_bos_token, folder.add_bos_token);
  EXPECT_EQ(gguf.add_eos_token, folder.add_eos_token);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GgufWriteTokenizer, ::testing::Values("llama3", "qwen3", "llama2"));

// llama.cpp loads uma's files and computes uma's logits: run only where
// UMA_LLAMA_LOGITS names a build of the llama_logits tool (a 50-line program
// on llama.cpp's API printing {prompt_ids, last_logits, greedy} as JSON; see
// tests/fixtures/gguf/README.md), since llama.cpp is not part of uma.
TEST(GgufWriteLlamaCpp, LlamaCppComputesUmasLogits) {
  const char* tool = std::getenv("UMA_LLAMA_LOGITS");
  if (!tool || !*tool) GTEST_SKIP() << "UMA_LLAMA_LOGITS is not set";
  const std::string prompt = "Hello world, this is a test of \u00fcnicode and numbers 12345.";
  struct Case { const char* arch; const char* tokenizer; const char* type; double tol; };
  // f32 files: llama.cpp keeps its KV cache in float16 by default.
  for (auto c : {Case{"llama", "llama3", "f32", 2e-3}, Case{"llama", "llama2", "f32", 2e-3},
                 Case{"qwen3", "qwen3", "f32", 2e-3}, Case{"gemma2", "llama2", "f32", 2e-3},
                 Case{"phi3", "llama3", "f32", 2e-3}, Case{"qwen2", "qwen3", "f32", 2e-3},
                 Case{"gemma3", "llama3", "f32", 2e-3}, Case{"mistral", "llama2", "f32", 2e-3},
                 Case{"llama", "llama3", "q8_0", 0.05}, Case{"llama", "llama3", "q4_0", 0.1},
                 Case{"wide", "llama3", "q6_k", 0.05}, Case{"wide", "llama3", "q4_k_m", 0.1},
                 Case{"wide", "llama3", "q3_k_m", 0.2}, Case{"wide", "llama3", "q2_k", 0.3}}) {
    std::string tag = std::string(c.arch) + "-" + c.tokenizer + "-" + c.type;
    SCOPED_TRACE(tag);
    TempDir tmp("llama_cpp_" + tag);
    fs::path dir = model_with_tokenizer(tmp, c.tokenizer, c.arch);
    auto out = write_gguf(dir.string(), c.type, tmp / "model.gguf");
    fs::path json_out = tmp / "llama.json";
    std::string cmd = std::string(tool) + " '" + out + "' '" + prompt + "' 4 > '" + json_out.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    json ref = text::tokenizer::testing::read_json(json_out);
    auto lm = lm::load(out);
    auto ids = lm.tokenizer.tokenizer->encode(prompt, true);
    EXPECT_EQ(ids, ref["prompt_ids"].get<std::vector<int32_t>>());
    lm::LoadOptions opts;
    opts.dtype = float32;
    auto model = lm::load_model(out, opts);
    std::vector<int> ref_ids = ref["prompt_ids"].get<std::vector<int>>();
    array logits = (*model.model)(array(ref_ids, {1, int(ref_ids.size())}), nullptr);
    array last = take(logits, array(int(ref_ids.size()) - 1), 1);
    auto want = ref["last_logits"].get<std::vector<float>>();
    double err = test::rel_err(last, array(want.data(), {1, int(want.size())}, float32));
    std::printf("[llama.cpp] %s: %zu prompt ids, last logits max |uma - llama.cpp| / max |llama.cpp| = %.3g\n",
                tag.c_str(), ref_ids.size(), err);
    EXPECT_LE(err, c.tol);
  }
}

// An MLX-quantized folder is written as its dequantized weights.
TEST(GgufWriteMlx, QuantizedFolderIsDequantizedFirst) {
  TempDir tmp("mlx");
  lm::ConvertOptions q;
  q.hf_path = test::model_fixture("qwen3");
  q.mlx_path = (tmp / "q4").string();
  q.quantize = true;
  lm::convert(q);
  auto out = write_gguf(q.mlx_path, "f32", tmp / "q4.gguf");
  std::vector<int> ids = {1, 5, 9, 200, 3};
  auto mlx = lm::load_model(q.mlx_path);
  lm::dequantize_layers(*mlx.model);
  array want = (*mlx.model)(array(ids, {1, 5}), nullptr);
  lm::LoadOptions opts;
  opts.dtype = float32;
  auto gguf = lm::load_model(out, opts);
  for (const auto& t : io::gguf::File::open(out).tensors()) EXPECT_EQ(t.type, uint32_t(io::gguf::GgmlType::F32)) << t.name;
  EXPECT_LE(test::rel_err((*gguf.model)(array(ids, {1, 5}), nullptr), want), 1e-5);
}

// As llama.cpp's converter, Gemma 3's embedding keeps only the rows the
// tokenizer has (checkpoints pad it past the vocabulary).
TEST(GgufWriteGemma3, EmbeddingTrimmedToTheTokenizer) {
  TempDir tmp("gemma3_trim");
  fs::path dir = model_with_tokenizer(tmp, "qwen3", "gemma3");
  json config = text::tokenizer::testing::read_json(dir / "config.json");
  int64_t n = config["vocab_size"];
  auto weights = load_safetensors((dir / "model.safetensors").string()).first;
  int hidden = config["hidden_size"];
  weights.insert_or_assign("model.embed_tokens.weight", random::normal({int(n + 64), hidden}, float32, 0.0f, 0.5f));
  save_safetensors((dir / "model.safetensors").string(), weights);
  config["vocab_size"] = n + 64;
  std::ofstream(dir / "config.json") << config.dump();
  auto out = write_gguf(dir.string(), "f32", tmp / "g.gguf");
  auto f = io::gguf::File::open(out);
  json tj = text::tokenizer::testing::read_json(dir / "tokenizer.json");
  uint64_t rows = tj["model"]["vocab"].size() + tj["added_tokens"].size();
  EXPECT_EQ(f.tensor("token_embd.weight")->dims, (std::vector<uint64_t>{uint64_t(hidden), rows}));
  EXPECT_EQ(f.at("tokenizer.ggml.tokens").size(), rows);
}

const json& mix_goldens() {
  static const json j = text::tokenizer::testing::read_json(std::string(UMA_SOURCE_DIR) +
                                                            "/tests/fixtures/gguf/kquant_mix_goldens.json");
  return j;
}

// Every tensor of every file type gets the type llama-quantize gives it
// (tests/fixtures/gguf/kquant_mix_goldens.json, make_kquant_mix_goldens.py):
// 8 layers, tied and untied embeddings, grouped-query attention of 4 and 2,
// Phi-3's fused QKV, rows of 320 that fall back from the K-quants.
TEST(GgufWriteMix, TensorTypesAreLlamaQuantizes) {
  TempDir tmp("mix");
  for (const auto& [model_name, entry] : mix_goldens()["models"].items()) {
    fs::path dir = write_model(tmp / model_name, entry["config"], 0.0f, 0);
    for (const auto& [ftype, want] : entry["types"].items()) {
      SCOPED_TRACE(model_name + " " + ftype);
      fs::path out = tmp / (model_name + "-" + ftype + ".gguf");
      write_gguf(dir.string(), ftype, out);
      auto f = io::gguf::File::open(out);
      EXPECT_EQ(f.tensors().size(), want.size());
      for (const auto& t : f.tensors()) {
        ASSERT_TRUE(want.contains(std::string(t.name))) << t.name;
        EXPECT_EQ(io::gguf::type_traits(t.type)->name, want[std::string(t.name)].get<std::string>()) << t.name;
      }
      fs::remove(out);
    }
  }
}

// Files of every K-quant mix, rows of whole super-blocks: each loads back
// (uma's readers: Q4_K/Q5_K as affine layers, Q2_K/Q3_K/Q6_K decoded) to the
// logits of the model rounded as the file says, and the coarser the mix,
// the further from the unrounded model.
TEST(GgufWriteKQuant, EveryMixLoadsBackToItsRoundedLogits) {
  TempDir tmp("kquant");
  json config = mix_goldens()["models"]["llama_tied_gqa4"]["config"];
  config["num_hidden_layers"] = 2;
  fs::path dir = write_model(tmp / "wide", config, 0.05f, 3);
  std::vector<int> ids = {1, 17, 250, 3, 99, 42, 7, 311, 128, 5};
  auto f32 = write_gguf(dir.string(), "f32", tmp / "f32.gguf");
  array want = [&] {
    auto lm = lm::load_model(dir.string());
    return (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
  }();
  std::map<std::string, double> err;
  for (const char* type : {"q6_k", "q5_k_m", "q5_k_s", "q4_k_m", "q4_k_s", "q3_k_l", "q3_k_m", "q3_k_s", "q2_k"}) {
    SCOPED_TRACE(type);
    auto out = write_gguf(dir.string(), type, tmp / (std::string(type) + ".gguf"));
    const std::map<std::string, uint64_t> file_types = {{"q2_k", 10},   {"q3_k_s", 11}, {"q3_k_m", 12},
                                                        {"q3_k_l", 13}, {"q4_k_s", 14}, {"q4_k_m", 15},
                                                        {"q5_k_s", 16}, {"q5_k_m", 17}, {"q6_k", 18}};
    EXPECT_EQ(io::gguf::File::open(out).at("general.file_type").as_uint(), file_types.at(type));
    lm::LoadOptions opts;
    opts.dtype = float32;
    auto lm = lm::load_model(out, opts);
    lm::dequantize_layers(*lm.model);
    array got = (*lm.model)(array(ids, {1, int(ids.size())}), nullptr);
    EXPECT_LE(test::rel_err(got, rounded_logits(f32, out, ids)), 1e-5);
    err[type] = test::rel_err(got, want);
    std::printf("[gguf %s] logits vs the unrounded model: %.4f\n", type, err[type]);
  }
  EXPECT_LT(err["q6_k"], err["q5_k_m"]);
  EXPECT_LT(err["q5_k_m"], err["q4_k_m"]);
  EXPECT_LT(err["q4_k_m"], err["q3_k_m"]);
  EXPECT_LT(err["q3_k_m"], err["q2_k"]);
}

TEST(GgufWriteErrors, RefusesAnExistingFileAndUnsupportedInput) {
  TempDir tmp("errors");
  fs::path out = tmp / "exists.gguf";
  std::ofstream(out) << "x";
  try {
    write_gguf(test::model_fixture("llama"), "f16", out);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::file_size(out), 1u);
  EXPECT_THROW(write_gguf(test::model_fixture("llama"), "iq2_xxs", tmp / "a.gguf"), std::invalid_argument);
  EXPECT_FALSE(fs::exists(tmp / "a.gguf"));
}

}  // namespace
