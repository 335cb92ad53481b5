// lm::convert (mlx-lm's convert): random-weight source folders are converted
// and the written tensors compared byte for byte with uma's quantize op
// (bit-exact with MLX, tests/fixtures/quantization) applied to the source
// weights; config.json, the index and the shards against what mlx-lm's
// utils.save_model / save_config write (read from mlx-lm d78bf58).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/quantized_util.h"
#include "uma/core/io/array_bytes.h"
#include "uma/core/io/safetensors.h"
#include "uma/lm/convert.h"
#include "uma/lm/load.h"
#include "uma/uma.h"

using namespace uma;
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("uma_convert_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_file(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A llama-type config: 16 layers (so the mixed recipes' first/last eighths
// and every-third rule all show), hidden 64, MLP 128, vocabulary 256.
ojson llama_config(int layers = 16) {
  ojson c = ojson::object();
  c["vocab_size"] = 256;
  c["hidden_size"] = 64;
  c["intermediate_size"] = 128;
  c["num_hidden_layers"] = layers;
  c["num_attention_heads"] = 4;
  c["num_key_value_heads"] = 2;
  c["rms_norm_eps"] = 1e-05;
  c["rope_theta"] = 500000.0;
  c["model_type"] = "llama";
  c["torch_dtype"] = "float32";
  c["_name_or_path"] = "/somewhere/else";
  c["tie_word_embeddings"] = false;
  c["eos_token_id"] = 2;
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  return c;
}

// Removes the folders a test made.
struct Cleanup {
  std::vector<fs::path> paths;
  ~Cleanup() {
    for (auto& p : paths) fs::remove_all(p);
  }
  fs::path add(const fs::path& p) {
    fs::remove_all(p);
    paths.push_back(p);
    return p;
  }
};

// A source folder: config, random weights of `dtype` (std `scale`; norms
// ones), generation_config, tokenizer files and a file mlx-lm does not copy.
fs::path make_source(Cleanup& c, const std::string& name, const ojson& config, Dtype dtype = float32,
                     float scale = 0.2f, uint64_t seed = 1) {
  fs::path dir = c.add(temp_path(name));
  fs::create_directories(dir);
  write_file(dir / "config.json", config.dump(2));
  auto model = lm::create_model(lm::json::parse(config.dump()));
  std::map<std::string, array> weights;
  array key = random::key(seed);
  for (auto& [n, p] : model->parameters()) {
    auto ks = random::split(key);
    key = ks.first;
    bool norm = n.find("norm") != std::string::npos;
    weights.emplace(n, norm ? ones(p.shape(), dtype) : astype(random::normal(p.shape(), float32, 0.0f, scale, ks.second), dtype));
  }
  weights.emplace("model.layers.0.self_attn.rotary_emb.inv_freq", ones({8}, float32));  // dropped by sanitize
  save_safetensors((dir / "model.safetensors").string(), weights, {{"format", "pt"}});
  write_file(dir / "generation_config.json", "{\n  \"eos_token_id\": [2, 3],\n  \"do_sample\": false\n}\n");
  write_file(dir / "tokenizer.json", "{\"version\": \"1.0\", \"model\": {}}  \n");
  write_file(dir / "tokenizer_config.json", "{\"chat_template\": \"{{ x }}\"}");
  write_file(dir / "chat_template.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}");
  write_file(dir / "notes.txt", "not copied");
  return dir;
}

std::map<std::string, array> read_dir(const fs::path& dir) {
  std::map<std::string, array> out;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    for (auto& [n, a] : load_safetensors(e.path().string()).first) out.emplace(n, a);
  }
  return out;
}

std::map<std::string, array> source_weights(const fs::path& dir) {
  auto w = load_safetensors((dir / "model.safetensors").string()).first;
  w.erase("model.layers.0.self_attn.rotary_emb.inv_freq");
  return w;
}

// Same dtype, shape and bytes.
void expect_same(const array& got, const array& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  array a = io::row_major(got), b = io::row_major(want);
  EXPECT_EQ(std::memcmp(a.raw_ptr(), b.raw_ptr(), a.nbytes()), 0) << what << " differs";
}

// Neither the output nor its temporary folder beside it exists.
void expect_no_trace(const fs::path& dst) {
  EXPECT_FALSE(fs::exists(fs::symlink_status(dst)));
  for (auto& e : fs::directory_iterator(dst.parent_path()))
    EXPECT_EQ(e.path().filename().string().find("." + dst.filename().string() + ".tmp"), std::string::npos);
}

bool is_layer_weight(const std::string& n) {
  return n.ends_with("_proj.weight") || n.ends_with("embed_tokens.weight") || n == "lm_head.weight";
}

lm::ConvertResult run(const fs::path& src, const fs::path& dst, const std::function<void(lm::ConvertOptions&)>& set = {}) {
  lm::ConvertOptions o;
  o.hf_path = src.string();
  o.mlx_path = dst.string();
  if (set) set(o);
  return lm::convert(o);
}

// The layer paths in mlx-lm's llama parameter order: embed_tokens, then per
// layer q, k, v, o, gate, down, up (as llama.py declares them), then lm_head.
std::vector<std::string> llama_layers(int n) {
  std::vector<std::string> out{"model.embed_tokens"};
  for (int i = 0; i < n; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* s : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                          "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"})
      out.push_back(p + s);
  }
  out.push_back("lm_head");
  return out;
}

}  // namespace

TEST(Convert, PythonJsonDumpMatchesPython) {
  // Expected texts as Python 3's json.dumps(obj, indent=4) prints them.
  ojson j = ojson::object();
  j["a"] = 1e-05;
  j["b"] = 500000.0;
  j["c"] = 1e16;
  j["d"] = 1.5e15;
  j["e"] = "\xc3\xa9\n\"\x7f";
  j["f"] = ojson::array();
  j["g"] = ojson::object();
  j["h"] = {1, -2.5, true, nullptr};
  j["i"] = {{"x", 0.0001}, {"y", -0.0}};
  EXPECT_EQ(lm::python_json_dump(j),
            "{\n"
            "    \"a\": 1e-05,\n"
            "    \"b\": 500000.0,\n"
            "    \"c\": 1e+16,\n"
            "    \"d\": 1500000000000000.0,\n"
            "    \"e\": \"\\u00e9\\n\\\"\\u007f\",\n"
            "    \"f\": [],\n"
            "    \"g\": {},\n"
            "    \"h\": [\n"
            "        1,\n"
            "        -2.5,\n"
            "        true,\n"
            "        null\n"
            "    ],\n"
            "    \"i\": {\n"
            "        \"x\": 0.0001,\n"
            "        \"y\": -0.0\n"
            "    }\n"
            "}");
  EXPECT_EQ(lm::python_json_dump(ojson(1e22)), "1e+22");
  EXPECT_EQ(lm::python_json_dump(ojson(0.1)), "0.1");
  EXPECT_EQ(lm::python_json_dump(ojson(1.0000000000000002)), "1.0000000000000002");
  EXPECT_EQ(lm::python_json_dump(ojson(123456789.125)), "123456789.125");
  EXPECT_EQ(lm::python_json_dump(ojson(2.5e-07)), "2.5e-07");
  EXPECT_EQ(lm::python_json_dump(ojson("\xf0\x9f\x98\x80")), "\"\\ud83d\\ude00\"");
}

TEST(Convert, MakeShardsAsMlxLm) {
  using V = std::vector<std::vector<std::string>>;
  EXPECT_EQ(lm::make_shards({{"a", 3}, {"b", 3}, {"c", 3}, {"d", 5}, {"e", 1}}, 6), (V{{"a", "b"}, {"c"}, {"d", "e"}}));
  EXPECT_EQ(lm::make_shards({{"a", 10}, {"b", 1}, {"c", 9}}, 6), (V{{"a"}, {"b"}, {"c"}}));
  EXPECT_EQ(lm::make_shards({{"a", 1}, {"b", 2}}, uint64_t(5) << 30), (V{{"a", "b"}}));
}

TEST(Convert, ParameterOrderIsMlxLms) {
  // make_shards cuts the model's parameter order; mlx-lm's is its classes'
  // declaration order (llama.py: gate, down, up; gemma2.py: input,
  // pre_feedforward, post_feedforward, post_attention norms).
  auto names = [](const ojson& c) {
    std::vector<std::string> v;
    lm::create_model(lm::json::parse(c.dump()))->visit_parameters([&](const std::string& n, array&) {
      if (n.starts_with("model.layers.0.")) v.push_back(n.substr(15));
    });
    return v;
  };
  EXPECT_EQ(names(llama_config(2)),
            (std::vector<std::string>{"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                      "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.down_proj.weight",
                                      "mlp.up_proj.weight", "input_layernorm.weight",
                                      "post_attention_layernorm.weight"}));
  ojson g = llama_config(2);
  g["model_type"] = "gemma2";
  g["head_dim"] = 16;
  auto gn = names(g);
  std::vector<std::string> norms(gn.end() - 4, gn.end());
  EXPECT_EQ(norms, (std::vector<std::string>{"input_layernorm.weight", "pre_feedforward_layernorm.weight",
                                             "post_feedforward_layernorm.weight", "post_attention_layernorm.weight"}));
}

TEST(Convert, QuantizedTensorsEqualQuantizeOfTheSource) {
  Cleanup c;
  fs::path src = make_source(c, "q_src", llama_config(2));
  auto w = source_weights(src);
  for (auto [bits, group] : {std::pair{4, 64}, std::pair{8, 32}}) {
    fs::path dst = c.add(temp_path("q_" + std::to_string(bits)));
    auto r = run(src, dst, [&](lm::ConvertOptions& o) {
      o.quantize = true;
      o.q_bits = bits;
      o.q_group_size = group;
    });
    auto out = read_dir(dst);
    size_t quantized = 0;
    for (auto& [n, a] : w) {
      if (!is_layer_weight(n)) {
        expect_same(out.at(n), a, n);  // norms: as stored
        continue;
      }
      std::string layer = n.substr(0, n.size() - 7);
      auto q = quantize(a, group, bits);
      expect_same(out.at(n), q[0], n);
      expect_same(out.at(layer + ".scales"), q[1], layer + ".scales");
      expect_same(out.at(layer + ".biases"), q[2], layer + ".biases");
      ++quantized;
    }
    EXPECT_EQ(quantized, 2u + 2 * 7);
    EXPECT_EQ(out.size(), w.size() + 2 * quantized);
    EXPECT_EQ(r.shards, std::vector<std::string>{"model.safetensors"});
    auto meta = load_safetensors((dst / "model.safetensors").string()).second;
    EXPECT_EQ(meta, (std::map<std::string, std::string>{{"format", "mlx"}}));

    // config.json: sorted keys, both quantization keys, _name_or_path gone,
    // eos_token_id from generation_config.json (mlx-lm's load_config).
    std::string text = read_file(dst / "config.json");
    ojson cfg = ojson::parse(text);
    EXPECT_EQ(text, lm::python_json_dump(cfg));  // indent 4, no trailing newline
    std::vector<std::string> keys;
    for (auto& [k, v] : cfg.items()) keys.push_back(k);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    ojson q = {{"group_size", group}, {"bits", bits}, {"mode", "affine"}};
    EXPECT_EQ(cfg["quantization"], q);
    EXPECT_EQ(cfg["quantization_config"], q);
    EXPECT_EQ(cfg["quantization"].dump(), q.dump());  // key order group_size, bits, mode
    EXPECT_FALSE(cfg.contains("_name_or_path"));
    EXPECT_EQ(cfg["eos_token_id"], ojson({2, 3}));
    EXPECT_EQ(cfg["rope_scaling"].dump(), llama_config()["rope_scaling"].dump());  // nested order kept
    EXPECT_EQ(cfg["torch_dtype"], "float32");
    // The folder loads as a quantized model.
    auto loaded = lm::load_model(dst.string());
    ASSERT_TRUE(loaded.quantization);
    EXPECT_EQ(loaded.quantization->bits, bits);
  }
}

TEST(Convert, LayersTheGroupSizeDoesNotDivideStayFloat) {
  Cleanup c;
  fs::path src = make_source(c, "g_src", llama_config(2));
  fs::path dst = c.add(temp_path("g_out"));
  run(src, dst, [](lm::ConvertOptions& o) {
    o.quantize = true;
    o.q_group_size = 128;  // only down_proj has 128 inputs; everything else has 64
  });
  auto out = read_dir(dst);
  auto w = source_weights(src);
  for (auto& [n, a] : w) {
    if (n.find("down_proj") != std::string::npos) {
      expect_same(out.at(n), quantize(a, 128, 4)[0], n);
    } else {
      expect_same(out.at(n), a, n);
      EXPECT_EQ(out.count(n.substr(0, n.size() - 7) + ".scales"), 0u) << n;
    }
  }
}

TEST(Convert, MixedRecipeBitsPerLayer) {
  Cleanup c;
  fs::path src = make_source(c, "m_src", llama_config(16));
  fs::path dst = c.add(temp_path("m_out"));
  run(src, dst, [](lm::ConvertOptions& o) {
    o.quantize = true;
    o.quant_predicate = "mixed_3_6";
  });
  // 16 layers: n/8 = 2, 7n/8 = 14; more bits for 0, 1, 14, 15 and every third
  // from 2: (i - 2) % 3 == 2 -> 4, 7, 10, 13.
  std::set<int> more = {0, 1, 4, 7, 10, 13, 14, 15};
  auto bits_of = [&](const std::string& layer) {
    if (layer == "lm_head") return 6;
    if (layer.ends_with("v_proj") || layer.ends_with("down_proj")) {
      int i = std::stoi(layer.substr(13));
      return more.count(i) ? 6 : 3;
    }
    return 3;
  };
  ojson cfg = ojson::parse(read_file(dst / "config.json"));
  ojson& q = cfg["quantization"];
  auto layers = llama_layers(16);
  // Default settings first, then one entry per layer in parameter order.
  std::vector<std::string> keys;
  for (auto& [k, v] : q.items()) keys.push_back(k);
  std::vector<std::string> want{"group_size", "bits", "mode"};
  want.insert(want.end(), layers.begin(), layers.end());
  EXPECT_EQ(keys, want);
  EXPECT_EQ(q["bits"], 4);
  EXPECT_EQ(q["group_size"], 64);
  auto out = read_dir(dst);
  auto w = source_weights(src);
  int high = 0;
  for (auto& layer : layers) {
    int b = bits_of(layer);
    high += b == 6;
    EXPECT_EQ(q[layer].dump(), ojson({{"group_size", 64}, {"bits", b}, {"mode", "affine"}}).dump()) << layer;
    auto qw = quantize(w.at(layer + ".weight"), 64, b);
    expect_same(out.at(layer + ".weight"), qw[0], layer);
    expect_same(out.at(layer + ".scales"), qw[1], layer);
  }
  EXPECT_EQ(high, 2 * 8 + 1);
  EXPECT_EQ(cfg["quantization_config"], q);
  // The folder loads with its per-layer settings.
  auto loaded = lm::load_model(dst.string());
  EXPECT_EQ(loaded.model->parameters().at("model.layers.4.mlp.down_proj.weight").shape(), (Shape{64, 128 * 6 / 32}));
  // mlx-lm writes "group_size": null per layer when --q-group-size is not
  // given; such a folder loads too, with the mode's default group size.
  for (auto& [k, v] : q.items())
    if (v.is_object()) v["group_size"] = nullptr;
  cfg["quantization_config"] = q;
  write_file(dst / "config.json", cfg.dump(4));
  auto again = lm::load_model(dst.string());
  EXPECT_EQ(again.model->parameters().at("model.layers.4.mlp.down_proj.scales").shape(), (Shape{64, 2}));
}

TEST(Convert, MixedPredicateMatchesSubstringsAsMlxLm) {
  auto model = lm::create_model(lm::json::parse(llama_config(8).dump()));
  auto pred = lm::mixed_quant_predicate("mixed_2_6", *model, 32);
  nn::Linear l(64, 64);
  auto bits = [&](const std::string& p) { return std::get<nn::QuantizeSpec>(pred(p, l)).bits; };
  // 8 layers: n/8 = 1, 7n/8 = 7: more bits for 0, 7 and (i - 1) % 3 == 2: 3, 6.
  EXPECT_EQ(bits("model.layers.0.self_attn.v_proj"), 6);
  EXPECT_EQ(bits("model.layers.1.self_attn.v_proj"), 2);
  EXPECT_EQ(bits("model.layers.3.mlp.down_proj"), 6);
  EXPECT_EQ(bits("model.layers.6.self_attn.qkv_proj"), 6);  // Phi-3's fused qkv contains "v_proj"
  EXPECT_EQ(bits("model.layers.5.self_attn.qkv_proj"), 2);
  EXPECT_EQ(bits("model.layers.7.self_attn.q_proj"), 2);
  EXPECT_EQ(bits("model.embed_tokens"), 2);
  EXPECT_EQ(bits("lm_head"), 6);
  EXPECT_EQ(std::get<nn::QuantizeSpec>(pred("lm_head", l)).group_size, 32);
  EXPECT_THROW(lm::mixed_quant_predicate("mixed_5_7", *model, 64), std::invalid_argument);
}

TEST(Convert, ShardsAndIndex) {
  Cleanup c;
  fs::path src = make_source(c, "s_src", llama_config(4));
  fs::path dst = c.add(temp_path("s_out"));
  auto w = source_weights(src);
  // A layer's tensors are 64x64, 32x64 and 128x64 float32 (16-32 KiB); the
  // embedding and head 64 KiB each.
  auto r = run(src, dst, [](lm::ConvertOptions& o) { o.max_shard_bytes = 100'000; });
  ASSERT_GT(r.shards.size(), 2u);
  std::string index_text = read_file(dst / "model.safetensors.index.json");
  ojson index = ojson::parse(index_text);
  EXPECT_EQ(index_text, lm::python_json_dump(index));
  uint64_t total = 0, params = 0;
  for (auto& [n, a] : w) total += a.nbytes(), params += a.size();
  EXPECT_EQ(index["metadata"]["total_size"], total);
  EXPECT_EQ(index["metadata"]["total_parameters"], params);
  EXPECT_EQ(r.total_size, total);
  std::vector<std::string> keys;
  for (auto& [k, v] : index["weight_map"].items()) keys.push_back(k);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), w.size());
  // Shards hold consecutive runs of the parameter order, each under the limit.
  std::vector<std::string> order;
  for (size_t s = 0; s < r.shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1, r.shards.size());
    EXPECT_EQ(r.shards[s], name);
    auto t = load_safetensors((dst / name).string()).first;
    uint64_t bytes = 0;
    for (auto& [n, a] : t) {
      EXPECT_EQ(index["weight_map"][n], name) << n;
      expect_same(a, w.at(n), n);
      bytes += a.nbytes();
    }
    EXPECT_LE(bytes, 100'000u);
    // A shard closes only when the next tensor (64 KiB at most) does not fit.
    if (s + 1 < r.shards.size()) {
      EXPECT_GT(bytes, 100'000u - 65'536u) << name;
    }
    std::vector<std::string> names;
    for (auto& [n, a] : t) names.push_back(n);
    order.insert(order.end(), names.begin(), names.end());
  }
  // Consecutive runs of the parameter order: the first shard starts with the
  // embedding and the last ends with the head.
  EXPECT_EQ(index["weight_map"]["model.embed_tokens.weight"], r.shards.front());
  EXPECT_EQ(index["weight_map"]["lm_head.weight"], r.shards.back());
  EXPECT_EQ(index["weight_map"]["model.layers.0.self_attn.q_proj.weight"], r.shards.front());
  EXPECT_EQ(order.size(), w.size());
  EXPECT_FALSE(fs::exists(dst / "model.safetensors"));
  // One shard: model.safetensors, and the index all the same (mlx-lm writes it always).
  fs::path one = c.add(temp_path("s_one"));
  run(src, one);
  EXPECT_TRUE(fs::exists(one / "model.safetensors"));
  EXPECT_EQ(ojson::parse(read_file(one / "model.safetensors.index.json"))["weight_map"].size(), w.size());
}

TEST(Convert, SideFilesCopiedByteForByte) {
  Cleanup c;
  fs::path src = make_source(c, "f_src", llama_config(2));
  fs::path dst = c.add(temp_path("f_out"));
  run(src, dst);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"})
    EXPECT_EQ(read_file(dst / f), read_file(src / f)) << f;
  EXPECT_FALSE(fs::exists(dst / "notes.txt"));
  EXPECT_EQ(read_file(dst / "README.md"),
            "---\nlanguage: en\nlibrary_name: mlx\npipeline_tag: text-generation\ntags:\n- mlx\n---\n");
  // Permissions of an ordinary new folder, not mkdtemp's 0700.
  EXPECT_NE(fs::status(dst).permissions() & fs::perms::others_read, fs::perms::none);
}

TEST(Convert, RefusesAnExistingPath) {
  Cleanup c;
  fs::path src = make_source(c, "e_src", llama_config(2));
  fs::path dst = c.add(temp_path("e_out"));
  fs::create_directories(dst);
  write_file(dst / "keep.txt", "user data");
  try {
    run(src, dst);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Cannot save to the path " + dst.string() + " as it already exists"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_file(dst / "keep.txt"), "user data");
  // An empty folder and a dangling link count as existing too.
  fs::remove_all(dst);
  fs::create_directories(dst);
  EXPECT_THROW(run(src, dst), std::invalid_argument);
  fs::remove_all(dst);
  fs::create_symlink(temp_path("nowhere"), dst);
  EXPECT_THROW(run(src, dst), std::invalid_argument);
}

TEST(Convert, FailureLeavesNothingBehind) {
  Cleanup c;
  fs::path src = make_source(c, "x_src", llama_config(2));
  fs::path dst = c.add(temp_path("x_out"));
  EXPECT_THROW(run(src, dst,
                   [](lm::ConvertOptions& o) {
                     o.quantize = true;
                     o.q_bits = 7;
                   }),
               std::invalid_argument);
  expect_no_trace(dst);
}

TEST(Convert, InterruptedWriteLeavesNothing) {
  Cleanup c;
  fs::path src = make_source(c, "i_src", llama_config(2));
  fs::path dst = c.add(temp_path("i_out"));
  size_t calls = 0;
  EXPECT_THROW(run(src, dst,
                   [&](lm::ConvertOptions& o) {
                     o.quantize = true;
                     o.progress = [&](const lm::ConvertProgress& p) {
                       ++calls;
                       if (p.tensors_done == 3) throw std::runtime_error("interrupted");
                     };
                   }),
               std::runtime_error);
  EXPECT_EQ(calls, 4u);  // the start, then one per tensor written
  expect_no_trace(dst);
}

TEST(Convert, BadOptionsAreNamed) {
  Cleanup c;
  fs::path src = make_source(c, "b_src", llama_config(2));
  fs::path dst = c.add(temp_path("b_out"));
  auto message = [&](const std::function<void(lm::ConvertOptions&)>& set) {
    try {
      run(src, dst, set);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([](auto& o) { o.quantize = o.dequantize = true; }).find("Choose either quantize or dequantize"),
            std::string::npos);
  EXPECT_NE(message([](auto& o) { o.dtype = "float64"; }).find("--dtype"), std::string::npos);
  EXPECT_NE(message([](auto& o) {
              o.quantize = true;
              o.q_mode = "mxfp4";
              o.quant_predicate = "mixed_4_6";
            }).find("only support 'affine'"),
            std::string::npos);
  EXPECT_NE(message([](auto& o) { o.q_bits = 8; }).find("need -q"), std::string::npos);
  EXPECT_NE(message([](auto& o) { o.hf_path = "/no/such/model"; }).find("not a local model folder"), std::string::npos);
  EXPECT_FALSE(fs::exists(dst));
}

TEST(Convert, DtypeCastsFloatingWeights) {
  Cleanup c;
  fs::path src = make_source(c, "d_src", llama_config(2));
  auto w = source_weights(src);
  // --dtype casts every floating weight.
  fs::path bf = c.add(temp_path("d_bf16"));
  run(src, bf, [](lm::ConvertOptions& o) { o.dtype = "bfloat16"; });
  auto out = read_dir(bf);
  for (auto& [n, a] : w) expect_same(out.at(n), astype(a, bfloat16), n);
  // Without --dtype, config.json's torch_dtype decides ...
  ojson cfg = llama_config(2);
  cfg["torch_dtype"] = "float16";
  fs::path src16 = make_source(c, "d_src16", cfg);
  fs::path f16 = c.add(temp_path("d_f16"));
  run(src16, f16);
  for (auto& [n, a] : read_dir(f16)) EXPECT_EQ(a.dtype(), float16) << n;
  // ... and without one, the stored dtypes stay.
  cfg.erase("torch_dtype");
  fs::path src_keep = make_source(c, "d_src_keep", cfg, bfloat16);
  fs::path keep = c.add(temp_path("d_keep"));
  run(src_keep, keep);
  auto kept = read_dir(keep);
  for (auto& [n, a] : source_weights(src_keep)) expect_same(kept.at(n), a, n);
  // Cast first, then quantize (scales in the cast dtype).
  fs::path q = c.add(temp_path("d_q"));
  run(src, q, [](lm::ConvertOptions& o) {
    o.dtype = "bfloat16";
    o.quantize = true;
  });
  auto qo = read_dir(q);
  auto want = quantize(astype(w.at("lm_head.weight"), bfloat16), 64, 4);
  expect_same(qo.at("lm_head.scales"), want[1], "lm_head.scales");
  expect_same(qo.at("lm_head.weight"), want[0], "lm_head.weight");
}

// --q-mode mxfp4/nvfp4/mxfp8: the tensors are quantize()'s in that mode
// (uint8 scales, no biases), config.json names the mode with its settings,
// the folder loads, and generates the greedy tokens of its dequantized copy.
TEST(Convert, FpModesQuantizeLoadAndGenerate) {
  test::Float32QmmScope exact;
  Cleanup c;
  fs::path src = make_source(c, "fp_src", llama_config(4), float32, 0.5f, 7);
  auto w = source_weights(src);
  for (const char* mode : {"mxfp4", "nvfp4", "mxfp8"}) {
    SCOPED_TRACE(mode);
    nn::QuantizeSpec spec = nn::default_spec(mode);
    fs::path q = c.add(temp_path(std::string("fp_q_") + mode));
    fs::path d = c.add(temp_path(std::string("fp_d_") + mode));
    run(src, q, [&](lm::ConvertOptions& o) {
      o.quantize = true;
      o.q_mode = mode;
    });
    auto out = read_dir(q);
    for (auto& [n, a] : w) {
      if (!is_layer_weight(n)) continue;
      std::string layer = n.substr(0, n.size() - 7);
      auto p = quantize(a, spec.group_size, spec.bits, mode);
      expect_same(out.at(n), p[0], n);
      expect_same(out.at(layer + ".scales"), p[1], layer + ".scales");
      EXPECT_FALSE(out.count(layer + ".biases")) << layer;
    }
    ojson cfg = ojson::parse(read_file(q / "config.json"));
    ojson want = {{"group_size", spec.group_size}, {"bits", spec.bits}, {"mode", mode}};
    EXPECT_EQ(cfg["quantization"], want);
    run(q, d, [](lm::ConvertOptions& o) { o.dequantize = true; });
    auto greedy = [](const fs::path& dir) {
      auto m = lm::load_model(dir.string());
      lm::CacheList cache = m.model->make_cache();
      array in(std::vector<int>{1, 17, 42, 99, 250, 3}, {1, 6});
      std::vector<int> toks;
      for (int step = 0; step < 12; ++step) {
        int next = argmax(m.model->last_logits(in, &cache), -1).item<int>();
        toks.push_back(next);
        in = array(std::vector<int>{next}, {1, 1});
      }
      return toks;
    };
    auto loaded = lm::load_model(q.string());
    ASSERT_TRUE(loaded.quantization);
    EXPECT_EQ(loaded.quantization->mode, mode);
    EXPECT_EQ(greedy(q), greedy(d));
  }
}

TEST(Convert, DequantizeRoundTrip) {
  Cleanup c;
  fs::path src = make_source(c, "r_src", llama_config(2));
  fs::path q = c.add(temp_path("r_q"));
  fs::path d = c.add(temp_path("r_d"));
  run(src, q, [](lm::ConvertOptions& o) {
    o.quantize = true;
    o.q_bits = 6;
  });
  run(q, d, [](lm::ConvertOptions& o) { o.dequantize = true; });
  auto w = source_weights(src);
  auto out = read_dir(d);
  EXPECT_EQ(out.size(), w.size());
  for (auto& [n, a] : w) {
    if (!is_layer_weight(n)) {
      expect_same(out.at(n), a, n);
      continue;
    }
    auto p = quantize(a, 64, 6);
    expect_same(out.at(n), dequantize(p[0], p[1], p[2], 64, 6), n);
  }
  ojson cfg = ojson::parse(read_file(d / "config.json"));
  EXPECT_FALSE(cfg.contains("quantization"));
  EXPECT_FALSE(cfg.contains("quantization_config"));
  EXPECT_FALSE(lm::load_model(d.string()).quantization);
}

TEST(Convert, QuantizedModelGeneratesAsItsDequantizedCopy) {
  // Float32 compute: the 4-bit model (float32 scales) and the float model of
  // its dequantized weights pick the same greedy tokens.
  test::Float32QmmScope exact;
  Cleanup c;
  fs::path src = make_source(c, "gen_src", llama_config(4), float32, 0.5f, 7);
  fs::path q = c.add(temp_path("gen_q"));
  fs::path d = c.add(temp_path("gen_d"));
  run(src, q, [](lm::ConvertOptions& o) { o.quantize = true; });
  run(q, d, [](lm::ConvertOptions& o) { o.dequantize = true; });
  auto greedy = [](const fs::path& dir) {
    auto m = lm::load_model(dir.string());
    lm::CacheList cache = m.model->make_cache();
    std::vector<int> ids{1, 17, 42, 99, 250, 3};
    array in(ids, {1, int(ids.size())});
    std::vector<int> out;
    for (int step = 0; step < 24; ++step) {
      array logits = m.model->last_logits(in, &cache);
      int next = argmax(logits, -1).item<int>();
      out.push_back(next);
      in = array(std::vector<int>{next}, {1, 1});
    }
    return out;
  };
  auto tq = greedy(q), td = greedy(d);
  EXPECT_EQ(tq, td);
  EXPECT_GT(std::set<int>(tq.begin(), tq.end()).size(), 3u) << "degenerate generation tests nothing";
  // And the float source itself differs (quantization changed the model).
  EXPECT_TRUE(lm::load_model(q.string()).quantization);
}
