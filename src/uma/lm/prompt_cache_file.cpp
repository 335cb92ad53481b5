#include "uma/lm/prompt_cache_file.h"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

#include "uma/core/io/safetensors.h"
#include "uma/core/ops.h"

namespace uma::lm {

namespace {

std::string shape_text(const array& a) {
  std::string s = "(";
  for (int i = 0; i < int(a.ndim()); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + ")";
}

// A decimal integer in [lo, hi], the whole string.
std::optional<int> parse_int(const std::string& s, int lo, int hi) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  int64_t v = 0;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  if (s[0] == '-') v = -v;
  if (v < lo || v > hi) return std::nullopt;
  return int(v);
}

// The parts of a file for one layer, keyed by what follows "<i>.".
struct LayerParts {
  std::map<std::string, array> tensors;
  std::map<std::string, std::string> meta;  // "" (the meta_state itself) or "0", "1", ...
  std::optional<std::string> class_name;
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::invalid_argument("[load_prompt_cache] " + path_ + ": " + msg);
  }
  int layer_index(const std::string& key, const std::string& what) const {
    auto i = parse_int(key, 0, 1 << 20);
    if (!i) fail(what + " '" + key + "' does not start with a layer index");
    return *i;
  }
  // "<i>.<rest>" -> (i, rest); rest may be empty when there is no dot.
  std::pair<int, std::string> split(const std::string& key, const std::string& what) const {
    size_t dot = key.find('.');
    std::string head = key.substr(0, dot), rest = dot == std::string::npos ? "" : key.substr(dot + 1);
    return {layer_index(head, what), rest};
  }
  int meta_int(LayerParts& p, int layer, const std::string& k, const char* name, int lo, int hi) const {
    auto it = p.meta.find(k);
    if (it == p.meta.end()) fail("layer " + std::to_string(layer) + " has no " + name + " (metadata 0." +
                                 std::to_string(layer) + "." + k + ")");
    auto v = parse_int(it->second, lo, hi);
    if (!v) fail("layer " + std::to_string(layer) + "'s " + name + " '" + it->second + "' is not an integer in [" +
                 std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return *v;
  }
  array take(LayerParts& p, int layer, const std::string& k) const {
    auto it = p.tensors.find(k);
    if (it == p.tensors.end()) fail("layer " + std::to_string(layer) + " (" + *p.class_name + ") has no tensor '" +
                                    std::to_string(layer) + "." + k + "'");
    array a = it->second;
    p.tensors.erase(it);
    return a;
  }
  // Keys and values of a float cache: 4-d, same float dtype, batch, heads and positions.
  std::pair<array, array> float_pair(LayerParts& p, int layer) const {
    array k = take(p, layer, "0"), v = take(p, layer, "1");
    std::string where = "layer " + std::to_string(layer) + "'s ";
    if (k.ndim() != 4 || v.ndim() != 4) fail(where + "keys and values must be 4-d (B, H, T, D), got " +
                                             shape_text(k) + " and " + shape_text(v));
    if (!is_floating_point(k.dtype()) || k.dtype() != v.dtype()) {
      fail(where + "keys and values must share a float dtype, got " + dtype_name(k.dtype()) + " and " +
           dtype_name(v.dtype()));
    }
    for (int d = 0; d < 3; ++d) {
      if (k.shape(d) != v.shape(d)) fail(where + "keys " + shape_text(k) + " and values " + shape_text(v) + " differ");
    }
    return {k, v};
  }

 private:
  std::string path_;
};

std::unique_ptr<KVCache> restore(const Reader& r, LayerParts& p, int layer) {
  const std::string& cls = *p.class_name;
  auto no_meta = [&] {
    auto it = p.meta.find("");
    if (p.meta.size() > 1 || (p.meta.size() == 1 && (it == p.meta.end() || !it->second.empty()))) {
      r.fail("layer " + std::to_string(layer) + " (KVCache) has a meta state, but a KVCache has none");
    }
  };
  std::unique_ptr<KVCache> c;
  try {
    if (cls == "KVCache") {
      no_meta();
      auto [k, v] = r.float_pair(p, layer);
      c = std::make_unique<StandardKVCache>(k, v);
    } else if (cls == "RotatingKVCache") {
      constexpr int kMax = 1 << 30;
      int keep = r.meta_int(p, layer, "0", "keep", 0, kMax), max_size = r.meta_int(p, layer, "1", "max_size", 1, kMax);
      int offset = r.meta_int(p, layer, "2", "offset", 0, kMax), idx = r.meta_int(p, layer, "3", "idx", 0, kMax);
      auto [k, v] = r.float_pair(p, layer);
      c = std::make_unique<RotatingKVCache>(k, v, keep, max_size, offset, idx);
    } else if (cls == "QuantizedKVCache") {
      int offset = r.meta_int(p, layer, "0", "offset", 0, 1 << 30);
      int group = r.meta_int(p, layer, "1", "group_size", 1, 1 << 16), bits = r.meta_int(p, layer, "2", "bits", 1, 32);
      QuantizedKVCache::Triple k, v;
      for (int i = 0; i < 3; ++i) k.push_back(r.take(p, layer, "0." + std::to_string(i)));
      for (int i = 0; i < 3; ++i) v.push_back(r.take(p, layer, "1." + std::to_string(i)));
      c = std::make_unique<QuantizedKVCache>(std::move(k), std::move(v), offset, group, bits);
    } else {
      r.fail("layer " + std::to_string(layer) + " has cache class '" + cls +
             "'; uma reads KVCache, QuantizedKVCache and RotatingKVCache");
    }
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    if (msg.rfind("[load_prompt_cache]", 0) == 0) throw;
    r.fail("layer " + std::to_string(layer) + ": " + msg);
  }
  if (!p.tensors.empty()) {
    r.fail("layer " + std::to_string(layer) + " (" + cls + ") has an unexpected tensor '" + std::to_string(layer) +
           "." + p.tensors.begin()->first + "'");
  }
  return c;
}

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace

void save_prompt_cache(const std::string& path, const CacheList& caches,
                       const std::map<std::string, std::string>& metadata) {
  std::map<std::string, array> tensors;
  std::map<std::string, std::string> meta;
  for (size_t i = 0; i < caches.size(); ++i) {
    std::string li = std::to_string(i);
    auto state = caches[i]->saved_state();
    if (state.empty()) throw std::invalid_argument("[save_prompt_cache] layer " + li + "'s cache is empty");
    for (auto& [k, a] : state) tensors.emplace(li + "." + k, a);
    auto ms = caches[i]->meta_state();
    if (ms.empty()) meta["0." + li] = "";
    for (size_t j = 0; j < ms.size(); ++j) meta["0." + li + "." + std::to_string(j)] = ms[j];
    meta["2." + li] = caches[i]->class_name();
  }
  for (auto& [k, v] : metadata) {
    if (k.empty() || k.find('.') != std::string::npos) {
      throw std::invalid_argument("[save_prompt_cache] metadata key '" + k +
                                  "' must be non-empty and without '.' (mlx-lm reads dots as nesting)");
    }
    meta["1." + k] = v;
  }
  save_safetensors(path, tensors, meta);
}

PromptCacheFile load_prompt_cache(const std::string& path) {
  Reader r(path);
  SafetensorsLoad st;
  try {
    st = load_safetensors(path, /*in_memory=*/true);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("[load_prompt_cache] ") + e.what());
  }
  PromptCacheFile out;
  std::map<int, LayerParts> layers;
  for (auto& [key, value] : st.second) {
    auto [top, rest] = r.split(key, "metadata key");
    if (rest.empty()) r.fail("metadata key '" + key + "' is not <part>.<index>");
    if (top == 1) {
      out.metadata[rest] = value;
      continue;
    }
    if (top != 0 && top != 2) r.fail("metadata key '" + key + "' is not under 0 (meta states), 1 or 2 (classes)");
    auto [layer, sub] = r.split(rest, "metadata key");
    if (top == 2) {
      if (!sub.empty()) r.fail("metadata key '" + key + "' is not 2.<layer>");
      layers[layer].class_name = value;
    } else {
      layers[layer].meta[sub] = value;
    }
  }
  for (auto& [key, a] : st.first) {
    auto [layer, sub] = r.split(key, "tensor");
    if (!layers.count(layer) || !layers[layer].class_name) r.fail("tensor '" + key + "' belongs to no cache (no class 2." + std::to_string(layer) + ")");
    layers[layer].tensors.emplace(sub, a);
  }
  if (layers.empty()) r.fail("holds no caches (no metadata 2.<layer> naming cache classes): not a prompt cache file");
  int n = int(layers.size());
  for (int i = 0; i < n; ++i) {
    auto it = layers.find(i);
    if (it == layers.end() || !it->second.class_name) r.fail("has no cache class for layer " + std::to_string(i) + " (metadata 2." + std::to_string(i) + ")");
    out.caches.push_back(restore(r, it->second, i));
  }
  if (auto it = out.metadata.find("uma_tokens"); it != out.metadata.end()) {
    std::vector<int> ids;
    try {
      auto j = nlohmann::json::parse(it->second);
      for (auto& t : j) ids.push_back(t.get<int>());
      if (!j.is_array()) throw std::invalid_argument("not a list");
    } catch (const std::exception&) {
      r.fail("metadata 1.uma_tokens is not a JSON list of token ids");
    }
    out.tokens = std::move(ids);
  }
  return out;
}

std::string model_fingerprint(const Model& model) {
  auto params = model.parameters();
  std::vector<array> samples;
  uint64_t h = 1469598103934665603ull;
  for (auto& [name, p] : params) {
    h = fnv1a(h, name.data(), name.size());
    for (int i = 0; i < int(p.ndim()); ++i) {
      int32_t d = p.shape(i);
      h = fnv1a(h, &d, sizeof d);
    }
    // A few leading values, rounded to bfloat16: the same whatever --dtype
    // the weights were cast to (float32 or bfloat16).
    array flat = reshape(p, {int(p.size())});
    array head = slice(flat, {0}, {std::min<int>(8, int(p.size()))});
    samples.push_back(astype(astype(head, bfloat16), float32));
  }
  eval(samples);
  for (auto& s : samples) {
    auto v = s.to_vector<float>();
    h = fnv1a(h, v.data(), v.size() * sizeof(float));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, h);
  return model.model_type() + " layers=" + std::to_string(model.num_layers()) +
         " kv_heads=" + std::to_string(model.kv_heads()) + " head_dim=" + std::to_string(model.kv_head_dim()) +
         " vocab=" + std::to_string(model.vocab_size()) + " weights=" + hex;
}

std::map<std::string, std::string> prompt_cache_metadata(const Model& model, const std::string& model_path,
                                                         const std::vector<int>& tokens) {
  return {{"model", model_path},
          {"tokenizer_config", "{\"trust_remote_code\": false}"},
          {"uma_tokens", nlohmann::json(tokens).dump()},
          {"uma_model", model_fingerprint(model)}};
}

void check_prompt_cache(const PromptCacheFile& file, const Model& model, Dtype dtype,
                        std::optional<int> max_kv_size, const std::string& path) {
  auto fail = [&](const std::string& msg) {
    throw std::invalid_argument("[prompt_cache] " + path + " does not fit this model: " + msg);
  };
  int layers = model.num_layers();
  if (int(file.caches.size()) != layers) {
    fail("it holds " + std::to_string(file.caches.size()) + " layers, the model has " + std::to_string(layers));
  }
  if (auto it = file.metadata.find("uma_model"); it != file.metadata.end()) {
    std::string mine = model_fingerprint(model);
    if (it->second != mine) fail("it was made by the model '" + it->second + "', this one is '" + mine + "'");
  }
  CacheList expected = model.make_cache(max_kv_size);
  int offset = file.caches[0]->offset();
  for (int i = 0; i < layers; ++i) {
    const KVCache& c = *file.caches[i];
    std::string li = "layer " + std::to_string(i) + ": ";
    if (auto* rot = dynamic_cast<const RotatingKVCache*>(expected[i].get())) {
      auto* got = dynamic_cast<const RotatingKVCache*>(&c);
      if (!got || got->max_size() != rot->max_size() || got->keep() != rot->keep()) {
        std::string has = got ? "a RotatingKVCache of max_size " + std::to_string(got->max_size()) + " keeping " +
                                    std::to_string(got->keep())
                              : "a " + c.class_name();
        fail(li + "the file holds " + has + ", the model needs a RotatingKVCache of max_size " +
             std::to_string(rot->max_size()) + " keeping " + std::to_string(rot->keep()) +
             " (sliding window or --max-kv-size)");
      }
    } else if (!dynamic_cast<const StandardKVCache*>(&c) && !dynamic_cast<const QuantizedKVCache*>(&c)) {
      fail(li + "the file holds a " + c.class_name() + ", the model needs a KVCache" +
           (max_kv_size ? "" : " (was the file made with --max-kv-size?)"));
    }
    auto state = c.saved_state();
    const array& k = state[0].second;
    int heads = k.shape(1), dim = k.shape(3);
    Dtype t = k.dtype();
    if (auto* q = dynamic_cast<const QuantizedKVCache*>(&c)) {
      dim = k.shape(3) * 32 / q->bits();
      t = state[1].second.dtype();  // the scales
    }
    if (k.shape(0) != 1) fail(li + "batch " + std::to_string(k.shape(0)) + ", uma continues batch 1");
    if (model.kv_heads() > 0 && heads != model.kv_heads()) {
      fail(li + std::to_string(heads) + " KV heads, the model has " + std::to_string(model.kv_heads()));
    }
    if (model.kv_head_dim() > 0 && dim != model.kv_head_dim()) {
      fail(li + "head_dim " + std::to_string(dim) + ", the model's is " + std::to_string(model.kv_head_dim()));
    }
    if (t != dtype) {
      fail(li + "the cache is " + dtype_name(t) + ", the model computes in " + dtype_name(dtype) +
           " (match --dtype to the one the file was made with)");
    }
    if (c.offset() != offset) {
      fail(li + "holds " + std::to_string(c.offset()) + " tokens, layer 0 " + std::to_string(offset));
    }
  }
  if (file.tokens && int(file.tokens->size()) != offset) {
    fail("its uma_tokens list has " + std::to_string(file.tokens->size()) + " ids for " + std::to_string(offset) +
         " cached tokens");
  }
  if (file.tokens) {
    for (int t : *file.tokens) {
      if (t < 0 || t >= model.vocab_size()) fail("token id " + std::to_string(t) + " is outside the vocabulary");
    }
  }
}

}  // namespace uma::lm
