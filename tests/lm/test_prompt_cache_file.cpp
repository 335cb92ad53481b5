// Prompt caches as files in mlx-lm's layout: the exact tensor names, dtypes
// and metadata keys mlx-lm's save_prompt_cache writes (worked out by hand
// from models/cache.py and mlx.utils.tree_flatten), a file laid out as
// mlx-lm writes it loads here, a loaded cache continues exactly as a fresh
// run over the whole prompt, and wrong or damaged files are clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lm/kv_test_util.h"
#include "lm/model_util.h"
#include "uma/lm/load.h"
#include "uma/lm/prompt_cache.h"
#include "uma/lm/prompt_cache_file.h"

using namespace uma;
using namespace uma::lm;
using uma::test::feed;
using uma::test::rel_err;
using uma::test::token_ids;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("uma_pcf_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

// Caches of `m` holding `prompt`.
CacheList holding(Model& m, const std::vector<int>& prompt, std::optional<int> max_kv = std::nullopt) {
  CacheList c = m.make_cache(max_kv);
  feed(m, c, prompt);
  return c;
}

}  // namespace

// The golden layout, by hand from mlx-lm: cache_data = tree_flatten([c.state
// for c in cache]) with KVCache.state = (keys, values) trimmed to offset and
// QuantizedKVCache.state = ((kw, ks, kb), (vw, vs, vb)); cache_metadata =
// tree_flatten([[c.meta_state ...], metadata, [type(c).__name__ ...]]) with
// KVCache.meta_state = "" and QuantizedKVCache's (offset, group_size, bits)
// as strings.
TEST(PromptCacheFile, LayoutIsMlxLms) {
  array k = random::normal({1, 2, 5, 64}, float32, 0.0f, 1.0f, random::key(1));
  array v = random::normal({1, 2, 5, 64}, float32, 0.0f, 1.0f, random::key(2));
  CacheList caches;
  caches.push_back(std::make_unique<StandardKVCache>());
  caches.push_back(std::make_unique<QuantizedKVCache>(64, 8));
  for (auto& c : caches) c->update_and_fetch(k, v);  // 5 of 256 positions used
  std::string path = temp_path("layout.safetensors");
  save_prompt_cache(path, caches, {{"model", "m"}, {"tokenizer_config", "{}"}});
  auto [tensors, meta] = load_safetensors(path);
  std::map<std::string, std::pair<std::string, Shape>> want = {
      {"0.0", {"F32", {1, 2, 5, 64}}},   {"0.1", {"F32", {1, 2, 5, 64}}},
      {"1.0.0", {"U32", {1, 2, 5, 16}}}, {"1.0.1", {"F32", {1, 2, 5, 1}}}, {"1.0.2", {"F32", {1, 2, 5, 1}}},
      {"1.1.0", {"U32", {1, 2, 5, 16}}}, {"1.1.1", {"F32", {1, 2, 5, 1}}}, {"1.1.2", {"F32", {1, 2, 5, 1}}}};
  ASSERT_EQ(tensors.size(), want.size());
  for (auto& [name, dt_shape] : want) {
    ASSERT_TRUE(tensors.count(name)) << name;
    EXPECT_EQ(safetensors_dtype_name(tensors.at(name).dtype()), dt_shape.first) << name;
    EXPECT_EQ(tensors.at(name).shape(), dt_shape.second) << name;
  }
  EXPECT_TRUE(array_equal(tensors.at("0.0"), k).item<bool>());
  auto qk = quantize(k, 64, 8);
  EXPECT_TRUE(array_equal(tensors.at("1.0.0"), qk[0]).item<bool>());
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"0.0", ""},
                                                       {"0.1.0", "5"},
                                                       {"0.1.1", "64"},
                                                       {"0.1.2", "8"},
                                                       {"1.model", "m"},
                                                       {"1.tokenizer_config", "{}"},
                                                       {"2.0", "KVCache"},
                                                       {"2.1", "QuantizedKVCache"}}));
  std::filesystem::remove(path);
}

// A file as mlx_lm.cache_prompt writes it for a model with a sliding-window
// layer (RotatingKVCache meta_state: keep, max_size, offset, _idx), written
// here key by key; it loads with the states and offsets it names.
TEST(PromptCacheFile, ReadsMlxLmsFiles) {
  array k0 = random::normal({1, 2, 6, 16}, float32, 0.0f, 1.0f, random::key(3));
  array k1 = random::normal({1, 2, 4, 16}, float32, 0.0f, 1.0f, random::key(4));
  std::string path = temp_path("mlx.safetensors");
  save_safetensors(path, std::map<std::string, array>{{"0.0", k0}, {"0.1", k0}, {"1.0", k1}, {"1.1", k1}},
                   {{"0.0", ""},
                    {"0.1.0", "0"},
                    {"0.1.1", "4"},
                    {"0.1.2", "6"},
                    {"0.1.3", "4"},
                    {"1.model", "mlx-community/x"},
                    {"1.tokenizer_config", "{\"trust_remote_code\": false}"},
                    {"2.0", "KVCache"},
                    {"2.1", "RotatingKVCache"}});
  auto f = load_prompt_cache(path);
  ASSERT_EQ(f.caches.size(), 2u);
  EXPECT_EQ(f.caches[0]->class_name(), "KVCache");
  EXPECT_EQ(f.caches[0]->offset(), 6);
  auto& rot = dynamic_cast<RotatingKVCache&>(*f.caches[1]);
  EXPECT_EQ(rot.offset(), 6);
  EXPECT_EQ(rot.max_size(), 4);
  EXPECT_EQ(rot.meta_state(), (std::vector<std::string>{"0", "4", "6", "4"}));
  EXPECT_FALSE(f.tokens.has_value());
  EXPECT_EQ(f.metadata.at("model"), "mlx-community/x");
  // Saved again, it is the same file content (names, metadata).
  std::string again = temp_path("again.safetensors");
  save_prompt_cache(again, f.caches, f.metadata);
  EXPECT_EQ(load_safetensors(again).second, load_safetensors(path).second);
  std::filesystem::remove(path);
  std::filesystem::remove(again);
}

// Save, load, feed the rest: the next token's logits equal a fresh run over
// the whole prompt (float32 fixtures; only the chunking differs, 5e-5), for
// standard caches (llama, qwen3) and sliding-window rotating ones (gemma2,
// window 8 passed by the 12-token prompt).
TEST(PromptCacheFile, RoundTripEqualsRecomputation) {
  for (std::string arch : {"llama", "qwen3", "gemma2"}) {
    SCOPED_TRACE(arch);
    auto lm = load_model(test::model_fixture(arch));
    Model& m = *lm.model;
    std::vector<int> prompt = token_ids(12, m.vocab_size(), 1), rest = token_ids(3, m.vocab_size(), 2);
    std::string path = temp_path(arch + ".safetensors");
    save_prompt_cache(path, holding(m, prompt), prompt_cache_metadata(m, "fixture", prompt));
    auto f = load_prompt_cache(path);
    check_prompt_cache(f, m, lm.dtype, std::nullopt, path);
    ASSERT_TRUE(f.tokens);
    EXPECT_EQ(*f.tokens, prompt);
    std::vector<int> whole = prompt;
    whole.insert(whole.end(), rest.begin(), rest.end());
    // Through PromptCache, as generate and chat use it: only `rest` is fed.
    PromptCache pc(m);
    pc.assign(std::move(f.caches), *f.tokens);
    std::vector<int> fresh = pc.fetch(whole);
    EXPECT_EQ(fresh, rest);
    CacheList scratch = m.make_cache();
    EXPECT_LE(rel_err(feed(m, pc.caches(), fresh), feed(m, scratch, whole)), 5e-5);
    std::filesystem::remove(path);
  }
}

// A quantized cache survives the file bit for bit: continuing from the
// loaded file gives the logits the in-memory quantized cache gives.
TEST(PromptCacheFile, QuantizedRoundTrip) {
  auto m = test::random_llama();
  std::vector<int> prompt = token_ids(20, 200, 4);
  CacheList live = holding(*m, prompt);
  maybe_quantize_kv_cache(live, {4, 32, 0});
  std::string path = temp_path("q.safetensors");
  save_prompt_cache(path, live, prompt_cache_metadata(*m, "random", prompt));
  auto f = load_prompt_cache(path);
  check_prompt_cache(f, *m, float32, std::nullopt, path);
  auto& q = dynamic_cast<QuantizedKVCache&>(*f.caches[1]);
  EXPECT_EQ(q.bits(), 4);
  EXPECT_EQ(q.group_size(), 32);
  EXPECT_EQ(q.offset(), 20);
  auto saved = live[1]->saved_state(), loaded = q.saved_state();
  for (size_t i = 0; i < saved.size(); ++i) EXPECT_TRUE(array_equal(saved[i].second, loaded[i].second).item<bool>());
  std::vector<int> next = {9, 8};
  EXPECT_EQ(rel_err(feed(*m, f.caches, next), feed(*m, live, next)), 0.0);
  std::filesystem::remove(path);
}

// A cache from another model or config is refused, naming what differs.
TEST(PromptCacheFile, MismatchIsAClearError) {
  auto llama = load_model(test::model_fixture("llama"));
  auto qwen3 = load_model(test::model_fixture("qwen3"));
  auto gemma2 = load_model(test::model_fixture("gemma2"));
  std::vector<int> prompt = token_ids(6, 100, 1);
  std::string path = temp_path("llama.safetensors");
  save_prompt_cache(path, holding(*llama.model, prompt), prompt_cache_metadata(*llama.model, "llama", prompt));
  auto f = load_prompt_cache(path);
  std::string e = error_of([&] { check_prompt_cache(f, *qwen3.model, qwen3.dtype, std::nullopt, path); });
  EXPECT_EQ(e.rfind("[prompt_cache] " + path + " does not fit this model: it was made by the model 'llama", 0), 0u) << e;
  // Without uma's fingerprint (an mlx-lm file), the shapes still tell.
  f.metadata.erase("uma_model");
  e = error_of([&] { check_prompt_cache(f, *qwen3.model, qwen3.dtype, std::nullopt, path); });
  EXPECT_EQ(e, "[prompt_cache] " + path + " does not fit this model: layer 0: head_dim 16, the model's is 32");
  e = error_of([&] { check_prompt_cache(f, *llama.model, bfloat16, std::nullopt, path); });
  EXPECT_NE(e.find("layer 0: the cache is float32, the model computes in bfloat16"), std::string::npos) << e;
  e = error_of([&] { check_prompt_cache(f, *gemma2.model, gemma2.dtype, std::nullopt, path); });
  EXPECT_NE(e.find("layer 0: the file holds a KVCache, the model needs a RotatingKVCache of max_size"),
            std::string::npos) << e;
  e = error_of([&] { check_prompt_cache(f, *llama.model, llama.dtype, 64, path); });
  EXPECT_NE(e.find("needs a RotatingKVCache of max_size 64"), std::string::npos) << e;
  // The same architecture with other weights: only the fingerprint tells.
  auto f2 = load_prompt_cache(path);
  auto other = load_model(test::model_fixture("llama"));
  auto w = other.model->parameters();
  other.model->update({{"model.norm.weight", multiply(w.at("model.norm.weight"), array(2.0f))}});
  e = error_of([&] { check_prompt_cache(f2, *other.model, other.dtype, std::nullopt, path); });
  EXPECT_NE(e.find("it was made by the model"), std::string::npos) << e;
  EXPECT_NO_THROW(check_prompt_cache(f2, *llama.model, llama.dtype, std::nullopt, path));
  std::filesystem::remove(path);
}

// Damaged files: truncated, not a cache, a class uma does not know, a meta
// state that is not a number, a missing tensor.
TEST(PromptCacheFile, CorruptFilesAreClearErrors) {
  auto llama = load_model(test::model_fixture("llama"));
  std::vector<int> prompt = token_ids(6, 100, 1);
  std::string path = temp_path("good.safetensors"), bad = temp_path("bad.safetensors");
  save_prompt_cache(path, holding(*llama.model, prompt), prompt_cache_metadata(*llama.model, "llama", prompt));
  auto size = std::filesystem::file_size(path);
  std::filesystem::copy_file(path, bad, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(bad, size / 2);
  std::string e = error_of([&] { load_prompt_cache(bad); });
  EXPECT_EQ(e.rfind("[load_prompt_cache] ", 0), 0u) << e;
  EXPECT_NE(e.find(bad), std::string::npos) << e;

  auto [tensors, meta] = load_safetensors(path);
  auto rewrite = [&](std::map<std::string, array> t, std::map<std::string, std::string> m) {
    save_safetensors(bad, t, m);
    return error_of([&] { load_prompt_cache(bad); });
  };
  EXPECT_EQ(rewrite(tensors, {}), "[load_prompt_cache] " + bad + ": tensor '0.0' belongs to no cache (no class 2.0)");
  auto m = meta;
  m["2.1"] = "ArraysCache";
  EXPECT_EQ(rewrite(tensors, m), "[load_prompt_cache] " + bad +
                                     ": layer 1 has cache class 'ArraysCache'; uma reads KVCache, QuantizedKVCache "
                                     "and RotatingKVCache");
  m = meta;
  m["2.1"] = "RotatingKVCache";
  m["0.1.0"] = "x";
  EXPECT_EQ(rewrite(tensors, m), "[load_prompt_cache] " + bad + ": layer 1's keep 'x' is not an integer in [0, 1073741824]");
  auto t = tensors;
  t.erase("1.1");
  EXPECT_EQ(rewrite(t, meta), "[load_prompt_cache] " + bad + ": layer 1 (KVCache) has no tensor '1.1'");
  m = meta;
  m["1.uma_tokens"] = "[1, 2]";
  save_safetensors(bad, tensors, m);
  auto f = load_prompt_cache(bad);
  e = error_of([&] { check_prompt_cache(f, *llama.model, llama.dtype, std::nullopt, bad); });
  EXPECT_NE(e.find("its uma_tokens list has 2 ids for 6 cached tokens"), std::string::npos) << e;
  std::filesystem::remove(path);
  std::filesystem::remove(bad);
}
